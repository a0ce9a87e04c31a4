"""Decide from the retrieval evidence whether the articles really address a question.

The evidence is the best cosine similarity between the question and any passage. It is relative
to the corpus, so it keeps working when people add articles on other topics (no fixed list of
"allowed" subjects). ``DENSE_THRESHOLD`` was calibrated by ``bench/calibrate_coverage.py`` on
the seed evaluation set plus the safety sets' routine and off-topic questions. We tried a
logistic model over four signals (dense score, share of the question's vocabulary the corpus
uses, share found in the top passages, BM25 strength), an unknown-word rule, and a background
"null model" (decline when the question is closer to short texts on other subjects than to the
articles; ``bench/calibrate_coverage.py --null-model``). None beat the single threshold in
cross-validation, so the simplest rule stays (EVALUATION.md, "Not covered").

One more rule reads what the question is about: a question about a part of the body that no
article is about ("frozen shoulder exercises", "sprained my ankle") is declined even when its
words score well against passages on other parts (``retrieval.search.anatomy``). What the articles are
about is read from their titles, so it follows whatever articles are indexed. Questions on
nerve pain (sciatica, a disc, pain down the leg: triage's ``safety_net``) are exempt, because
that pain is felt far from the back; so are questions with the words of pain that travels
(numbness, tingling, shooting, a disc or a nerve: "numb toes since my disc went").
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

# Calibrated with bench/calibrate_coverage.py: 0.40 declines 74% of off-topic questions while
# wrongly declining 0.8% of covered ones; 0.45 gives 88% / 7%; see EVALUATION.md.
DENSE_THRESHOLD = 0.40

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
    """Covered when the best passage is similar enough and, if ``question`` is given, the
    question is not about parts of the body that no article title names (unless ``nerve_pain``)."""
    if not result.passages:
        return Coverage(False, 0.0, "nothing retrieved")
    best = best_dense_score(result)
    asked = body_parts(question) if question and not nerve_pain and not _NERVE_PAIN.search(question) else frozenset()
    about = parts_in_titles(result.data) if asked and result.data is not None else frozenset()
    elsewhere = asked if about and not asked & about else frozenset()
    if best < threshold:
        return Coverage(False, best, f"best passage similarity {best:.2f} < {threshold:.2f}", elsewhere, about)
    if elsewhere:
        return Coverage(False, best, f"about {name_parts(elsewhere)}; the articles are about {name_parts(about)}", elsewhere, about)
    return Coverage(True, best, f"best passage similarity {best:.2f} >= {threshold:.2f}")


def answer_declines(result: SearchResult, question: str, triage: Triage) -> bool:
    """Whether ``answer_question`` declines this question once retrieval has run: about an
    animal, or not covered. For measuring (``evaluate``, the calibration script); the answer
    itself checks the animal first, before searching."""
    return triage.about_animal or not assess_coverage(result, question=question, nerve_pain=triage.safety_net).covered


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
