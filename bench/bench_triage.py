"""What triage costs per question: the rules alone, and the rules with the red-flag classifier.

    .venv/bin/python bench/bench_triage.py [--index index] [--repeats 3]

Measured in one process on the real index (built first if missing): the rules alone
(``assess(q, learned=False)``); triage as every surface runs it (``assess(q)``: the classifier
scores the message and each sentence); long pasted messages; encoding one question with the
relevance encoder; and whole answers, p50 and p95 (issue #27's target: p95 <= 150 ms).
Questions: the own safety set (tests/data/safety_questions.jsonl) and long pasted messages.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(fn, items, repeats: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        for item in items:
            start = time.perf_counter()
            fn(item)
            times.append((time.perf_counter() - start) * 1000)
    return times


def summary(name: str, times: list[float]) -> str:
    times = sorted(times)
    p95 = times[int(0.95 * (len(times) - 1))]
    return f"| {name} | {statistics.mean(times):.2f} | {statistics.median(times):.2f} | {p95:.2f} | {len(times)} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=ROOT / "index")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from retrieval.answer.assemble import answer_question
    from retrieval.config import Settings
    from retrieval.index.build import build_index
    from retrieval.safety.triage import assess
    from retrieval.search.retriever import Retriever

    settings = Settings(corpus_dir=ROOT / "corpus", index_dir=args.index)
    build_index(settings)
    retriever = Retriever.load(settings)
    questions = [json.loads(line)["query"] for line in (ROOT / "tests/data/safety_questions.jsonl").read_text().splitlines() if line.strip()]
    story = "I have had a sore back since moving house and I have tried stretches and heat. It is a bit better. "
    long_messages = [story * n + "Since this morning I cannot feel my bum when I wipe." for n in (5, 20, 40)]
    answer_question(retriever, "warm up")

    rows = [
        summary("rules only, `assess(q, learned=False)`", timed(lambda q: assess(q, learned=False), questions, args.repeats)),
        summary("rules + classifier, `assess(q)`", timed(assess, questions, args.repeats)),
        summary("rules + classifier, long messages (11-81 sentences, 3 distinct)", timed(assess, long_messages, args.repeats)),
        summary("encoding one question (`retriever.encode`)", timed(retriever.encode, questions, args.repeats)),
        summary("whole answer (`answer_question`)", timed(lambda q: answer_question(retriever, q), questions, args.repeats)),
    ]
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, backend {settings.backend}, "
          f"{len(questions)} questions x {args.repeats}")
    print("| step | mean ms | p50 ms | p95 ms | n |\n|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
