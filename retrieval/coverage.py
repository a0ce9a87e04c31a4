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
"""

from __future__ import annotations

from dataclasses import dataclass

from retrieval.search import SearchResult

# Calibrated with bench/calibrate_coverage.py: 0.40 declines 74% of off-topic questions while
# wrongly declining 0.8% of covered ones; 0.45 gives 88% / 7%; see EVALUATION.md.
DENSE_THRESHOLD = 0.40


@dataclass(frozen=True)
class Coverage:
    covered: bool
    best_dense: float
    reason: str


def best_dense_score(result: SearchResult) -> float:
    return max((p.dense_score for p in result.candidates[:10]), default=0.0)


def assess_coverage(result: SearchResult, *, threshold: float = DENSE_THRESHOLD) -> Coverage:
    if not result.passages:
        return Coverage(False, 0.0, "nothing retrieved")
    best = best_dense_score(result)
    if best >= threshold:
        return Coverage(True, best, f"best passage similarity {best:.2f} >= {threshold:.2f}")
    return Coverage(False, best, f"best passage similarity {best:.2f} < {threshold:.2f}")
