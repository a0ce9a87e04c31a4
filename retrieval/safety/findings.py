"""Match the red-flag bank against a message: which findings are present (each match unless a
modifier cancels it) and which rules fire."""
from __future__ import annotations

from retrieval.safety import redflags
from retrieval.safety.modifiers import Clauses, is_cancelled


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


def fired_rules(doc: Clauses, *, about_animal: bool = False) -> list[redflags.Rule]:
    """The rules whose findings are all present in ``doc`` (only "crisis" for a pet's symptoms)."""
    found = _Present(doc)
    fired = [
        rule for rule in redflags.RULES
        if all(f in found for f in rule.all_of) and (not rule.any_of or any(f in found for f in rule.any_of))
    ]
    if fired and about_animal:
        fired = [rule for rule in fired if rule.id == "crisis"]  # "my dog can't pee"
    return fired
