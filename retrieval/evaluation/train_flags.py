"""Train the learned red-flag head: ``python -m retrieval.evaluation.train_flags [--check]``.

Reads ``tests/data/redflag_messages`` (train / dev / frozen test, split by batch), embeds every
message and sentence with the bundled all-MiniLM-L6-v2 (the same encoder the app uses),
fits a multinomial logistic regression on the train split, chooses the two thresholds on the
dev split, reports all three splits, and writes ``models/redflag-head/head.npz`` and
``metrics.json``. About a minute on 2 CPU cores. ``--check`` trains and reports without writing.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.safety import GROUP_LEVELS, HEAD_PATH, FlagHead, message_units, scoring_units

_RANK = {"none": 0, "urgent": 1, "emergency": 2}

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "redflag_messages"
SPLITS = {
    "train": sorted((DATA / "train").glob("*.txt")),
    "dev": [DATA / "dev.txt", DATA / "dev2.txt", DATA / "dev3.txt", DATA / "dev4.txt"],
    "test": [DATA / "test.txt", DATA / "test2.txt"],
}
REGULARISATION = 64.0  # sklearn's C; chosen on dev among 1, 4, 16, 64, 256 (EVALUATION.md, "Learned red-flag head")


@dataclass(frozen=True)
class Message:
    group: str
    text: str
    source: str

    @property
    def level(self) -> str:
        return GROUP_LEVELS[self.group]


def read_messages(files: list[Path]) -> list[Message]:
    messages = []
    for file in files:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            group, sep, text = line.partition("|")
            if not sep or group not in GROUP_LEVELS or not text.strip():
                raise ValueError(f"{file}:{number}: expected 'group|message' with a known group, got {line[:80]!r}")
            messages.append(Message(group, text.strip(), f"{file.name}:{number}"))
    return messages


def training_examples(messages: list[Message], embed) -> tuple[np.ndarray, list[str]]:  # type: ignore[no-untyped-def]
    """Each message as a whole, plus each sentence of a non-flag message (all are non-flags);
    the sentences of a flagged message are not labelled one by one, so they are left out."""
    texts, labels = [], []
    for m in messages:
        texts.append(m.text)
        labels.append(m.group)
        if m.level == "none":
            for unit in message_units(m.text):
                if unit != m.text:
                    texts.append(unit)
                    labels.append(m.group)
    return embed(texts), labels


@dataclass(frozen=True)
class Scored:
    """One message as the product sees it: the rules' level, and the head's unit vectors."""

    message: Message
    rules_level: str
    units: list[str]
    vectors: np.ndarray
    modified: list[bool]


def score_messages(messages: list[Message], embed) -> list[Scored]:  # type: ignore[no-untyped-def]
    from retrieval.safety import assess, has_cancelled_finding

    scored = []
    for m in messages:
        units, vectors = scoring_units(m.text, embed)
        scored.append(Scored(m, assess(m.text).level, units, vectors, [has_cancelled_finding(u) for u in units]))
    return scored


def combined_levels(head: FlagHead, scored: list[Scored]) -> list[str]:
    """What the user is shown: the higher of the rules' level and the head's."""
    return [max(s.rules_level, head.judge(s.vectors, s.units, s.modified.__getitem__).level, key=_RANK.__getitem__)
            for s in scored]


def figures(levels: list[str], messages: list[Message]) -> dict:
    def share(rows: list[bool]) -> float | None:
        return round(sum(rows) / len(rows), 4) if rows else None

    pairs = list(zip(levels, messages))
    emergencies = [lv for lv, m in pairs if m.level == "emergency"]
    return {
        "emergency_flagged": share([lv != "none" for lv in emergencies]),
        "emergency_level": share([lv == "emergency" for lv in emergencies]),
        "urgent_flagged": share([lv != "none" for lv, m in pairs if m.level == "urgent"]),
        "urgent_level": share([lv == "urgent" for lv, m in pairs if m.level == "urgent"]),
        "near_miss_not_flagged": share([lv == "none" for lv, m in pairs if m.group.startswith("near_")]),
        "other_none_not_flagged": share([lv == "none" for lv, m in pairs if m.level == "none" and not m.group.startswith("near_")]),
        "counts": {level: sum(m.level == level for m in messages) for level in ("emergency", "urgent", "none")}
        | {"near_miss": sum(m.group.startswith("near_") for m in messages)},
    }


def fit(x: np.ndarray, labels: list[str], c: float):  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=3000)
    model.fit(x, labels)
    return model


_STEPS = tuple(round(0.05 * i, 2) for i in range(1, 20))  # 0.05 ... 0.95
_GRID = {
    "pooling": ("sum", "max"),
    "flag": _STEPS,
    "context": (0.0, 0.8, 0.9, 0.95, 0.98),
    "emergency": _STEPS,
}
# What a missed flag costs. The research note: "for CES we should accept false alarms"; the
# issue: "an emergency card that never showed" is the worst miss.
COSTS = {"missed_emergency": 10.0, "emergency_as_urgent": 2.0, "missed_urgent": 3.0}
# The false alarms the head may add on dev: routine and other non-flag questions stay unflagged
# at least 99% of the time (a margin over the 97%, for wording dev does not have), and
# the head adds at most 5 points of near-miss alarms to the rules' own. Most questions people
# ask are routine, so a false-alarm budget, not a per-message price, is what keeps emergency
# cards off ordinary questions.
ROUTINE_KEPT = 0.99
NEAR_MISS_ADDED = 0.05


def cost(levels: list[str], messages: list[Message]) -> float:
    """Missed flags, priced by COSTS (false alarms are bounded separately)."""
    total = 0.0
    for level, m in zip(levels, messages):
        if m.level == "emergency":
            total += COSTS["missed_emergency"] if level == "none" else COSTS["emergency_as_urgent"] if level == "urgent" else 0.0
        elif m.level == "urgent":
            total += COSTS["missed_urgent"] if level == "none" else 0.0
    return total


def choose_thresholds(head: FlagHead, dev: list[Scored]) -> tuple[FlagHead, list[dict]]:
    """Of the poolings and thresholds within the false-alarm budget on dev (ROUTINE_KEPT,
    NEAR_MISS_ADDED), the one whose missed flags cost least; ties go to the higher thresholds,
    which raise fewer alarms on wording dev does not have. Also returns the trade-off table."""
    from dataclasses import replace

    messages = [s.message for s in dev]
    rules_near = figures([s.rules_level for s in dev], messages)["near_miss_not_flagged"] or 1.0
    best, best_key, table = head, None, []
    for pooling in _GRID["pooling"]:
        for flag in _GRID["flag"]:
            for context in _GRID["context"]:
                for emergency in _GRID["emergency"]:
                    candidate = replace(head, pooling=pooling, flag_threshold=flag, context_threshold=context,
                                        emergency_threshold=emergency)
                    levels = combined_levels(candidate, dev)
                    found = figures(levels, messages)
                    dev_cost = cost(levels, messages)
                    within = (found["other_none_not_flagged"] or 1.0) >= ROUTINE_KEPT and \
                        (found["near_miss_not_flagged"] or 1.0) >= rules_near - NEAR_MISS_ADDED - 1e-9
                    table.append({"pooling": pooling, "flag": flag, "context": context, "emergency": emergency,
                                  "cost": dev_cost, "within_budget": within} | {k: v for k, v in found.items() if k != "counts"})
                    key = (within, -dev_cost, flag, context, emergency)
                    if best_key is None or key > best_key:
                        best, best_key = candidate, key
    return best, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="train and report, write nothing")
    parser.add_argument("-C", type=float, default=REGULARISATION, help="inverse regularisation strength")
    parser.add_argument("--out", type=Path, default=HEAD_PATH)
    args = parser.parse_args(argv)

    from retrieval.index import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    embed = lambda texts: embedder.embed(list(texts))  # noqa: E731
    splits = {name: read_messages(files) for name, files in SPLITS.items()}
    x, labels = training_examples(splits["train"], embed)
    model = fit(x, labels, args.C)
    # float16 weights, as they are saved: the thresholds and figures are those of the shipped head
    head = FlagHead(tuple(str(g) for g in model.classes_), model.coef_.astype(np.float16).astype(np.float32),
                    model.intercept_.astype(np.float32), 0.5, 0.5, 1.0)
    scored = {file: score_messages(read_messages([file]), embed) for files in SPLITS.values() for file in files}
    head, table = choose_thresholds(head, [s for file in SPLITS["dev"] for s in scored[file]])
    report = {
        "regularisation_C": args.C,
        "flag_threshold": head.flag_threshold,
        "context_threshold": head.context_threshold,
        "emergency_threshold": head.emergency_threshold,
        "pooling": head.pooling,
        "costs": COSTS,
        "false_alarm_budget": {"routine_kept": ROUTINE_KEPT, "near_miss_added": NEAR_MISS_ADDED},
        "messages": {name: len(m) for name, m in splits.items()},
        "figures_rules_and_head": {},
        "figures_rules_only": {},
    }
    for name, files in SPLITS.items():
        for file in files:
            messages = [s.message for s in scored[file]]
            key = f"{name}:{file.parent.name + '/' if file.parent != DATA else ''}{file.name}"
            report["figures_rules_and_head"][key] = figures(combined_levels(head, scored[file]), messages)
            report["figures_rules_only"][key] = figures([s.rules_level for s in scored[file]], messages)
    print(json.dumps(report, indent=2))
    if not args.check:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            args.out, groups=np.array(head.groups), weights=head.weights.astype(np.float16), bias=head.bias,
            flag_threshold=np.float32(head.flag_threshold), context_threshold=np.float32(head.context_threshold),
            emergency_threshold=np.float32(head.emergency_threshold), pooling=np.array(head.pooling),
        )
        (args.out.parent / "metrics.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        (args.out.parent / "dev_tradeoff.json").write_text(json.dumps(table) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
