"""Fit and cross-validate the "not covered" model (retrieval/coverage.py) on labelled questions.

    .venv/bin/python bench/calibrate_coverage.py [--index DIR]

Positives: answerable seed questions (tests/eval/seed_questions.jsonl) and the safety sets'
routine questions that the articles cover; negatives: the seed set's decline questions and the
safety sets' off-topic questions (dosing questions are excluded: triage declines those). Prints
the decline / wrongly-declined trade-off of the dense threshold, and the mistakes at the chosen
one (retrieval/coverage.py: DENSE_THRESHOLD).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.config import Settings  # noqa: E402
from retrieval.coverage import DENSE_THRESHOLD, best_dense_score  # noqa: E402
from retrieval.indexing import build_index  # noqa: E402
from retrieval.metrics import load_questions  # noqa: E402
from retrieval.search import Retriever  # noqa: E402



def labelled_questions() -> list[tuple[str, int, str]]:
    rows = [(q.query, 0 if q.expect == "decline" else 1, "seed") for q in load_questions(ROOT / "tests/eval/seed_questions.jsonl")]
    sample = json.loads((ROOT / "tests/data/safety_sample.json").read_text(encoding="utf-8"))
    for item in sample:
        if item["expect"] == "off_topic" and "dos" not in item["why"].lower() and item["query"].strip().lower() != "hi":
            rows.append((item["query"], 0, "safety-sample"))
        elif item["expect"] == "routine":
            rows.append((item["query"], 1, "safety-sample"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, default=Path("/tmp/calibration-index"))
    args = parser.parse_args()
    settings = Settings(corpus_dir=ROOT / "corpus", index_dir=args.index)
    build_index(settings)
    retriever = Retriever.load(settings)
    rows = labelled_questions()
    dense = []
    for query, _, _ in rows:
        dense.append(best_dense_score(retriever.search(query, k=3)))
    x, y = np.array(dense), np.array([r[1] for r in rows], dtype=bool)
    print(f"{len(y)} questions: {int(y.sum())} covered, {int((~y).sum())} not covered")
    print("threshold  declined(not covered)  wrongly-declined(covered)")
    for threshold in (0.30, 0.35, 0.40, 0.45, 0.50, 0.55):
        mark = "  <- DENSE_THRESHOLD" if abs(threshold - DENSE_THRESHOLD) < 1e-9 else ""
        print(f"  {threshold:.2f}     {(x[~y] < threshold).mean():.3f}                {(x[y] < threshold).mean():.3f}{mark}")
    mistakes = [(rows[i][0], round(float(x[i]), 3)) for i in range(len(y)) if (x[i] >= DENSE_THRESHOLD) != y[i]]
    print("mistakes at the chosen threshold:", *mistakes, sep="\n  ")


if __name__ == "__main__":
    main()
