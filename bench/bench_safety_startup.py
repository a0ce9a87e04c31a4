"""What the safety layer costs a process: importing it (the red-flag bank, modifier, spelling and
care files read and checked, the body-part words) and triaging a first message.

    .venv/bin/python bench/bench_safety_startup.py [CHECKOUT] [--runs 3]

Each run is a fresh process over CHECKOUT (default: this one), so module caches start cold.
Works on either side of the layout change (c0a185a and earlier had a flat package).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

ONE_RUN = """
import time
t = time.perf_counter()
try:
    import retrieval.safety.care, retrieval.search.anatomy
    from retrieval.safety.triage import assess
except ImportError:  # the flat package before the layout change
    import retrieval.care, retrieval.anatomy
    from retrieval.triage import assess
t1 = time.perf_counter()
assess("my back hurts and I have a fever")
t2 = time.perf_counter()
print(f"import {1000 * (t1 - t):.0f} ms, first assess {1000 * (t2 - t1):.0f} ms, total {1000 * (t2 - t):.0f} ms")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", nargs="?", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": os.path.abspath(args.checkout), "HF_HUB_OFFLINE": "1"}
    for _ in range(args.runs):
        result = subprocess.run([sys.executable, "-c", ONE_RUN], cwd=args.checkout, env=env, capture_output=True, text=True, check=True)
        print(args.checkout, result.stdout.strip())


if __name__ == "__main__":
    main()
