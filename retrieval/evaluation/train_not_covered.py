"""Fit the answerability model (``retrieval/search/answerability.py``) on development writers.

Every consumer corpus a development "not covered" writer wrote for (N2-N4, N6-N11: 18 corpora;
``tests/data/independent/notcovered/``) is built with the product's own ``build``; every
answerable question of the consumer writers over it and every not-covered question written for
it is searched as the product searches, and its evidence gathered as the product gathers it. A
logistic regression over the three features, standardised, is fitted on all of them, and the
threshold set so that 3% of those answerable questions are declined. The test corpora (j and v:
N1 and N5's questions) are never read. Deterministic (no sampling); about a minute on 2 cores
once ``eval-writers`` has cached the corpora's indexes, a few minutes more the first time:

    python -m retrieval.evaluation.train_not_covered            # writes retrieval/search/data/answerability.yaml
    python -m retrieval.evaluation.train_not_covered --check    # fits and prints; writes nothing

The rule it passed before it replaced the cosine threshold, and the figures on the test corpora:
EVALUATION.md, "Sixth round".
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

# The development "not covered" writers and the consumer corpora they wrote for.
DEVELOPMENT = {"N2": "ck", "N3": "eg", "N4": "mr", "N6": "ab", "N7": "fh", "N8": "il", "N9": "no", "N10": "ps", "N11": "tw"}
ANSWERABLE_DECLINED = 0.03
REGULARISATION = 1.0  # scikit-learn's C, on standardised features


def evidence_rows(corpora: str) -> list[tuple[str, bool, tuple[float, ...]]]:
    """(corpus letter, should decline, features) for every question asked of ``corpora``."""
    from retrieval.evaluation.writer_sets import writer_sets
    from retrieval.evaluation.writers import default_cache, settings_for
    from retrieval.index import build_index
    from retrieval.search import Retriever
    from retrieval.search.answerability import gather_evidence
    from retrieval.search.coverage import best_dense_score

    cache, rows = default_cache(), []
    for writer_set in writer_sets(cache, which="dev", include=lambda n: n.startswith("consumer-") and n[-1] in corpora):
        settings = settings_for(writer_set, cache)
        build_index(settings)
        retriever = Retriever.load(settings)
        for q in writer_set.questions:
            result = retriever.search(q.text, k=settings.top_k)
            evidence = gather_evidence(result, best_dense_score(result))
            rows.append((writer_set.name[-1], q.expect == "decline", evidence.values()))
    return rows


def fit(x: np.ndarray, y: np.ndarray) -> dict:
    """The model's numbers (as ``answerability.yaml`` holds them) fitted on ``x``, ``y``."""
    from sklearn.linear_model import LogisticRegression

    mean, spread = x.mean(0), x.std(0) + 1e-9
    model = LogisticRegression(C=REGULARISATION, max_iter=3000).fit((x - mean) / spread, y)
    chance = model.predict_proba((x - mean) / spread)[:, 1]
    threshold = float(np.quantile(chance[~y], 1 - ANSWERABLE_DECLINED))
    return {"mean": mean.tolist(), "spread": spread.tolist(), "weights": model.coef_[0].tolist(),
            "intercept": float(model.intercept_[0]), "threshold": threshold,
            "declined": {"answerable": round(float(np.mean(chance[~y] >= threshold)), 3),
                         "not_covered": round(float(np.mean(chance[y] >= threshold)), 3)}}


def write_model(path: Path, fitted: dict, n_answerable: int, n_not_covered: int) -> None:
    from retrieval.search.answerability import FEATURES

    numbers = lambda values: "[" + ", ".join(f"{v:.6g}" for v in values) + "]"  # noqa: E731
    path.write_text(
        "# The answerability model: P(not covered) = sigmoid(intercept + sum(weights * (x - mean) / spread)),\n"
        "# declined at or above threshold. Written by python -m retrieval.evaluation.train_not_covered;\n"
        "# do not edit by hand (EVALUATION.md, \"Sixth round\").\n"
        f"features: [{', '.join(FEATURES)}]\n"
        f"mean: {numbers(fitted['mean'])}\n"
        f"spread: {numbers(fitted['spread'])}\n"
        f"weights: {numbers(fitted['weights'])}\n"
        f"intercept: {fitted['intercept']:.6g}\n"
        f"threshold: {fitted['threshold']:.6g}\n"
        f"fitted_on: \"{n_answerable} answerable and {n_not_covered} not-covered questions of the development writers over "
        f"consumer corpora {', '.join(sorted(''.join(DEVELOPMENT.values())))}\"\n"
        f"figures: \"in-sample: {fitted['declined']['answerable']:.1%} of the answerable declined, "
        f"{fitted['declined']['not_covered']:.1%} of the not covered\"\n",
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    from retrieval.search.answerability import MODEL_PATH, load_model

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fit and print; write nothing")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    rows = evidence_rows("".join(DEVELOPMENT.values()))
    x = np.array([features for _, _, features in rows], dtype=np.float64)
    y = np.array([decline for _, decline, _ in rows])
    fitted = fit(x, y)
    print(f"{len(rows)} questions ({int((~y).sum())} answerable, {int(y.sum())} not covered): {fitted}", file=sys.stderr)
    if not args.check:
        write_model(args.out, fitted, int((~y).sum()), int(y.sum()))
        load_model(args.out)  # what was written reads back
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
