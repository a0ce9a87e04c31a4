"""Whole-process full builds of two checkouts of this repository, alternated, on one corpus:

    git worktree add /tmp/old <commit>
    .venv/bin/python bench/ab_build.py /tmp/old . corpus --repeats 3
    .venv/bin/python bench/ab_build.py /tmp/old . tests/data/medquad_small/corpus --repeats 3

Each run is a fresh ``python -m retrieval build --json`` into an empty index folder, with the
checkout first on PYTHONPATH; the order alternates each repeat, so drift on a shared machine hits
both alike. Prints the median wall seconds and what each build embedded.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def build(root: Path, corpus: Path, index: Path) -> tuple[float, dict]:
    shutil.rmtree(index, ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(root.resolve()), HF_HUB_OFFLINE="1")
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "retrieval", "build", "--corpus", str(corpus), "--index", str(index), "--json"],
                         cwd=root, env=env, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - started, json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    seconds: dict[str, list[float]] = {"old": [], "new": []}
    reports: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as work:
        for r in range(args.repeats):
            for name in (("old", "new") if r % 2 == 0 else ("new", "old")):
                taken, report = build(getattr(args, name), corpus, Path(work) / name)
                seconds[name].append(taken)
                reports[name] = report
                print(f"  run {r + 1} {name}: {taken:.1f} s", file=sys.stderr, flush=True)
    for name in ("old", "new"):
        report = reports[name]
        print(f"{name} ({getattr(args, name)}): median {statistics.median(seconds[name]):.1f} s of {[round(s, 1) for s in seconds[name]]}; "
              f"{report['chunks']} chunks embedded, {report.get('embedded_sentences', 0)} sentences")
    print(f"new / old: {statistics.median(seconds['new']) / statistics.median(seconds['old']):.2f}")


if __name__ == "__main__":
    main()
