"""Match the red-flag bank against a message: which findings are present (each match unless a
modifier cancels it) and which rules fire."""
from __future__ import annotations

from retrieval.safety import redflags
from retrieval.safety.modifiers import Clauses, is_cancelled
from retrieval.safety.normalise import normalise_text


_BY_ID = {finding.id: finding for finding in redflags.FINDINGS}


class _Present:
    """Lazily decides which findings are present (rules short-circuit, so most are never run)."""

    def __init__(self, doc: Clauses):
        self.doc = doc
        self._memo: dict[str, bool] = {}

    def __contains__(self, finding_id: str) -> bool:
        if finding_id not in self._memo:
            finding = _BY_ID[finding_id]
            self._memo[finding_id] = any(
                not is_cancelled(finding, m, self.doc) for m in finding.pattern.finditer(self.doc.text)
            )
        return self._memo[finding_id]


def fired_rules(doc: Clauses, *, about_animal: bool) -> list[redflags.Rule]:
    """The rules whose findings are all present in ``doc`` (only "crisis" for a pet's symptoms)."""
    found = _Present(doc)
    fired = [
        rule for rule in redflags.RULES
        if all(f in found for f in rule.all_of) and (not rule.any_of or any(f in found for f in rule.any_of))
    ]
    if fired and about_animal:
        fired = [rule for rule in fired if rule.id == "crisis"]  # "my dog can't pee"
    return fired


def has_cancelled_finding(sentence: str) -> bool:
    """True when the patterns recognise a red-flag finding in ``sentence`` and a ConText
    modifier cancels every match of it: "no numbness down there", "the fever I had last week
    is gone", "my foot went numb sitting cross-legged". The learned head then needs a higher
    score to raise a level from this sentence; wording the patterns do not know is left to it."""
    doc = Clauses(normalise_text(sentence))
    for finding in redflags.FINDINGS:
        if not finding.modifiers:
            continue
        matches = list(finding.pattern.finditer(doc.text))
        if matches and all(is_cancelled(finding, m, doc) for m in matches):
            return True
    return False
