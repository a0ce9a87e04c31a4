"""Fit and cross-validate the "not covered" rule (retrieval/search/coverage.py) on labelled questions.

    .venv/bin/python bench/calibrate_coverage.py [--index DIR] [--null-model]

Positives: answerable seed questions (tests/eval/seed_questions.jsonl) and the safety sets'
routine questions that the articles cover; negatives: the seed set's decline questions and the
safety sets' off-topic questions (dosing questions are excluded: triage declines those). Prints
the decline / wrongly-declined trade-off of the dense threshold, and the mistakes at the chosen
one (retrieval/search/coverage.py: DENSE_THRESHOLD).

``--null-model`` also tests a relative "background" rule (tried, not shipped; EVALUATION.md, "Not
covered"): decline when the question is closer to short texts on other subjects than to the
articles. The background is bench/coverage_background.txt (written by hand before looking at the
decline questions) plus the title and first sentence of each of the 315 MedQuAD articles in
tests/data/medquad_small/corpus. Background items whose own best similarity to the articles is
>= E are dropped (they are on the articles' topic). The rule declines when

    best passage similarity < T   or   best passage similarity < best background similarity - m

and T, m, E are chosen on the training folds of a repeated stratified 5-fold cross-validation
(the most declines with at most ``cap`` wrongly declined on the training folds); the figures
printed are out-of-fold, next to the threshold alone chosen the same way.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.config import Settings  # noqa: E402
from retrieval.search.coverage import DENSE_THRESHOLD, answer_declines, best_dense_score  # noqa: E402
from retrieval.index.build import build_index  # noqa: E402
from retrieval.evaluation.questions import load_questions  # noqa: E402
from retrieval.search.retriever import Retriever  # noqa: E402
from retrieval.safety.triage import assess  # noqa: E402

BACKGROUND = Path(__file__).parent / "coverage_background.txt"
MEDQUAD = ROOT / "tests/data/medquad_small/corpus"


def labelled_questions() -> list[tuple[str, int, str]]:
    rows = [(q.query, 0 if q.expect == "decline" else 1, "seed") for q in load_questions(ROOT / "tests/eval/seed_questions.jsonl")]
    sample = json.loads((ROOT / "tests/data/safety_sample.json").read_text(encoding="utf-8"))
    for item in sample:
        if item["expect"] == "off_topic" and "dos" not in item["why"].lower() and item["query"].strip().lower() != "hi":
            rows.append((item["query"], 0, "safety-sample"))
        elif item["expect"] == "routine":
            rows.append((item["query"], 1, "safety-sample"))
    return rows


def background_texts() -> list[tuple[str, str]]:
    """(topic, text) pairs: the hand-written file, then each MedQuAD article's title + first sentence.

    >>> background_texts()[0]
    ('teeth', 'Toothache: a throbbing pain in a tooth, often from decay, a cracked tooth or an abscess.')
    """
    items = []
    for line in BACKGROUND.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            topic, text = line.split(" | ", 1)
            items.append((topic, text))
    for file in sorted(MEDQUAD.glob("*.txt")):
        lines = [line.strip() for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
        body = next((x for x in lines[1:] if not x.startswith("-") and x.lower() not in ("key points", "summary") and len(x.split()) > 5), "")
        first_sentence = re.split(r"(?<=[.!?])\s+", body)[0][:300]
        items.append((lines[0], f"{lines[0]}. {first_sentence}"))
    return items


def _folds(y: np.ndarray, rng: np.random.Generator, k: int = 5) -> np.ndarray:
    folds = np.zeros(len(y), dtype=int)
    for label in (True, False):
        ids = np.flatnonzero(y == label)
        rng.shuffle(ids)
        folds[ids] = np.arange(len(ids)) % k
    return folds


def cross_validate(decide, grid: list, y: np.ndarray, cap: float, repeats: int = 10) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Out-of-fold (declined, wrongly declined), averaged over ``repeats`` stratified 5-fold splits.

    ``decide(rows, params) -> bool array``; on each training part the params with the most
    declines and at most ``cap`` wrongly declined are chosen, then applied to the held-out fold.
    """
    rng = np.random.default_rng(0)
    declined, wrongly = [], []
    for _ in range(repeats):
        folds = _folds(y, rng)
        out = np.zeros(len(y), dtype=bool)
        for fold in range(5):
            train, test = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
            best = None
            for params in grid:
                d = decide(train, params)
                key = (d[~y[train]].mean(), -d[y[train]].mean())
                if -key[1] <= cap + 1e-9 and (best is None or key > best[0]):
                    best = (key, params)
            out[test] = decide(test, best[1]) if best else False
        declined.append(out[~y].mean())
        wrongly.append(out[y].mean())
    return float(np.mean(declined)), float(np.mean(wrongly))


def null_model_report(retriever: Retriever, vectors: np.ndarray, dense: np.ndarray, y: np.ndarray) -> None:
    items = background_texts()
    background = retriever.embedder.embed([text for _, text in items])
    to_corpus = (background @ retriever.data.vectors.T).max(axis=1)  # each item's own coverage
    similarity = vectors @ background.T
    exclusions = (0.45, 0.50, 0.55, 0.60)
    nearest = {e: similarity[:, to_corpus < e].max(axis=1) for e in exclusions}
    thresholds = [round(t, 2) for t in np.arange(0.30, 0.555, 0.01)]
    margins = [round(m, 2) for m in np.arange(-0.10, 0.41, 0.02)]

    def threshold_only(rows: np.ndarray, t: float) -> np.ndarray:
        return dense[rows] < t

    def with_background(rows: np.ndarray, params: tuple[float, float, float]) -> np.ndarray:
        t, m, e = params
        return (dense[rows] < t) | (dense[rows] < nearest[e][rows] - m)

    print(f"\nnull model: {len(items)} background texts, {int((to_corpus >= 0.5).sum())} dropped at E=0.50 (on topic)")
    print("cross-validated (10 x stratified 5-fold), parameters chosen on the training folds")
    print("cap on training wrongly-declined | threshold alone: declined / wrongly | + background: declined / wrongly")
    grid = [(t, m, e) for t in thresholds for m in margins for e in exclusions]
    for cap in (0.01, 0.02, 0.03):
        a = cross_validate(threshold_only, thresholds, y, cap)
        b = cross_validate(with_background, grid, y, cap)
        print(f"  {cap:.2f}                             {a[0]:.3f} / {a[1]:.3f}                   {b[0]:.3f} / {b[1]:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, default=Path("/tmp/calibration-index"))
    parser.add_argument("--null-model", action="store_true", help="also cross-validate the background rule (tried, not shipped)")
    args = parser.parse_args()
    settings = Settings(corpus_dir=ROOT / "corpus", index_dir=args.index)
    build_index(settings)
    retriever = Retriever.load(settings)
    rows = labelled_questions()
    dense, vectors, animal, decided = [], [], [], []
    for query, _, _ in rows:
        result = retriever.search(query, k=3)
        triage = assess(query)
        dense.append(best_dense_score(result))
        vectors.append(result.query_vector)
        animal.append(triage.about_animal)
        decided.append(answer_declines(result, query, triage))  # what answers do
    x, y = np.array(dense), np.array([r[1] for r in rows], dtype=bool)
    print(f"{len(y)} questions: {int(y.sum())} covered, {int((~y).sum())} not covered")
    print("threshold  declined(not covered)  wrongly-declined(covered)")
    for threshold in (0.30, 0.35, 0.40, 0.45, 0.50, 0.55):
        mark = "  <- DENSE_THRESHOLD" if abs(threshold - DENSE_THRESHOLD) < 1e-9 else ""
        print(f"  {threshold:.2f}     {(x[~y] < threshold).mean():.3f}                {(x[y] < threshold).mean():.3f}{mark}")
    with_animal = (x < DENSE_THRESHOLD) | np.array(animal)
    print(f"  {DENSE_THRESHOLD:.2f} + triage's pet rule: {with_animal[~y].mean():.3f} declined, "
          f"{with_animal[y].mean():.3f} wrongly declined")
    declined = np.array(decided)
    print(f"  {DENSE_THRESHOLD:.2f} + pet rule + body-part rule: {declined[~y].mean():.3f} declined, "
          f"{declined[y].mean():.3f} wrongly declined (what answers do)")
    mistakes = [(rows[i][0], round(float(x[i]), 3)) for i in range(len(y)) if (not declined[i]) != y[i]]
    print("mistakes of what answers do:", *mistakes, sep="\n  ")
    if args.null_model:
        null_model_report(retriever, np.array(vectors), x, y)


if __name__ == "__main__":
    main()
