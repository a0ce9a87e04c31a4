"""The "not covered" trade-off from ``bench/coverage_writers_dump.py``'s JSON: for each threshold,
the share of the held-out writers' answerable questions declined (cards, pets and the body-part
rule included) and the share of each group of not-covered questions declined.

    .venv/bin/python bench/coverage_writers_sweep.py /tmp/dump.json

(EVALUATION.md, "Second round". The threshold table there counts answerable questions without a
card, declined on the cosine alone: ``--score-only``.)
"""
from __future__ import annotations

import json
import sys

GROUPS = {
    "held-out answerable (seed-C, consumer-z)": lambda r: r["set"] in ("seed-C", "consumer-z") and r["expect"] == "answer",
    "not covered: seed C": lambda r: r["set"] == "seed-C" and r["expect"] == "decline",
    "not covered: seed A, D, E": lambda r: r["set"] in ("seed-A", "seed-D", "seed-E") and r["expect"] == "decline",
    "not covered: consumer c, k (N2)": lambda r: r["set"] in ("consumer-c", "consumer-k") and r["expect"] == "decline",
}
OTHER_PART = 0.40


def declined(row: dict, threshold: float, score_only: bool) -> bool:
    if score_only:
        return row["dense"] < threshold
    return (row["triage"] == "emergency" or row["animal"] or row["dense"] < threshold
            or (row["parts"] and row["dense"] < max(threshold, OTHER_PART)))


def main(path: str, score_only: bool) -> None:
    rows = json.load(open(path, encoding="utf-8"))
    if score_only:
        rows = [r for r in rows if r["triage"] != "emergency"]
    print("threshold | " + " | ".join(f"{name} (n={sum(1 for r in rows if g(r))})" for name, g in GROUPS.items()))
    for threshold in (0.22, 0.24, 0.25, 0.26, 0.28, 0.30, 0.32):
        shares = []
        for group in GROUPS.values():
            chosen = [r for r in rows if group(r)]
            shares.append(f"{sum(declined(r, threshold, score_only) for r in chosen) / max(len(chosen), 1):.3f}")
        print(f"{threshold:.2f} | " + " | ".join(shares))


if __name__ == "__main__":
    main(sys.argv[1], "--score-only" in sys.argv[2:])
