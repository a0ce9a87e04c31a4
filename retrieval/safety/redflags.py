"""The curated red-flag bank, read from ``data/red_flags.yaml``: the lexicon (fragments), the
findings with the modifiers that may cancel them, the rules that combine findings into a level,
and the safety-net topic.

The bank itself is data, so a clinician can review it without reading Python; this module reads
it once, at import, and checks it: every pattern must compile, every ``{{fragment}}`` and
modifier must be known, every rule must name findings that exist. Each finding's patterns are
compiled here, once, into the one expression triage searches with. Anything malformed stops the
start with :class:`~retrieval.errors.DataFileError` naming the file and the line.

* ``FINDINGS``: one entry per clinical idea ("saddle numbness", "fever", "own cancer history").
* ``RULES``: combinations of findings that raise a level ("fever" only with back pain).
* The learned layer (``learned_flags.py``) is trained on labelled messages; triage.py combines both.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.datafiles import Checker, LineDict, PLACEHOLDER, read_yaml

BANK_PATH = Path(__file__).resolve().parent / "data" / "red_flags.yaml"
EMERGENCY = "emergency"
URGENT = "urgent"
# What triage.py knows how to check (see the file's comments for what each one means).
MODIFIERS = frozenset({
    "negation", "hypothetical", "info", "past", "remote_past", "experiencer", "positional", "exertion",
    "mechanical", "concern", "intended", "needs_pain_word",
})


@dataclass(frozen=True)
class Finding:
    """One clinical idea found in text: lexicon patterns plus the modifiers that can cancel it."""

    id: str
    patterns: tuple[str, ...]
    modifiers: frozenset[str]
    pattern: re.Pattern[str] = field(compare=False, repr=False)  # the patterns as one expression


@dataclass(frozen=True)
class Rule:
    """A red flag: fires when every finding in ``all_of`` and at least one of ``any_of`` is present."""

    id: str
    level: str
    all_of: tuple[str, ...]
    any_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bank:
    """Everything ``red_flags.yaml`` holds, checked and with fragments filled in."""

    fragments: dict[str, str]
    findings: tuple[Finding, ...]
    rules: tuple[Rule, ...]
    safety_net: re.Pattern[str]  # nerve pain down the leg: the safety-net line


def load_bank(path: Path = BANK_PATH) -> Bank:
    """Read and check the bank at ``path``."""
    check = Checker(path)
    data = read_yaml(path)
    sections = ("fragments", "modifier_sets", "findings", "rules", "safety_net_patterns")
    check.keys(data, "the file", required=sections)
    fragments = _fragments(check, check.mapping(data, "fragments", "fragments"))
    modifier_sets = _modifier_sets(check, check.mapping(data, "modifier_sets", "modifier_sets"))
    findings = _findings(check, data, fragments, modifier_sets)
    known = {finding.id for finding in findings}
    return Bank(
        fragments=fragments,
        findings=findings,
        rules=_rules(check, data, known),
        safety_net=_patterns(check, data, "safety_net_patterns", fragments),
    )


def _fragments(check: Checker, raw: LineDict) -> dict[str, str]:
    fragments = {}
    for name, value in raw.items():
        what = f"fragment {name!r}"
        if isinstance(value, list):
            value = "(?:" + "|".join(check.strings(raw, name, what)) + ")"
        else:
            value = check.string(raw, name, what)
        fragments[name] = value
    return fragments


def _modifier_sets(check: Checker, raw: LineDict) -> dict[str, frozenset[str]]:
    sets = {}
    for name in raw:
        members = check.strings(raw, name, f"modifier set {name!r}")
        unknown = sorted(set(members) - MODIFIERS)
        if unknown:
            raise check.fail(raw.lines[name], f"modifier set {name!r}: unknown modifier {unknown[0]!r} (known: {', '.join(sorted(MODIFIERS))})")
        sets[name] = frozenset(members)
    return sets


def _compiled(check: Checker, raw: list[str], lines: list[int], data: LineDict, fragments: dict[str, str], what: str) -> tuple[tuple[str, ...], re.Pattern[str]]:
    """The patterns with their fragments filled in, and compiled once, as one expression that
    matches any of them (the form triage searches with)."""
    patterns = tuple(check.fill(pattern, fragments, line, f"{what} {j}") for j, (pattern, line) in enumerate(zip(raw, lines), 1))
    try:
        return patterns, re.compile("|".join(f"(?:{p})" for p in patterns))
    except re.error:
        pass
    # A broken file: blame a fragment the patterns use, else the pattern itself, by its line.
    for name in sorted({name for pattern in raw for name in PLACEHOLDER.findall(pattern)}):
        check.regex(fragments[name], data["fragments"].lines[name], f"fragment {name!r}")
    for j, (pattern, line) in enumerate(zip(patterns, lines), 1):
        check.regex(pattern, line, f"{what} {j}")
    raise check.fail(lines[0], f"{what}s do not compile together (a group name used twice?)")


def _findings(check: Checker, data: LineDict, fragments: dict[str, str], modifier_sets: dict[str, frozenset[str]]) -> tuple[Finding, ...]:
    entries = data["findings"]
    if not isinstance(entries, list) or not entries:
        raise check.fail(data.lines["findings"], "findings should be a non-empty list")
    findings: list[Finding] = []
    for i, _ in enumerate(entries):
        entry = check.mapping(entries, i, f"finding {i + 1}", required=("id", "cancelled_by", "patterns"))
        fid = check.string(entry, "id", f"finding {i + 1}: id")
        if any(f.id == fid for f in findings):
            raise check.fail(entry.lines["id"], f"finding {fid!r} appears twice")
        modifiers: set[str] = set()
        for name in check.strings(entry, "cancelled_by", f"finding {fid!r}: cancelled_by", allow_empty=True):
            if name in modifier_sets:
                modifiers |= modifier_sets[name]
            elif name in MODIFIERS:
                modifiers.add(name)
            else:
                raise check.fail(entry.lines["cancelled_by"], f"finding {fid!r}: unknown modifier {name!r} (known: {', '.join(sorted(MODIFIERS | set(modifier_sets)))})")
        raw_patterns = check.strings(entry, "patterns", f"finding {fid!r}: patterns")
        patterns, pattern = _compiled(check, raw_patterns, entry["patterns"].lines, data, fragments, f"finding {fid!r}, pattern")
        findings.append(Finding(fid, patterns, frozenset(modifiers), pattern))
    return tuple(findings)


def _rules(check: Checker, data: LineDict, known: set[str]) -> tuple[Rule, ...]:
    entries = data["rules"]
    if not isinstance(entries, list) or not entries:
        raise check.fail(data.lines["rules"], "rules should be a non-empty list")
    rules = []
    for i, _ in enumerate(entries):
        entry = check.mapping(entries, i, f"rule {i + 1}", required=("id", "level", "all_of"), allowed=("any_of",))
        rid = check.string(entry, "id", f"rule {i + 1}: id")
        level = check.string(entry, "level", f"rule {rid!r}: level")
        if level not in (EMERGENCY, URGENT):
            raise check.fail(entry.lines["level"], f"rule {rid!r}: level should be {EMERGENCY} or {URGENT}, not {level!r}")
        groups = {}
        for key in ("all_of", "any_of"):
            names = check.strings(entry, key, f"rule {rid!r}: {key}", allow_empty=key == "any_of") if key in entry else []
            unknown = [name for name in names if name not in known]
            if unknown:
                raise check.fail(entry.lines[key], f"rule {rid!r}: {key} names {unknown[0]!r}, which is not a finding")
            groups[key] = tuple(names)
        rules.append(Rule(rid, level, groups["all_of"], groups["any_of"]))
    return tuple(rules)


def _patterns(check: Checker, data: LineDict, key: str, fragments: dict[str, str]) -> re.Pattern[str]:
    raw = check.strings(data, key, key)
    return _compiled(check, raw, data[key].lines, data, fragments, key)[1]


BANK = load_bank()
FINDINGS = BANK.findings
RULES = BANK.rules
PAIN_WORD = BANK.fragments["pain_word"]
