"""How much of a seed-set difference is chunk-boundary noise: evaluate at chunk sizes around the shipped one.

    .venv/bin/python bench/chunk_jitter.py [--sizes 190,195,200,205,210] [--work /tmp/chunk-jitter]
    .venv/bin/python bench/chunk_jitter.py --grid '{"SENTENCE_WEIGHT": [0.3, 0.4], "TITLE_WEIGHT": [0.1, 0.2]}'

The seed set's key phrases are judged per passage, so moving every chunk boundary a few word pieces
(any change to cleaning, titles or the chunker does) moves hit@1 by a few questions with no change
in ranking quality: at the shipped settings, 190-210 tokens gave 0.755-0.791 (EVALUATION.md,
"Keyword-stuffed titles"). This script builds one index per size (with the real model; reused when
present and current) and prints each size's figures and their mean, which is what a ranking change
should be judged on. ``--grid`` replays ``retrieval.search.retriever`` weights over the same indexes
(question vectors are encoded once), as in EVALUATION.md's tables.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.search import retriever as search  # noqa: E402
from retrieval.config import Settings  # noqa: E402
from retrieval.evaluation.evaluate import evaluate  # noqa: E402
from retrieval.index.build import build_index  # noqa: E402
from retrieval.evaluation.questions import load_questions  # noqa: E402
from retrieval.search.retriever import Retriever  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="190,195,200,205,210")
    parser.add_argument("--questions", type=Path, default=ROOT / "tests/eval/seed_questions.jsonl")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--work", type=Path, default=Path("/tmp/chunk-jitter"))
    parser.add_argument("--grid", default="{}", help="JSON: retrieval.search.retriever constant -> values to try")
    args = parser.parse_args()
    questions = load_questions(args.questions)
    sizes = [int(s) for s in args.sizes.split(",")]
    retrievers = []
    for size in sizes:
        settings = dataclasses.replace(Settings(), corpus_dir=args.corpus, index_dir=args.work / f"index-{size}", chunk_tokens=size)
        build_index(settings)
        retrievers.append(Retriever.load(settings))
    vectors: dict[str, object] = {}
    encode = Retriever.encode
    Retriever.encode = lambda self, q: vectors.setdefault(q, encode(self, q))  # type: ignore[method-assign]
    grid = json.loads(args.grid)
    for combination in itertools.product(*grid.values()):
        for name, value in zip(grid, combination):
            setattr(search, name, value)
        results = [evaluate(r, questions, mode="hybrid") for r in retrievers]
        label = ", ".join(f"{n}={v}" for n, v in zip(grid, combination)) or "shipped"
        print(f"{label}: mean hit@1 {sum(r.hit_at[1] for r in results) / len(results):.3f}"
              f"  hit@3 {sum(r.hit_at[3] for r in results) / len(results):.3f}"
              f"  MRR {sum(r.mrr for r in results) / len(results):.3f}")
        for size, r in zip(sizes, results):
            print(f"  {size:>4} tokens: hit@1 {r.hit_at[1]:.3f}  hit@3 {r.hit_at[3]:.3f}  MRR {r.mrr:.3f}")


if __name__ == "__main__":
    main()
