""""In short": the sentences of the shown passages that best answer the question, word for word,
each with the number of its passage; and which passages are only loose matches.

Nothing is written or rephrased: an "In short" sentence is a highlighted sentence of a passage,
as the article says it. A passage after the first whose similarity to the question is well below
the best one's, or under a floor, is a loose match (:class:`retrieval.config.Settings`'s
``loose_match_gap`` and ``loose_match_floor``): the chat keeps it behind "More passages" and "In
short" leaves it out. The first passage is never loose: it passed the "not covered" gate.

    >>> picked = pick_sentences([("Ice is best in the first 48 hours.", 1.6), ("Sleep on your side.", 0.7)], set())
    >>> [(s.text, s.passage) for s in picked]
    [('Ice is best in the first 48 hours.', 1)]
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from retrieval.answer.highlight import passage_sentences

if TYPE_CHECKING:
    from retrieval.search import Passage

MOST_SENTENCES = 3
# Another passage's highlight joins the best one when its score (words in common + cosine, see
# highlight.py) is at least this share of the best's (EVALUATION.md, "In short").
SHARE_OF_BEST = 0.8


@dataclass(frozen=True)
class ShortSentence:
    text: str  # one or two sentences of a passage, word for word
    passage: int  # the number of that passage in the answer (1 = the first shown)


def loose_passages(passages: Sequence[Passage], *, gap: float, floor: float) -> frozenset[int]:
    """The numbers (1-based) of the passages that are only loose matches: after the first, and
    with a similarity to the question more than ``gap`` below the best passage's or under ``floor``."""
    if not passages:
        return frozenset()
    best = max(p.dense_score for p in passages)
    return frozenset(
        number for number, passage in enumerate(passages, 1)
        if number > 1 and (passage.dense_score < best - gap or passage.dense_score < floor)
    )


def pick_sentences(highlights: Sequence[tuple[str, float]], loose: Collection[int]) -> tuple[ShortSentence, ...]:
    """From each passage's (highlight, score), in passage order: the best, then the others that
    score at least SHARE_OF_BEST of it, best first, up to MOST_SENTENCES sentences in all; loose
    passages and repeated sentences left out."""
    ranked = sorted(
        ((score, number, text) for number, (text, score) in enumerate(highlights, 1) if text and score > 0 and number not in loose),
        key=lambda item: (-item[0], item[1]),
    )
    picked: list[ShortSentence] = []
    used = 0
    for score, number, text in ranked:
        if score < SHARE_OF_BEST * ranked[0][0]:
            break
        count = len(passage_sentences(text))
        if any(text == s.text for s in picked) or used + count > MOST_SENTENCES:
            continue
        picked.append(ShortSentence(text, number))
        used += count
    return tuple(picked)
