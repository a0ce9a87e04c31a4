"""Retrieval evaluation metrics (the questions they are computed on are loaded by ``questions``).

Everything here is a pure function of its arguments (no model, no index, no I/O), so the
numbers can be checked by hand. Only the standard library
and numpy are imported.

Ranks are 1-based throughout: rank 1 is the first passage returned. ``None`` means "no relevant
passage was returned at all" and counts as a miss for every metric.

A typical evaluation loop::

    questions = load_questions("tests/eval/seed_questions.jsonl")
    answerable = [q for q in questions if q.expect == "answer"]
    relevance = [[passage_hits_phrases(p.text, q.any_of) for p in search(q.query, k=10)]
                 for q in answerable]
    print(score_rankings(relevance))
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = [
    "normalise_for_match",
    "passage_hits_phrases",
    "first_relevant_rank",
    "hit_at_k",
    "mean_reciprocal_rank",
    "ndcg_at_k",
    "RetrievalScores",
    "score_rankings",
    "DeclineScores",
    "score_declines",
]

# Typographic variants that scraped pages mix freely with their ASCII forms.
_QUOTE_AND_DASH_MAP = str.maketrans(
    {
        "\u2018": "'",  # left single quotation mark
        "\u2019": "'",  # right single quotation mark / apostrophe
        "\u201a": "'",  # single low-9 quotation mark
        "\u201b": "'",  # single high-reversed-9 quotation mark
        "\u2032": "'",  # prime
        "\u00b4": "'",  # acute accent used as an apostrophe
        "\u0060": "'",  # grave accent used as an apostrophe
        "\u201c": '"',  # left double quotation mark
        "\u201d": '"',  # right double quotation mark
        "\u201e": '"',  # double low-9 quotation mark
        "\u201f": '"',  # double high-reversed-9 quotation mark
        "\u2033": '"',  # double prime
        "\u00ab": '"',  # left-pointing double angle quotation mark
        "\u00bb": '"',  # right-pointing double angle quotation mark
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2015": "-",  # horizontal bar
        "\u2212": "-",  # minus sign
        "\u00ad": "",  # soft hyphen: invisible, so drop it
        "\u200b": "",  # zero-width space
        "\u200c": "",  # zero-width non-joiner
        "\u200d": "",  # zero-width joiner
        "\u2060": "",  # word joiner
        "\ufeff": "",  # byte-order mark / zero-width no-break space
    }
)
_WHITESPACE = re.compile(r"\s+")


def normalise_for_match(text: str) -> str:
    """Fold ``text`` into the form used for phrase matching.

    Lowercases, turns curly quotes into straight ones and every dash into ``-``, drops
    invisible characters (soft hyphen, zero-width space, BOM), and collapses every run of
    whitespace (spaces, tabs, newlines, non-breaking spaces) into one space, trimmed at both
    ends. Punctuation other than quotes and dashes is kept as it is.

    >>> normalise_for_match("  It\u2019s  a \u2018slid disc\u2019\\n\\tIS IT?  ")
    "it's a 'slid disc' is it?"
    >>> normalise_for_match("7\u2013 9 hours\u00a0of rest")
    '7- 9 hours of rest'
    >>> normalise_for_match("")
    ''
    """
    folded = text.translate(_QUOTE_AND_DASH_MAP).lower()
    return _WHITESPACE.sub(" ", folded).strip()


def passage_hits_phrases(text: str, phrases: Sequence[str]) -> bool:
    """True if ``text`` contains at least one of ``phrases`` after :func:`normalise_for_match`.

    Matching is a plain substring test on the normalised strings, so it is case-insensitive
    and ignores differences in line breaks and spacing. Phrases that normalise to the empty
    string are ignored (they would otherwise match everything); no phrases means no hit.

    >>> passage_hits_phrases("A firmer\\n  MATTRESS is best.", ["firmer mattress is best"])
    True
    >>> passage_hits_phrases("Ice is best at first.", ["switch over to heat", "ice is best"])
    True
    >>> passage_hits_phrases("Ice is best at first.", [])
    False
    >>> passage_hits_phrases("anything", ["   "])
    False
    """
    if isinstance(phrases, str):
        raise TypeError("phrases must be a sequence of strings, not a single string")
    haystack = normalise_for_match(text)
    for phrase in phrases:
        needle = normalise_for_match(phrase)
        if needle and needle in haystack:
            return True
    return False


def first_relevant_rank(relevance: Sequence[bool]) -> int | None:
    """1-based position of the first relevant item in a ranked list, or ``None`` if none is.

    ``relevance[i]`` says whether the passage at rank ``i + 1`` is relevant; any truthy value
    counts as relevant.

    >>> first_relevant_rank([False, False, True, True])
    3
    >>> first_relevant_rank([True])
    1
    >>> first_relevant_rank([False, False]) is None
    True
    >>> first_relevant_rank([]) is None
    True
    """
    for position, is_relevant in enumerate(relevance, start=1):
        if is_relevant:
            return position
    return None


def _is_positive_int(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value >= 1


def _check_positive(name: str, value: object) -> None:
    if not _is_positive_int(value):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_rank(rank: int | None) -> None:
    if rank is not None and not _is_positive_int(rank):
        raise ValueError(f"ranks are 1-based positive integers or None, got {rank!r}")


def hit_at_k(ranks: Sequence[int | None], k: int) -> float:
    """Fraction of queries whose first relevant passage is at rank ``<= k``.

    ``ranks`` holds one first-relevant rank per query (``None`` = nothing relevant found).
    An empty list scores 0.0.

    Worked example: ranks ``[1, 3, None, 2]`` with ``k = 2``: queries 1 and 4 hit, 3 misses
    its rank, 3 never hits, so hit@2 = 2 / 4 = 0.5.

    >>> hit_at_k([1, 3, None, 2], 2)
    0.5
    >>> hit_at_k([1, 3, None, 2], 3)
    0.75
    >>> hit_at_k([], 5)
    0.0
    """
    _check_positive("k", k)
    if len(ranks) == 0:
        return 0.0
    hits = 0
    for rank in ranks:
        _check_rank(rank)
        if rank is not None and rank <= k:
            hits += 1
    return hits / len(ranks)


def mean_reciprocal_rank(ranks: Sequence[int | None], *, cutoff: int = 10) -> float:
    """Mean of ``1 / rank`` over queries, counting ranks beyond ``cutoff`` (and ``None``) as 0.

    An empty list scores 0.0.

    Worked example: ranks ``[1, 2, None, 4, 20]`` with the default cutoff of 10:
    (1/1 + 1/2 + 0 + 1/4 + 0) / 5 = 1.75 / 5 = 0.35. With ``cutoff=3`` the rank-4 query also
    counts as 0: (1 + 0.5) / 5 = 0.3.

    >>> mean_reciprocal_rank([1, 2, None, 4, 20])
    0.35
    >>> mean_reciprocal_rank([1, 2, None, 4, 20], cutoff=3)
    0.3
    >>> mean_reciprocal_rank([])
    0.0
    """
    _check_positive("cutoff", cutoff)
    if len(ranks) == 0:
        return 0.0
    total = 0.0
    for rank in ranks:
        _check_rank(rank)
        if rank is not None and rank <= cutoff:
            total += 1.0 / rank
    return total / len(ranks)


def _discounts(length: int) -> np.ndarray:
    """``1 / log2(rank + 1)`` for ranks ``1 .. length``."""
    return 1.0 / np.log2(np.arange(2, length + 2, dtype=float))


def ndcg_at_k(
    relevances: Sequence[Sequence[bool | float]],
    k: int = 10,
    *,
    n_relevant: Sequence[int] | None = None,
) -> float:
    """Mean normalised discounted cumulative gain over the top ``k`` of each ranked list.

    Gains are binary: an item is relevant if its value is truthy / greater than zero
    (``True``, ``1``, ``1.0``, ``0.5`` all give gain 1). For one query,
    ``DCG@k = sum(gain_i / log2(i + 1) for i in 1..k)`` and nDCG is DCG divided by the ideal
    DCG, the DCG of a list with all relevant items on top:

    * if ``n_relevant`` is given, the ideal list has ``n_relevant[q]`` relevant items
      (e.g. the number of relevant documents in the collection, so relevant items that were
      never retrieved lower the score). If more items in the returned list are relevant than
      ``n_relevant[q]`` says (several passages of one relevant document, say), that larger count
      is used, so a score never exceeds 1;
    * otherwise, the ideal list has as many relevant items as the whole given list (not only its
      top ``k``) contains.

    A query with no relevant items at all scores 0; the result is the mean over all queries,
    and 0.0 for no queries.

    Worked example, one query, ``k = 3``, relevance ``[False, True, True]``:
    DCG = 1/log2(3) + 1/log2(4) = 0.6309 + 0.5 = 1.1309; the ideal list ``[True, True]``
    has IDCG = 1/log2(2) + 1/log2(3) = 1.6309, so nDCG = 1.1309 / 1.6309 = 0.6934.
    Saying there are 3 relevant documents in all raises IDCG to 1.6309 + 0.5 = 2.1309 and
    nDCG falls to 1.1309 / 2.1309 = 0.5307.

    >>> round(ndcg_at_k([[False, True, True]], k=3), 4)
    0.6934
    >>> round(ndcg_at_k([[False, True, True]], k=3, n_relevant=[3]), 4)
    0.5307
    >>> ndcg_at_k([[True, False], [False, False]], k=2)   # (1 + 0) / 2
    0.5
    >>> ndcg_at_k([])
    0.0
    """
    _check_positive("k", k)
    if n_relevant is not None and len(n_relevant) != len(relevances):
        raise ValueError(
            f"n_relevant has {len(n_relevant)} entries but there are {len(relevances)} ranked lists"
        )
    if len(relevances) == 0:
        return 0.0
    discounts = _discounts(k)
    cumulative_ideal = np.concatenate(([0.0], np.cumsum(discounts)))
    scores = np.zeros(len(relevances), dtype=float)
    for q, ranked in enumerate(relevances):
        gains = np.array([1.0 if value and value > 0 else 0.0 for value in ranked], dtype=float)
        top = gains[:k]
        dcg = float(np.dot(top, discounts[: len(top)]))
        n_ideal = int(gains.sum())
        if n_relevant is not None:
            declared = n_relevant[q]
            if isinstance(declared, bool) or not isinstance(declared, (int, np.integer)) or declared < 0:
                raise ValueError(f"n_relevant[{q}] must be a non-negative integer, got {declared!r}")
            n_ideal = max(int(declared), int(top.sum()))
        idcg = float(cumulative_ideal[min(n_ideal, k)])
        scores[q] = dcg / idcg if idcg > 0 else 0.0
    return float(scores.mean())


@dataclass(frozen=True)
class RetrievalScores:
    """Summary of a retrieval run over ``n`` answerable questions.

    ``hit_at[k]`` is hit@k (see :func:`hit_at_k`), ``mrr`` is MRR with cutoff 10 and
    ``ndcg_at_10`` is nDCG@10.
    """

    n: int
    hit_at: dict[int, float]
    mrr: float
    ndcg_at_10: float


def score_rankings(
    relevance_lists: Sequence[Sequence[bool]],
    *,
    ks: Sequence[int] = (1, 3, 5, 10),
    n_relevant: Sequence[int] | None = None,
) -> RetrievalScores:
    """Score ranked relevance lists (one per question) with hit@k, MRR@10 and nDCG@10.

    Worked example, three questions: first relevant passages at ranks 1, 3 and never:
    hit@1 = 1/3, hit@3 = 2/3, MRR = (1 + 1/3 + 0) / 3 = 0.4444, and nDCG@10 =
    (1 + (1/log2(4)) / 1 + 0) / 3 = (1 + 0.5 + 0) / 3 = 0.5.

    >>> s = score_rankings([[True, False], [False, False, True], [False]], ks=(1, 3))
    >>> s.n, round(s.hit_at[1], 4), round(s.hit_at[3], 4), round(s.mrr, 4), s.ndcg_at_10
    (3, 0.3333, 0.6667, 0.4444, 0.5)
    """
    ranks = [first_relevant_rank(relevance) for relevance in relevance_lists]
    return RetrievalScores(
        n=len(relevance_lists),
        hit_at={int(k): hit_at_k(ranks, k) for k in ks},
        mrr=mean_reciprocal_rank(ranks, cutoff=10),
        ndcg_at_10=ndcg_at_k(relevance_lists, 10, n_relevant=n_relevant),
    )


@dataclass(frozen=True)
class DeclineScores:
    """How well the assistant declines questions its articles do not cover.

    ``declined`` is the fraction of the ``n_should_decline`` out-of-scope questions that were
    declined (higher is better); ``wrongly_declined`` is the fraction of the
    ``n_should_answer`` answerable questions that were declined (lower is better). A fraction
    over zero questions is reported as 0.0; check the counts.
    """

    n_should_decline: int
    declined: float
    n_should_answer: int
    wrongly_declined: float


def score_declines(should_decline: Sequence[bool], declined: Sequence[bool]) -> DeclineScores:
    """Compare, question by question, whether the assistant should have declined and did.

    Worked example: four questions, the first two out of scope. The assistant declined
    questions 1 and 3, so it declined 1 of 2 out-of-scope questions (0.5) and wrongly
    declined 1 of 2 answerable ones (0.5).

    >>> score_declines([True, True, False, False], [True, False, True, False])
    DeclineScores(n_should_decline=2, declined=0.5, n_should_answer=2, wrongly_declined=0.5)
    >>> score_declines([], [])
    DeclineScores(n_should_decline=0, declined=0.0, n_should_answer=0, wrongly_declined=0.0)
    """
    if len(should_decline) != len(declined):
        raise ValueError(
            f"should_decline has {len(should_decline)} entries but declined has {len(declined)}"
        )
    n_decline = n_answer = declined_ok = declined_wrong = 0
    for should, did in zip(should_decline, declined):
        if should:
            n_decline += 1
            declined_ok += bool(did)
        else:
            n_answer += 1
            declined_wrong += bool(did)
    return DeclineScores(
        n_should_decline=n_decline,
        declined=declined_ok / n_decline if n_decline else 0.0,
        n_should_answer=n_answer,
        wrongly_declined=declined_wrong / n_answer if n_answer else 0.0,
    )
