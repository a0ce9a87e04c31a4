"""The words around a red-flag finding that change what it means, ConText / NegEx style:
negation ("no numbness"), hypothetical ("if I ever..."), an information question, past or
resolved, someone else's history, positional numbness, exertion, movement-related pain,
concern, weight lost on purpose. The word lists are data: ``data/modifiers.yaml``.

A message is cut into clauses first (:class:`Clauses`) at sentence ends and at words that
change the subject ("but", "now", "also"...), so a red flag mentioned in passing keeps its own
clause and a negation in one clause cannot reach the next. Which modifiers may cancel which
finding is set per finding in ``data/red_flags.yaml``.
"""
from __future__ import annotations

import bisect
import re
from pathlib import Path

from retrieval.datafiles import Checker, LineDict, read_yaml
from retrieval.safety import redflags

MODIFIERS_PATH = Path(__file__).resolve().parent / "data" / "modifiers.yaml"
EXPECTED = (
    "clause_break", "negation", "pseudo_negation", "post_negation", "hypothetical", "question_start",
    "personal", "past", "remote_past", "positional", "exertion", "mechanical", "concern", "third_person",
    "first_person_subject", "carer_symptoms", "first_person_symptoms", "intended_weight_loss",
    "unintended_weight_loss", "weight_aspiration", "own_body_beside_an_animal",
)
WINDOW_CHARS = 160  # how far a modifier may sit from its target (bounded for long inputs)
NEGATION_TOKENS = 6
_WORDS = re.compile(r"[a-z0-9&'-]+")


def load_modifiers(path: Path = MODIFIERS_PATH) -> dict[str, re.Pattern[str]]:
    """Read, check and compile every pattern ``modifiers.yaml`` holds (all of ``EXPECTED``)."""
    check = Checker(path)
    data = read_yaml(path)
    fragments = dict(redflags.BANK.fragments)
    raw_fragments = check.mapping(data, "fragments", "fragments")
    for name in raw_fragments:
        fragments[name] = _entry(check, raw_fragments, name, fragments)
    patterns = check.mapping(data, "patterns", "patterns", required=EXPECTED, allowed=EXPECTED)
    return {name: check.regex(_entry(check, patterns, name, fragments), patterns.lines[name], name) for name in EXPECTED}


def _entry(check: Checker, parent: LineDict, name: str, fragments: dict[str, str]) -> str:
    """A pattern as written: text, ``words: [...]`` (whole words) or ``any_of: [...]``."""
    value = parent[name]
    if isinstance(value, dict):
        form = check.mapping(parent, name, name, allowed=("words", "any_of"))
        if len(form) != 1:
            raise check.fail(form.line, f"{name} should have one of words or any_of")
        key = next(iter(form))
        joined = "|".join(check.strings(form, key, f"{name}: {key}"))
        text = rf"\b(?:{joined})\b" if key == "words" else joined
    else:
        text = check.string(parent, name, name)

    return check.fill(text, fragments, parent.lines[name], name)


PATTERNS = load_modifiers()
_P = PATTERNS


class Clauses:
    """Normalised text plus its clause boundaries, so modifier checks stay local and cheap."""

    def __init__(self, text: str):
        self.text = text
        starts = [0]
        ends = []
        for m in _P["clause_break"].finditer(text):
            ends.append(m.start())
            starts.append(m.end())
        ends.append(len(text))
        self.starts = starts
        self.ends = ends
        self.carer = bool(_P["carer_symptoms"].search(text)) and not _P["first_person_symptoms"].search(text)

    def clause_of(self, position: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, position) - 1
        return self.starts[i], self.ends[i]


def _last_tokens(text: str, n: int) -> str:
    return " ".join(_WORDS.findall(text)[-n:])


def is_cancelled(finding: redflags.Finding, match: re.Match[str], doc: Clauses) -> bool:
    """True when a modifier in the match's clause cancels this match of ``finding``."""
    mods = finding.modifiers
    text = doc.text
    clause_start, clause_end = doc.clause_of(match.start())
    pre = text[max(clause_start, match.start() - WINDOW_CHARS):match.start()]
    post = text[match.end():min(clause_end, match.end() + WINDOW_CHARS)]
    clause = text[max(clause_start, match.start() - WINDOW_CHARS):
                  min(clause_end, match.end() + WINDOW_CHARS)]
    pre_comma = pre.rsplit(",", 1)[-1]

    if "negation" in mods:
        window = _last_tokens(_P["pseudo_negation"].sub(" ", pre_comma), NEGATION_TOKENS)
        if _P["negation"].search(window) or _P["post_negation"].search(post):
            return True
    if "hypothetical" in mods and _P["hypothetical"].search(_last_tokens(pre_comma, 10)):
        return True
    if "info" in mods and _P["question_start"].search(text[clause_start:clause_start + 40]) \
            and not _P["personal"].search(clause):
        return True
    if "past" in mods or "remote_past" in mods:
        near = _last_tokens(pre_comma, 8) + " | " + " ".join(_WORDS.findall(post.split(",", 1)[0])[:8])
        if "past" in mods and _P["past"].search(near):
            return True
        if "remote_past" in mods and _P["remote_past"].search(near):
            return True
    if "positional" in mods and _P["positional"].search(clause):
        return True
    if "exertion" in mods and _P["exertion"].search(clause):
        return True
    if "mechanical" in mods and _P["mechanical"].search(clause):
        return True
    if "needs_pain_word" in mods and not _PAIN_WORD.search(clause):
        return True
    if "concern" in mods and _P["concern"].search(_last_tokens(pre, 8)):
        return True
    if "experiencer" in mods and not doc.carer and _about_someone_else(pre, post):
        return True
    if "intended" in mods:
        if _P["unintended_weight_loss"].search(text):
            return False
        if _P["intended_weight_loss"].search(text) or _P["weight_aspiration"].search(pre):
            return True
    return False


_PAIN_WORD = re.compile(redflags.PAIN_WORD)


def _about_someone_else(pre: str, post: str) -> bool:
    """Someone else is named before the finding and the asker does not come back in after them,
    or the finding "runs in the family"."""
    last_other = None
    window = pre[-WINDOW_CHARS:]
    for last_other in _P["third_person"].finditer(window):
        pass
    if last_other is not None and not _P["first_person_subject"].search(window[last_other.end():]):
        return True
    return bool(re.match(r"\W*(?:runs in|in the family)", post))
