"""Measure triage on the labelled safety sets: per-level recall, false alarms, dosing, timing.

    .venv/bin/python bench/eval_safety.py            # as every surface triages (classifier + rules)
    .venv/bin/python bench/eval_safety.py --rules    # the rules alone
    .venv/bin/python bench/eval_safety.py --misses   # also list every miss and false alarm
    .venv/bin/python bench/eval_safety.py --baseline # a naive keyword list, for comparison

Sets: tests/data/safety_questions.jsonl (own) and tests/data/safety_sample.json (shared sample,
labels mapped: EMERGENCY/CRISIS -> emergency, SAME-DAY -> urgent, routine/off_topic -> none).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.safety.triage import EMERGENCY, NONE, URGENT, assess  # noqa: E402

DATA = ROOT / "tests" / "data"


@dataclass(frozen=True)
class Case:
    query: str
    expect: str  # emergency | urgent | none
    group: str  # emergency | urgent | routine | off_topic | dosing
    dosing: bool
    why: str


def load_own() -> list[Case]:
    cases = []
    for line in (DATA / "safety_questions.jsonl").read_text("utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        dosing = bool(item.get("dosing"))
        group = item["expect"]
        if group == NONE:
            group = "dosing" if dosing else "off_topic" if "off-topic" in item["why"] else "routine"
        cases.append(Case(item["query"], item["expect"], group, dosing, item["why"]))
    return cases


def load_sample() -> list[Case]:
    cases = []
    for item in json.loads((DATA / "safety_sample.json").read_text("utf-8")):
        why = item["why"]
        if item["expect"] == "urgent":
            expect = EMERGENCY if why.startswith(("EMERGENCY", "CRISIS")) else URGENT
            cases.append(Case(item["query"], expect, expect, False, why))
        else:
            dosing = item["expect"] == "off_topic" and "dosing" in why.lower()
            group = "dosing" if dosing else item["expect"]
            cases.append(Case(item["query"], NONE, group, dosing, why))
    return cases


# A naive keyword matcher, for comparison only (--baseline): the kind of list the issue warns about.
_BASELINE_EMERGENCY = ("numb", "tingl", "pee", "wee", "urin", "bladder", "bowel", "incontinen",
                       "both legs", "chest pain", "crash", "accident", "fell off", "suicid",
                       "kill myself", "end it", "erection")
_BASELINE_URGENT = ("fever", "temperature", "weight", "cancer", "night", "lump", "shoulder blade",
                    "osteoporosis", "steroid", "foot drop", "pregnan", "hiv", "heroin", "epidural")


def keyword_baseline(question: str, *, learned=True):
    from retrieval.safety.triage import Triage

    text = question.lower()
    if any(k in text for k in _BASELINE_EMERGENCY):
        return Triage(EMERGENCY, ("keyword",))
    if any(k in text for k in _BASELINE_URGENT):
        return Triage(URGENT, ("keyword",))
    return Triage(NONE, ())


def _pct(hits: int, total: int) -> str:
    return f"{100 * hits / total:5.1f}% ({hits}/{total})" if total else "    -"


def evaluate(name: str, cases: list[Case], learned: bool = True, show_misses: bool = False, triage=assess) -> None:
    results = []
    timings = []
    for case in cases:
        start = time.perf_counter()
        result = triage(case.query, learned=learned)
        timings.append((time.perf_counter() - start) * 1000)
        results.append((case, result))

    def of(group):
        return [(c, r) for c, r in results if c.group == group]

    emergency, urgent = of("emergency"), of("urgent")
    routine, off_topic = of("routine"), of("off_topic")
    dosing = [(c, r) for c, r in results if c.dosing]
    none_cases = [(c, r) for c, r in results if c.expect == NONE]
    rows = [
        ("emergency recall (level emergency)", _pct(sum(r.level == EMERGENCY for _, r in emergency), len(emergency))),
        ("urgent recall (urgent or emergency)", _pct(sum(r.level != NONE for _, r in urgent), len(urgent))),
        ("urgent exact level", _pct(sum(r.level == URGENT for _, r in urgent), len(urgent))),
        ("false alarms on routine", _pct(sum(r.level != NONE for _, r in routine), len(routine))),
        ("false alarms on off-topic", _pct(sum(r.level != NONE for _, r in off_topic), len(off_topic))),
        ("false alarms on all 'none'", _pct(sum(r.level != NONE for _, r in none_cases), len(none_cases))),
        ("dosing questions declined", _pct(sum(r.dosing for _, r in dosing), len(dosing))),
        ("dosing flag on non-dosing", _pct(sum(r.dosing for c, r in results if not c.dosing), 
                                           sum(not c.dosing for c in cases))),
    ]
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    label = " (classifier + rules)" if learned else " (rules alone)"
    label += " [naive keyword baseline]" if triage is not assess else ""
    print(f"\n{name}: {len(cases)} questions{label}")
    for label, value in rows:
        print(f"  {label:38s} {value}")
    print(f"  {'assess() time mean / p95':38s} {statistics.mean(timings):.2f} ms / {p95:.2f} ms")
    if show_misses:
        for case, result in results:
            wrong_level = (case.expect == EMERGENCY and result.level != EMERGENCY) or \
                          (case.expect == URGENT and result.level == NONE) or \
                          (case.expect == NONE and result.level != NONE)
            if wrong_level or case.dosing != result.dosing:
                print(f"    MISS expect={case.expect} got={result.level} {result.reasons} "
                      f"dosing={result.dosing}: {case.query[:90]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", action="store_true", help="the rules alone, without the classifier")
    parser.add_argument("--misses", action="store_true", help="list misses and false alarms")
    parser.add_argument("--baseline", action="store_true", help="score a naive keyword matcher instead")
    args = parser.parse_args(argv)
    for name, cases in (("own set", load_own()), ("shared sample", load_sample())):
        for case in cases[:20]:  # warm the regex and spelling caches before timing
            assess(case.query)
        evaluate(name, cases, learned=not args.rules, show_misses=args.misses,
                 triage=keyword_baseline if args.baseline else assess)


if __name__ == "__main__":
    main()
