"""Compare two red-flag classifiers as the product triages: ``python -m retrieval.evaluation.compare_flags CANDIDATE``.

``train_flags --out FOLDER`` writes a candidate beside the shipped classifier
(``models/redflag-classifier/``). This runs ``assess`` (the classifier and the bank's rules, as
every surface does) once per classifier, each in its own process with ``RETRIEVAL_FLAG_MODEL``
set, over:

- the frozen red-flag test writers and the lay test writers (``writer_split.yaml``), scored by
  the training script's prices (:func:`flag_thresholds.cost`);
- the team's own labelled set and the shared sample (``tests/data``), as
  ``tests/safety/test_triage.py`` counts them.

It prints both classifiers' figures side by side as JSON, with the checks of the fourth round's
decision rule (EVALUATION.md) that need no test run: the candidate flags at least as many test
writer emergencies and own-set emergencies as the shipped one, shows at least as many own-set
emergencies at the emergency level, declines at most one own-set dosing question fewer, and costs
at least 10% less. The rule's first check is ``RETRIEVAL_FLAG_MODEL=CANDIDATE pytest
tests/safety/test_triage.py``. About two minutes per classifier on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from retrieval.evaluation.training_data import ROOT

_OWN_SET = ROOT / "tests" / "data" / "safety_questions.jsonl"
_SAMPLE = ROOT / "tests" / "data" / "safety_sample.json"
_ORDINARY_GROUPS = ("routine", "near_")


def labelled_sets() -> dict[str, list[dict]]:
    """{"own": [...], "sample": [...]}: each item's query, expected level and whether it asks for a dose
    (the same reading of the files as tests/safety/test_triage.py)."""
    own = []
    for line in _OWN_SET.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            own.append({"query": item["query"], "expect": item["expect"], "dosing": bool(item.get("dosing"))})
    sample = []
    for item in json.loads(_SAMPLE.read_text(encoding="utf-8")):
        why = item["why"]
        if item["expect"] == "urgent":
            expect = "emergency" if why.startswith(("EMERGENCY", "CRISIS")) else "urgent"
            sample.append({"query": item["query"], "expect": expect, "dosing": False})
        else:
            sample.append({"query": item["query"], "expect": "none",
                           "dosing": item["expect"] == "off_topic" and "dosing" in why.lower()})
    return {"own": own, "sample": sample}


def triage_all() -> dict:
    """Every message's level and dosing decline, by the classifier RETRIEVAL_FLAG_MODEL names."""
    from retrieval.evaluation.flag_training import split_items
    from retrieval.evaluation.training_data import flag_messages, lay_questions
    from retrieval.safety import assess

    _, test = split_items(flag_messages(), lay_questions())
    writers = [{"writer": i.writer, "text": i.text, "group": i.group, "level": i.level, "shown": assess(i.text).level}
               for i in test]
    sets = {name: [{**item, "shown": (found := assess(item["query"])).level, "declined_dose": found.dosing}
                   for item in items] for name, items in labelled_sets().items()}
    return {"test_writers": writers, "sets": sets}


def figures(triaged: dict) -> dict:
    from retrieval.evaluation.flag_thresholds import cost
    from retrieval.evaluation.flag_training import Item

    class _Scored:
        def __init__(self, row: dict) -> None:
            self.item = Item(row["writer"], row["text"], row["group"], row["level"])

    rows = triaged["test_writers"]
    out: dict = {"test_writers": {}}
    for writer in sorted({r["writer"] for r in rows}):
        mine = [r for r in rows if r["writer"] == writer]
        emergencies = [r for r in mine if r["level"] == "emergency"]
        ordinary = [r for r in mine if r["level"] == "none"]
        alarming = [r for r in mine if r["group"] and r["group"].startswith(_ORDINARY_GROUPS)]
        out["test_writers"][writer] = {
            "messages": len(mine),
            "emergencies": len(emergencies),
            "emergencies_flagged": sum(r["shown"] != "none" for r in emergencies),
            "emergencies_at_emergency_level": sum(r["shown"] == "emergency" for r in emergencies),
            "ordinary_carded": sum(r["shown"] == "emergency" for r in ordinary),
            "ordinary_flagged": sum(r["shown"] != "none" for r in ordinary),
            "ordinary": len(ordinary),
            **({"alarming_ordinary": len(alarming), "alarming_carded": sum(r["shown"] == "emergency" for r in alarming)}
               if alarming else {}),
            "cost": round(cost([r["shown"] for r in mine], [_Scored(r) for r in mine]), 1),
        }
    red_flag_writers = [w for name, w in out["test_writers"].items() if name.startswith("writer")]
    out["red_flag_test_writers"] = {key: sum(w[key] for w in red_flag_writers) for key in (
        "emergencies", "emergencies_flagged", "emergencies_at_emergency_level")}
    per_writer = out["test_writers"].values()
    out["test_writers_total"] = {key: round(sum(w.get(key, 0) for w in per_writer), 1) for key in (
        "emergencies", "emergencies_flagged", "emergencies_at_emergency_level", "ordinary", "ordinary_carded",
        "ordinary_flagged", "cost")}
    for name, items in triaged["sets"].items():
        emergencies = [i for i in items if i["expect"] == "emergency"]
        urgent = [i for i in items if i["expect"] == "urgent"]
        ordinary = [i for i in items if i["expect"] == "none"]
        dosing = [i for i in items if i["dosing"]]
        out[name] = {
            "emergencies": len(emergencies),
            "emergencies_flagged": sum(i["shown"] != "none" for i in emergencies),
            "emergencies_at_emergency_level": sum(i["shown"] == "emergency" for i in emergencies),
            "urgent_flagged": f"{sum(i['shown'] != 'none' for i in urgent)}/{len(urgent)}",
            "ordinary_flagged": f"{sum(i['shown'] != 'none' for i in ordinary)}/{len(ordinary)}",
            "dosing_declined": sum(i["declined_dose"] for i in dosing),
            "dosing": len(dosing),
        }
    return out


def rule_checks(shipped: dict, candidate: dict) -> dict[str, bool]:
    """The fourth round's decision rule, checks 2-5 (check 1 is the hand-written tests)."""
    s, c = shipped, candidate
    return {
        "2_own_emergencies_flagged": c["own"]["emergencies_flagged"] >= s["own"]["emergencies_flagged"],
        "2_own_emergencies_at_emergency_level": c["own"]["emergencies_at_emergency_level"] >= s["own"]["emergencies_at_emergency_level"],
        "3_red_flag_test_writer_emergencies_flagged":
            c["red_flag_test_writers"]["emergencies_flagged"] >= s["red_flag_test_writers"]["emergencies_flagged"],
        "4_own_dosing_declined": c["own"]["dosing_declined"] >= s["own"]["dosing_declined"] - 1,
        "5_cost_at_least_10_percent_lower": c["test_writers_total"]["cost"] <= 0.9 * s["test_writers_total"]["cost"],
    }


def _run_with(folder: Path) -> dict:
    environment = {**os.environ, "RETRIEVAL_FLAG_MODEL": str(folder.resolve())}
    result = subprocess.run([sys.executable, "-m", "retrieval.evaluation.compare_flags", "--triage-only"],
                            capture_output=True, text=True, env=environment, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"error: triage with {folder} failed: {result.stderr.strip().splitlines()[-1:]}")
    return json.loads(result.stdout)


def main(argv: list[str] | None = None) -> int:
    from retrieval.safety import MODEL_DIR

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("candidate", type=Path, nargs="?", help="a folder train_flags --out wrote")
    parser.add_argument("--against", type=Path, default=MODEL_DIR, help="the classifier to compare with (the shipped one)")
    parser.add_argument("--save", type=Path, help="also write each classifier's per-message levels here (JSON)")
    parser.add_argument("--triage-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.triage_only:
        print(json.dumps(triage_all()))
        return 0
    if args.candidate is None:
        parser.error("name the candidate's folder")
    for folder in (args.candidate, args.against):
        if not (folder / "head.npz").is_file():
            parser.error(f"{folder} holds no red-flag classifier (no head.npz): train_flags --out FOLDER writes one")
    shipped, candidate = _run_with(args.against), _run_with(args.candidate)
    if args.save:
        args.save.write_text(json.dumps({"shipped": shipped, "candidate": candidate}) + "\n", encoding="utf-8")
    s, c = figures(shipped), figures(candidate)
    print(json.dumps({"shipped": str(args.against), "candidate": str(args.candidate), "figures": {"shipped": s, "candidate": c},
                      "rule_checks": rule_checks(s, c)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
