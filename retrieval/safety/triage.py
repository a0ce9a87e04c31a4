"""Medical-safety triage: runs on every question, before retrieval, as plain deterministic code.

``assess(question)`` returns a :class:`Triage` with the care level ("emergency", "urgent" or
"none"), the ids of the red flags that fired, and three topic flags (crisis, dosing,
safety net). The wording shown to the user lives in ``care.py``; the red-flag bank in
``data/red_flags.yaml``.

How it works (a small ConText/NegEx-style pipeline):

1. ``normalise.py``: Unicode NFKC, lower case, contractions and txt-speak expanded ("cant" ->
   "cannot", "u" -> "you"), misspellings corrected ("numbess" -> "numbness").
2. ``modifiers.py``: the text is cut into clauses at sentence ends and at words that change the
   subject ("but", "now", "also"...), so a red flag "mentioned in passing" keeps its own clause
   and a negation in one clause cannot reach the next.
3. ``findings.py``: each *finding* of the bank (``data/red_flags.yaml``) is matched with precise
   regexes; a match counts unless one of the finding's modifiers cancels it (negation,
   hypothetical, information question, past/resolved, someone else's history, positional...).
   The bank's rules combine findings: e.g. fever only counts with back pain, while saddle
   numbness, bladder/bowel problems, both legs, chest pain and crisis statements fire alone.
4. ``learned_flags.py``: the learned head can raise the level where the patterns missed a flag.

Prompt-injection text ("don't tell me to go to A&E") is just more text: nothing in the
question can switch a rule off.

>>> assess("numb between my legs since this morning and my back is agony").level
'emergency'
>>> assess("no numbness down there and peeing fine, just a stiff back").level
'none'
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from retrieval.safety import redflags
from retrieval.safety.findings import fired_rules
from retrieval.safety.redflags import EMERGENCY, URGENT  # the levels the bank's rules raise
from retrieval.safety.modifiers import Clauses, is_about_animal
from retrieval.safety.normalise import normalise_text

if TYPE_CHECKING:
    from retrieval.safety.learned_flags import Embed

NONE = "none"
_LEVEL_RANK = {NONE: 0, URGENT: 1, EMERGENCY: 2}


@dataclass(frozen=True)
class Triage:
    """What the safety layer found in one question."""

    level: str  # "emergency" | "urgent" | "none"
    reasons: tuple[str, ...]  # short ids of the red flags that fired, most serious first
    crisis: bool = False  # suicidal intent: crisis-line signposting (level is then "emergency")
    dosing: bool = False  # a medicine dose/strength/combination question: decline (never with crisis)
    safety_net: bool = False  # sciatica / nerve-pain topic: add the one-line safety net
    about_animal: bool = False  # about a pet's symptoms, not the asker's: the articles are about people


__all__ = ["EMERGENCY", "URGENT", "NONE", "Triage", "assess", "normalise_text"]

def assess(question: str, *, embed: Embed | None = None, message_vector=None) -> Triage:  # type: ignore[no-untyped-def]
    """Triage one user question. Deterministic; never raises on odd input.

    ``embed`` (optional) is the pipeline's already-loaded encoder: ``list[str] -> float32
    array (n, 384)``, L2-normalised. With it, the learned head (``learned_flags``) scores the
    message and its sentences, and can raise the level (and set ``crisis``) where the patterns
    missed a flag; it never lowers a level found by the patterns. ``message_vector`` is the
    question's vector when retrieval already computed it for the same text (reused).
    """
    raw = question if isinstance(question, str) else str(question or "")
    text = normalise_text(raw)
    doc = Clauses(text)
    animal_only = is_about_animal(text)
    fired = fired_rules(doc, about_animal=animal_only)
    reasons = [rule.id for rule in fired]
    level = max((rule.level for rule in fired), key=_LEVEL_RANK.__getitem__, default=NONE)

    if embed is not None and text and not animal_only and "crisis" not in reasons:
        from retrieval.safety.learned_flags import learned_flag

        learned = learned_flag(raw, embed, message_vector=message_vector)
        if learned.level != NONE and (_LEVEL_RANK[learned.level] > _LEVEL_RANK[level] or learned.group == "crisis"):
            reasons.insert(0, learned.group)
            level = max(level, learned.level, key=_LEVEL_RANK.__getitem__)

    reasons.sort(key=lambda r: -_LEVEL_RANK[_rule_level(r)])
    return Triage(
        level=level,
        reasons=tuple(dict.fromkeys(reasons)),
        crisis="crisis" in reasons,
        # in a crisis the crisis card is the whole answer: no dosing decline beside it
        dosing=bool(redflags.BANK.dosing.search(text)) and "crisis" not in reasons,
        safety_net=bool(redflags.BANK.safety_net.search(text)) and not animal_only,
        about_animal=animal_only and "crisis" not in reasons,
    )


@lru_cache(maxsize=None)
def _rule_level(rule_id: str) -> str:
    from retrieval.safety.learned_flags import GROUP_LEVELS

    return next((r.level for r in redflags.RULES if r.id == rule_id), GROUP_LEVELS.get(rule_id, URGENT))
