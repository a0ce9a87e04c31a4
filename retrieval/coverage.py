"""Decide from the retrieval evidence whether the articles really address a question.

Two independent retrievers are the evidence: the best dense (cosine) score, and whether BM25
agrees, i.e. ranks the dense winner's article among its own top passages with a meaningful
score. The thresholds were calibrated on the evaluation sets (EVALUATION.md shows the
trade-off between on-topic questions wrongly declined and off-topic ones answered).
"""

from __future__ import annotations

from dataclasses import dataclass

from retrieval.search import SearchResult

# Calibrated with `python bench/calibrate_coverage.py` (see EVALUATION.md).
DENSE_SURE = 0.50  # above this the dense match alone is enough
DENSE_WITH_AGREEMENT = 0.30  # above this, if BM25 agrees
LEXICAL_AGREEMENT = 2.0  # BM25 score of the agreeing passage
AGREEMENT_DEPTH = 5  # BM25 must rank the same article within its top N


@dataclass(frozen=True)
class Coverage:
    covered: bool
    reason: str


def assess_coverage(result: SearchResult) -> Coverage:
    if not result.passages:
        return Coverage(False, "nothing retrieved")
    top = result.passages[0]
    best_dense = max((p.dense_score for p in result.candidates[:10]), default=top.dense_score)
    if best_dense >= DENSE_SURE:
        return Coverage(True, f"dense match {best_dense:.2f}")
    agreeing = [
        p for p in result.candidates[:AGREEMENT_DEPTH * 2]
        if p.lexical_rank is not None and p.lexical_rank <= AGREEMENT_DEPTH
        and p.dense_rank is not None and p.dense_rank <= AGREEMENT_DEPTH
        and p.lexical_score >= LEXICAL_AGREEMENT
    ]
    if best_dense >= DENSE_WITH_AGREEMENT and agreeing:
        return Coverage(True, f"dense {best_dense:.2f} with BM25 agreement")
    return Coverage(False, f"weak evidence (best dense {best_dense:.2f}, {len(agreeing)} agreeing passages)")
