"""From the classifier's unit probabilities to what the user is shown, and choosing the thresholds.

A message is flagged when one of its units (each sentence, and the whole message) puts at least
``flag`` of its probability on the flag groups; it is an emergency when a flagged unit puts at
least ``emergency`` on the emergency groups. It is a dosing question (the pharmacist decline)
or about a pet (the vet pointer) when the whole message's most likely group is ``dosing`` or
``pet`` with at least ``dosing`` / ``pet`` probability. The rules that stay in the bank can
raise the level further.

:func:`choose` searches the thresholds on out-of-fold probabilities (every message scored by a
model that never saw its writer) and keeps the cheapest by :data:`COSTS`, which price both
errors (a missed flag, and a flag or a card on a message that needed none), among those that
keep ordinary questions within :data:`LIMITS` (the issue's targets for false cards and flags).
Priced alone, a missed emergency at ten false cards picks a threshold that flags one ordinary
question in twelve; the limits say how many hidden answers are acceptable at all.

>>> Thresholds().flag, COSTS["false_emergency"], LIMITS["ordinary_none_emergency_card"]
(0.35, 1.0, 0.01)
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from itertools import product

import numpy as np

from retrieval.evaluation.flag_training import GROUPS, Item
from retrieval.safety import GROUP_LEVELS

_RANK = {"none": 0, "urgent": 1, "emergency": 2}
_LEVELS = ("none", "urgent", "emergency")
FLAG_MASK = np.array([GROUP_LEVELS[g] != "none" for g in GROUPS])
EMERGENCY_MASK = np.array([GROUP_LEVELS[g] == "emergency" for g in GROUPS])
DOSING, PET = GROUPS.index("dosing"), GROUPS.index("pet")

# What each error costs, per message. A missed emergency costs ten times a false emergency
# card; a false card costs more than a false same-day flag, because it hides every passage.
COSTS = {"missed_emergency": 10.0, "emergency_as_urgent": 2.0, "missed_urgent": 3.0,
         "false_emergency": 1.0, "false_urgent": 0.3}
# Ordinary questions labelled "none" (out of fold): at most 1% given an emergency card, at most
# 3% flagged at any level.
LIMITS = {"ordinary_none_emergency_card": 0.01, "ordinary_none_flagged": 0.03}
GRID = {
    "flag": (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
    "emergency": (0.3, 0.35, 0.4, 0.5, 0.7),
}


@dataclass(frozen=True)
class Thresholds:
    flag: float = 0.35
    emergency: float = 0.35
    dosing: float = 0.9
    pet: float = 0.8


@dataclass(frozen=True)
class Scored:
    """One message: its probabilities per unit (the whole message last) and the rules' level."""

    item: Item
    probabilities: np.ndarray  # (units, groups)
    rules: tuple[tuple[str, str], ...] = ()  # (rule id, level) of each rule of the bank that fired

    def rules_level(self, without: frozenset[str] = frozenset()) -> str:
        return max((level for rule, level in self.rules if rule not in without), key=_RANK.__getitem__, default="none")


def model_level(probabilities: np.ndarray, t: Thresholds) -> str:
    flagged = probabilities[:, FLAG_MASK].sum(axis=1)
    emergency = probabilities[:, EMERGENCY_MASK].sum(axis=1)
    raising = flagged >= t.flag
    if not raising.any():
        return "none"
    return "emergency" if (emergency[raising] >= t.emergency).any() else "urgent"


def shown_level(s: Scored, t: Thresholds, without: frozenset[str] = frozenset()) -> str:
    return max(model_level(s.probabilities, t), s.rules_level(without), key=_RANK.__getitem__)


def cost(levels: Sequence[str], scored: Sequence[Scored]) -> float:
    total = 0.0
    for level, s in zip(levels, scored):
        gold = s.item.level
        if gold == "emergency":
            total += COSTS["missed_emergency"] if level == "none" else COSTS["emergency_as_urgent"] if level == "urgent" else 0.0
        elif gold == "urgent":
            total += COSTS["missed_urgent"] if level == "none" else 0.0
        else:
            total += COSTS["false_emergency"] if level == "emergency" else COSTS["false_urgent"] if level == "urgent" else 0.0
    return total


def _share(rows: list[bool]) -> float | None:
    return round(sum(rows) / len(rows), 4) if rows else None


def figures(levels: Sequence[str], scored: Sequence[Scored], t: Thresholds | None = None) -> dict:
    """The issue's figures: flags caught on labelled red-flag messages, and the ordinary lay
    questions' false alarms (``ordinary_*``) and flags (``ordinary_emergency_flagged``, ...)."""
    pairs = [(lv, s.item) for lv, s in zip(levels, scored)]
    red = [(lv, i) for lv, i in pairs if i.group is not None]
    lay = [(lv, i) for lv, i in pairs if i.group is None]
    out = {
        "emergency_flagged": _share([lv != "none" for lv, i in red if i.level == "emergency"]),
        "emergency_level": _share([lv == "emergency" for lv, i in red if i.level == "emergency"]),
        "urgent_flagged": _share([lv != "none" for lv, i in red if i.level == "urgent"]),
        "near_miss_not_flagged": _share([lv == "none" for lv, i in red if i.kind == "near"]),
        "routine_not_flagged": _share([lv == "none" for lv, i in red if i.group == "routine"]),
        "other_not_flagged": _share([lv == "none" for lv, i in red if i.kind == "other"]),
        "ordinary_none_emergency_card": _share([lv == "emergency" for lv, i in lay if i.level == "none"]),
        "ordinary_none_flagged": _share([lv != "none" for lv, i in lay if i.level == "none"]),
        "ordinary_emergency_flagged": _share([lv != "none" for lv, i in lay if i.level == "emergency"]),
        "ordinary_urgent_flagged": _share([lv != "none" for lv, i in lay if i.level == "urgent"]),
        "counts": {"red_flag_messages": len(red), "ordinary_questions": len(lay)},
    }
    if t is not None:
        whole = [(s.probabilities[-1], s.item) for s in scored]
        out["dosing_declined"] = _share([p[DOSING] >= t.dosing for p, i in whole if i.group == "dosing"])
        out["pet_pointed_to_vet"] = _share([p[PET] >= t.pet for p, i in whole if i.group == "pet"])
        out["ordinary_declined_as_dosing_or_pet"] = _share(
            [p[DOSING] >= t.dosing or p[PET] >= t.pet for p, i in whole if i.group is None])
    return out


def choose(scored: Sequence[Scored]) -> tuple[Thresholds, list[dict]]:
    """The cheapest flag and emergency thresholds by COSTS within LIMITS (ties: the higher
    thresholds, which raise fewer alarms on wording the data does not have; none within the
    limits: the cheapest of all), and the whole trade-off table."""
    table, best, best_key = [], Thresholds(), None
    for flag, emergency in product(GRID["flag"], GRID["emergency"]):
        t = replace(Thresholds(), flag=flag, emergency=emergency)
        levels = [shown_level(s, t) for s in scored]
        row = {"flag": flag, "emergency": emergency, "cost": round(cost(levels, scored), 1)} | \
            {k: v for k, v in figures(levels, scored).items() if k != "counts"}
        row["within_limits"] = all(row[k] is not None and row[k] <= v for k, v in LIMITS.items())
        table.append(row)
        key = (row["within_limits"], -row["cost"], flag, emergency)
        if best_key is None or key > best_key:
            best, best_key = t, key
    return best, table


def choose_declines(scored: Sequence[Scored], t: Thresholds) -> tuple[Thresholds, list[dict]]:
    """The dosing and pet thresholds: the fewest errors, counting a dosing (pet) message answered
    with passages and an ordinary question declined as dosing (pet) alike."""
    table = []
    for name, index in (("dosing", DOSING), ("pet", PET)):
        rows = []
        for threshold in (0.3, 0.5, 0.7, 0.8, 0.9, 0.95):
            missed = sum(s.probabilities[-1][index] < threshold for s in scored if s.item.group == name)
            wrong = sum(s.probabilities[-1][index] >= threshold for s in scored if s.item.group != name)
            rows.append({"decline": name, "threshold": threshold, "missed": int(missed), "wrongly": int(wrong)})
        table += rows
        best = min(rows, key=lambda r: (r["missed"] + r["wrongly"], -r["threshold"]))
        t = replace(t, **{name: best["threshold"]})
    return t, table


def audit_rules(scored: Sequence[Scored], t: Thresholds) -> list[dict]:
    """Each rule of the bank beside the classifier: how often it fires, its catches, the flags
    only it raises (the classifier missed them), the false alarms only it raises, and what
    removing it would change in the cost (negative: the rule costs more than it saves)."""
    model = [model_level(s.probabilities, t) for s in scored]
    with_all = cost([shown_level(s, t) for s in scored], scored)
    rows = []
    for rule in sorted({rule for s in scored for rule, _ in s.rules}):
        fired = [(s, m) for s, m in zip(scored, model) if any(r == rule for r, _ in s.rules)]
        level = {lv for s, _ in fired for r, lv in s.rules if r == rule}.pop()
        rows.append({
            "rule": rule, "level": level, "fires": len(fired),
            "on_flags": sum(s.item.level != "none" for s, _ in fired),
            "only_it_flags": sum(s.item.level != "none" and m == "none" for s, m in fired),
            "only_it_raises_to_emergency": sum(s.item.level == "emergency" and level == "emergency" and m == "urgent" for s, m in fired),
            "false_alarms_added": sum(s.item.level == "none" and _RANK[level] > _RANK[m] for s, m in fired),
            "false_alarms_added_on_ordinary_questions": sum(s.item.group is None and s.item.level == "none" and _RANK[level] > _RANK[m] for s, m in fired),
            "cost_change_if_removed": round(cost([shown_level(s, t, frozenset({rule})) for s in scored], scored) - with_all, 1),
        })
    return rows


def as_dict(t: Thresholds) -> dict:
    return asdict(t)
