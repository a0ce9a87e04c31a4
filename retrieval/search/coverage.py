"""Decide from the retrieval evidence whether the articles really address a question.

The evidence is the best cosine similarity between the question and any passage, from the
fine-tuned relevance encoder. It is relative to the corpus, so it keeps working when people add
articles on other topics (no fixed list of "allowed" subjects). ``DENSE_THRESHOLD`` was chosen on
writers the encoder never learned from (``encoder_holdout`` in writer_split.yaml: seed writer C
and consumer writer z) and on not-covered questions nobody tuned on (seed writers A, C, D, E,
and the not-covered writer N2 over consumer corpora c and k): EVALUATION.md, "Not covered,
second round". The rule: wrongly decline at most about 3% of those answerable questions.

The question's body parts are read too (``retrieval.search.anatomy``): a question about a part
of the body no article title names ("my knee hurts on the stairs") is declined only when its best
passage is also weak (below ``OTHER_PART_THRESHOLD``), and the reply says why ("The articles
here are about the back and the legs, not the knee"). Declining every such question, whatever
its score, cost 3-5% of answerable questions on new consumer corpora (a stiff neck, chairs,
pillows); below 0.40 it costs 2 of 902 development writers' answerable questions and declines 3
more of the seed writer's 50 not-covered ones (EVALUATION.md, "Not covered, 2026-12-07").
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from retrieval.index import IndexData
from retrieval.search.anatomy import body_parts, name_parts
from retrieval.search.results import SearchResult

if TYPE_CHECKING:
    from retrieval.safety import Triage

# On the held-out writers' answerable questions (seed C, consumer z; 337): 0.25 wrongly declines
# 2.7% of them on its own score, and declines 55-86% of not-covered ones (consumer corpora to seed
# articles, the body-part rule included); 0.30, chosen on the first round's development writers,
# declined 11.9% of these answerable ones (1.7% of the first round's): it did not hold on new writers.
DENSE_THRESHOLD = 0.25
# A question about a part of the body no article is about is declined below this (0.35 and 0.45
# declined as many not-covered questions on the development writers; 0.40 also catches the
# common ones that score between, e.g. "frozen shoulder exercises" 0.39 on the seed articles).
OTHER_PART_THRESHOLD = 0.40

# Pain that travels from the spine: a question with these words is not declined for naming
# only another part of the body ("numb toes since my disc went").
_NERVE_PAIN = re.compile(
    r"\b(?:dis[ck]s?|sciatic\w*|nerves?|numb\w*|tingl\w*|pins and needles|radiat\w*|shoot\w*|spread(?:s|ing)?)\b", re.I
)


@dataclass(frozen=True)
class Coverage:
    covered: bool
    best_dense: float
    reason: str
    # set when the question is about parts of the body no article is about (the message names them)
    uncovered_parts: frozenset[str] = frozenset()
    covered_parts: frozenset[str] = frozenset()


def best_dense_score(result: SearchResult) -> float:
    return max((p.dense_score for p in result.candidates[:10]), default=0.0)


def assess_coverage(
    result: SearchResult, *, question: str = "", nerve_pain: bool = False, threshold: float = DENSE_THRESHOLD
) -> Coverage:
    """Covered when the best passage is similar enough, and, for a question about parts of the
    body no article title names (unless it is about nerve pain, which is felt far from the
    back), at least ``OTHER_PART_THRESHOLD``. Those parts are reported either way, for the
    reply's wording and the follow-up rule."""
    if not result.passages:
        return Coverage(False, 0.0, "nothing retrieved")
    best = best_dense_score(result)
    asked = body_parts(question) if question and not nerve_pain and not _NERVE_PAIN.search(question) else frozenset()
    about = parts_in_titles(result.data) if asked and result.data is not None else frozenset()
    elsewhere = asked if about and not asked & about else frozenset()
    if best < threshold:
        return Coverage(False, best, f"best passage similarity {best:.2f} < {threshold:.2f}", elsewhere, about)
    if elsewhere and best < max(threshold, OTHER_PART_THRESHOLD):
        reason = f"about {name_parts(elsewhere)}; the articles are about {name_parts(about)}"
        return Coverage(False, best, reason, elsewhere, about)
    return Coverage(True, best, f"best passage similarity {best:.2f} >= {threshold:.2f}", elsewhere, about)


def answer_declines(result: SearchResult, question: str, triage: Triage) -> bool:
    """Whether ``answer_question`` declines this question once retrieval has run: about an
    animal, off topic, or not covered. For measuring (``evaluate``, the calibration script); the
    answer itself checks the animal first, before searching."""
    return triage.about_animal or triage.off_topic or not assess_coverage(result, question=question, nerve_pain=triage.safety_net).covered


# id(IndexData) -> the parts its titles name; an entry goes when its generation is freed. Keyed
# per generation, so processes holding two indexes (eval, benchmarks, tests) do not recompute it
# on every question: 35 ms over 5,483 titles.
_title_parts: dict[int, frozenset[str]] = {}


def parts_in_titles(data: IndexData) -> frozenset[str]:
    """The parts of the body the indexed articles' titles name (computed once per index generation)."""
    parts = _title_parts.get(id(data))
    if parts is None:
        parts = frozenset().union(*(body_parts(doc.title) for doc in data.documents.values()))
        _title_parts[id(data)] = parts
        weakref.finalize(data, _title_parts.pop, id(data), None)
    return parts
