"""Medical-safety triage: runs on every question, before retrieval.

``assess(question)`` returns a :class:`Triage` with the care level ("emergency", "urgent" or
"none"), the ids of the red flags that fired, and four topic flags (crisis, dosing, safety net,
about an animal). The wording shown to the user lives in ``care.py``.

Two parts, both measured on writers nobody tuned on (EVALUATION.md, "Safety"):

1. ``learned_flags.py``: a MiniLM fine-tuned end to end as a classifier (int8 ONNX in
   ``models/redflag-classifier/``, trained by ``python -m retrieval.evaluation.train_flags`` on
   independent writers, split by writer). It scores the whole message and each of its sentences,
   so a red flag at the end of a long message counts as much as one alone. It decides the level,
   crisis, a medicine-dose question (declined) and a question about a pet.
2. The rules of ``data/red_flags.yaml``, matched with precise regexes over clauses
   (``normalise.py``, ``modifiers.py``, ``findings.py``: NegEx-style negation, hypothetical,
   information question, past...). Only rules that still catch emergencies the classifier
   misses on held-out writers are kept (the audit in ``train_flags``); they can only raise a level.

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
from retrieval.safety import redflags
from retrieval.safety.findings import fired_rules
from retrieval.safety.redflags import EMERGENCY, URGENT  # the levels the bank's rules raise
from retrieval.safety.modifiers import PATTERNS, Clauses
from retrieval.safety.normalise import clean_characters, normalise_text

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
    off_topic: bool = False  # almost surely not a health question: declined as not covered, whatever the passages' scores


__all__ = ["EMERGENCY", "URGENT", "NONE", "Triage", "assess", "normalise_text", "rule_level"]

def assess(question: str, *, learned: bool = True) -> Triage:
    """Triage one user question. Deterministic; never raises on odd input.

    With ``learned`` (the default, and what every surface uses), the learned classifier
    (``learned_flags``) scores the message and its sentences: it raises the level (and sets
    ``crisis``) where it finds a flag, and it alone decides whether the message asks about a
    medicine's dose (``dosing``) or about a pet (``about_animal``). It never lowers a level the
    rules found, except for a pet's symptoms (a message about the asker's own body beside an
    animal, modifiers.yaml's ``own_body_beside_an_animal``, is not about a pet).
    ``learned=False`` runs the rules alone (for testing them, and for the training script's
    audit of them).
    """
    raw = question if isinstance(question, str) else str(question or "")
    text = normalise_text(raw)
    found = None
    if learned and text:
        from retrieval.safety.learned_flags import learned_flag

        found = learned_flag(clean_characters(raw))
    # the classifier's pet decline, unless the message is about the asker's own body
    about_animal = bool(found and found.pet) and not PATTERNS["own_body_beside_an_animal"].search(text)
    fired = fired_rules(Clauses(text), about_animal=about_animal)
    reasons = [rule.id for rule in fired]
    level = max((rule.level for rule in fired), key=_LEVEL_RANK.__getitem__, default=NONE)
    if found is not None and found.level != NONE and (not about_animal or found.group == "crisis"):
        # the classifier's groups name the card's bullets; its level only ever raises the rules'
        reasons[:0] = [found.group, *found.also]
        level = max(level, found.level, key=_LEVEL_RANK.__getitem__)

    reasons.sort(key=lambda r: (r != "crisis", -_LEVEL_RANK[rule_level(r)]))  # the crisis card leads
    crisis = "crisis" in reasons
    return Triage(
        level=level,
        reasons=tuple(dict.fromkeys(reasons)),
        crisis=crisis,
        # in a crisis the crisis card is the whole answer: no dosing decline beside it
        dosing=bool(found and found.dosing) and level == NONE,
        safety_net=bool(redflags.BANK.safety_net.search(text)) and not about_animal,
        about_animal=about_animal and not crisis,
        off_topic=bool(found and found.off_topic) and level == NONE and not about_animal,
    )


@lru_cache(maxsize=None)
def rule_level(rule_id: str) -> str:
    from retrieval.safety.learned_flags import GROUP_LEVELS

    return next((r.level for r in redflags.RULES if r.id == rule_id), GROUP_LEVELS.get(rule_id, URGENT))
