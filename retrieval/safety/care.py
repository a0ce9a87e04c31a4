"""Every safety sentence the user sees: disclaimer, care cards, safety net, dosing decline.

Wording follows the NHS care-card pattern (service-manual "Decide when and where to get care"):
one call to action in the heading, at most five plain-language bullets, the number to call,
and "do not drive yourself" on emergency cards. Plain words (pee, poo, bottom, tummy).
Output is Markdown text only, never HTML.

>>> from retrieval.safety.triage import Triage
>>> print(care_card(Triage("urgent", ("weight_loss",))).splitlines()[0])
**Urgent advice: ask for an urgent GP appointment or call 111 today if:**
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.safety.triage import EMERGENCY, URGENT, Triage

MAX_BULLETS = 5


@dataclass(frozen=True)
class Locale:
    """Numbers and service names for one region."""

    code: str
    emergency_number: str  # 999 / 911 / 112
    emergency_place: str  # "A&E", "the ER"...
    same_day: str  # the same-day service, as a phrase after "call" / "contact"
    same_day_heading: str  # one action, NHS style, ending in "if:"
    emergency_heading: str
    advice_line: str  # who to ask when worried (disclaimer)
    crisis_lines: tuple[str, ...]  # "Samaritans on 116 123 (free, any time)"
    overdose_advice: str  # what to do now if too much medicine was taken
    doctor: str  # "GP" / "doctor"


LOCALES: dict[str, Locale] = {
    "uk": Locale(
        code="uk",
        emergency_number="999",
        emergency_place="A&E",
        same_day="NHS 111",
        same_day_heading="ask for an urgent GP appointment or call 111 today if:",
        emergency_heading="call 999 or go to A&E now if:",
        advice_line="a pharmacist, your GP or NHS 111",
        crisis_lines=("Samaritans on **116 123** (free, day or night)",),
        overdose_advice="call 111 or go to A&E now, even if you feel well",
        doctor="GP",
    ),
    "us": Locale(
        code="us",
        emergency_number="911",
        emergency_place="the ER",
        same_day="your doctor",
        same_day_heading="call your doctor now or go to urgent care today if:",
        emergency_heading="call 911 or go to the ER now if:",
        advice_line="a pharmacist, your doctor or urgent care",
        crisis_lines=("the 988 Suicide & Crisis Lifeline: call or text **988** (any time)",),
        overdose_advice="call Poison Control on 1-800-222-1222 or call 911 now, even if you feel well",
        doctor="doctor",
    ),
    "eu": Locale(
        code="eu",
        emergency_number="112",
        emergency_place="the emergency department",
        same_day="your GP or out-of-hours service",
        same_day_heading="contact your GP or out-of-hours service today if:",
        emergency_heading="call 112 or go to the emergency department now if:",
        advice_line="a pharmacist, your GP or out-of-hours service",
        crisis_lines=("an emotional support line: **116 123** in many European countries, including Ireland",),
        overdose_advice="call 112 or go to the emergency department now, even if you feel well",
        doctor="GP",
    ),
}

_ALIASES = {
    "uk": "uk", "gb": "uk", "en-gb": "uk", "united kingdom": "uk", "england": "uk", "scotland": "uk",
    "wales": "uk", "northern ireland": "uk", "nhs": "uk",
    "us": "us", "usa": "us", "en-us": "us", "united states": "us", "america": "us",
    "eu": "eu", "ie": "eu", "en-ie": "eu", "ireland": "eu", "europe": "eu", "de": "eu", "fr": "eu",
    "es": "eu", "it": "eu", "nl": "eu", "be": "eu", "pt": "eu", "at": "eu", "se": "eu", "dk": "eu",
    "fi": "eu", "pl": "eu", "gr": "eu", "cz": "eu", "lu": "eu", "mt": "eu", "cy": "eu",
}


def normalise_locale(value: str | None) -> str:
    """Map "GB", "en_GB", "en-IE", "usa"... to "uk", "us" or "eu"; None or "" means "uk".

    >>> normalise_locale("en_GB"), normalise_locale("IE"), normalise_locale(None)
    ('uk', 'eu', 'uk')
    """
    if value is None or not str(value).strip():
        return "uk"
    key = str(value).strip().lower().replace("_", "-")
    if key in _ALIASES:
        return _ALIASES[key]
    region = key.rsplit("-", 1)[-1]  # "fr-FR" -> "fr", "en-gb" handled above
    if "-" in key and region in _ALIASES:
        return _ALIASES[region]
    known = ", ".join(sorted({"uk", "gb", "en-GB", "us", "en-US", "eu", "ie", "en-IE"}))
    raise ValueError(
        f"Unknown locale {value!r}: use 'uk' (999, 111), 'us' (911) or 'eu' (112); "
        f"accepted spellings include {known}."
    )


def _locale(value: str | None) -> Locale:
    return LOCALES[normalise_locale(value)]


# --------------------------------------------------------------------------------------
# Always-on text
# --------------------------------------------------------------------------------------


def disclaimer(locale: str = "uk") -> str:
    """Short footer for every answer: what this is, what it is not, who to ask, the emergency number."""
    loc = _locale(locale)
    return (
        "This assistant shows passages from health articles on the web. It does not diagnose and "
        "is not medical advice. Do not start, stop or change any medicine because of it. "
        f"If you're worried, contact {loc.advice_line}. "
        f"In an emergency, call {loc.emergency_number}."
    )


def disclaimer_markdown(plain: str) -> str:
    """A :func:`disclaimer` text with its emergency sentence in bold (the API's ``disclaimer_markdown``)."""
    return re.sub(r"(In an emergency, call [^.]+\.)", r"**\1**", plain)


def chat_disclaimer(locale: str = "uk") -> str:
    """The one-line form under each chat answer; the full notice stays at the top of the page."""
    loc = _locale(locale)
    return (
        "Passages from web articles: not medical advice, and it does not diagnose. "
        f"In an emergency, call {loc.emergency_number}."
    )


def safety_net_line(locale: str = "uk") -> str:
    """One line for every sciatica / nerve-pain answer (people rarely mention these signs unprompted)."""
    loc = _locale(locale)
    return (
        "If you ever get numbness around your bottom or genitals, or problems peeing or pooing, "
        f"call {loc.emergency_number} or go to {loc.emergency_place}."
    )


def dosing_decline(locale: str = "uk") -> str:
    """Polite refusal for dose, strength or combination questions, with where to ask instead."""
    loc = _locale(locale)
    return (
        "I can't advise on how much of a medicine to take, its strength, or which medicines to "
        "combine. Please ask a pharmacist, check the leaflet that comes with the medicine, or "
        f"contact {loc.same_day}. If you think you or someone else has taken too much, "
        f"{loc.overdose_advice}."
    )


# --------------------------------------------------------------------------------------
# Care cards
# --------------------------------------------------------------------------------------

# reason id -> bullet, worded to complete the heading "...now if:". Order = default order.
_EMERGENCY_BULLETS: dict[str, str] = {
    "saddle_numbness": "you have numbness or tingling around your bottom or genitals, or it feels "
                       "different when you wipe",
    "bladder_problem": "you find it hard to start peeing, cannot pee, or cannot control when you pee, "
                       "and this is new for you",
    "bowel_incontinence": "you do not notice when you need to poo, or cannot control when you poo",
    "both_legs": "you have weakness, numbness, tingling or pain in both legs",
    "major_trauma": "your back pain started after a serious accident, such as a car crash or a fall "
                    "from a height",
    "chest_pain": "you have chest pain, or pain spreading to your arm, jaw or back",
    "burst_aneurysm": "you have sudden, severe pain in your tummy or back and feel dizzy, faint, "
                      "sweaty or pale",
    "cancer_with_nerve_symptoms": "you have had cancer and now have weak legs, difficulty walking, "
                                  "or problems peeing or pooing",
    "sexual_dysfunction": "you suddenly cannot get or keep an erection, or have lost feeling in your "
                          "genitals",
    "fall_cannot_get_up": "someone has had a fall and cannot get up, stand or walk",
    "stroke": "your face drops on one side, you cannot lift both arms, or your speech is slurred or "
              "muddled, even if it comes and goes (signs of a stroke)",
    "breathing_difficulty": "you are struggling to breathe, cannot speak in full sentences, or your "
                            "lips look blue or grey",
    "anaphylaxis": "your lips, tongue, mouth or throat are swelling, or you are wheezing or struggling "
                   "to breathe after a medicine, food or sting",
    "sepsis": "you feel very unwell with a fever or shivering and are confused, very sleepy, breathing "
              "fast, not peeing, or your skin is mottled, blue or grey",
    "overdose": "you or someone else has taken too much of a medicine, even if you feel well now",
}
_URGENT_BULLETS: dict[str, str] = {
    "fever_with_back_pain": "you have back pain and a high temperature, or you feel hot and shivery",
    "weight_loss": "you have back pain and have lost weight without trying",
    "night_pain": "your back pain is worse at night or does not improve when you rest",
    "lump_or_shape_change": "there is a lump or swelling on your back, or your back has changed shape",
    "thoracic_pain": "the pain is between your shoulder blades or at the top of your back",
    "cancer_history": "you have had cancer and now have new back pain",
    "fragility_fracture": "you have osteoporosis or take steroid tablets, and get sudden back pain "
                          "after a minor fall, cough or lift",
    "foot_drop": "you cannot lift the front of your foot, or you keep tripping over it",
    "leg_getting_weaker": "one leg is getting weaker",
    "kidney_infection": "you have pain in your back or side, a high temperature and pain when peeing",
    "infection_risk": "you inject drugs or have a weak immune system (for example HIV or chemotherapy) "
                      "and have back pain with a fever or sweats",
    "recent_spinal_procedure": "you recently had a spinal injection or back surgery and now have a "
                               "fever, or the wound is red, hot or leaking",
    "pregnancy_warning": "you are pregnant and have back pain with bleeding, regular tightenings, a "
                         "high temperature or pain when peeing (call your maternity unit or midwife)",
    "pulsing_tummy": "you can feel a pulsing in your tummy, or have tummy or back pain that does not "
                     "go away",
}


# Emergencies that are not about the back: their card lists what fired and nothing else, so a
# stroke card does not go on to talk about numbness around the bottom.
GENERAL_EMERGENCIES = frozenset({"stroke", "breathing_difficulty", "anaphylaxis", "sepsis", "overdose"})


def _pick_bullets(reasons: tuple[str, ...], bank: dict[str, str]) -> list[str]:
    """Bullets for what fired first, then the most likely others, up to MAX_BULLETS."""
    fired = [r for r in reasons if r in bank]
    if fired and all(r in GENERAL_EMERGENCIES for r in fired):
        return [bank[r] for r in fired[:MAX_BULLETS]]
    others = [r for r in bank if r not in reasons and r not in GENERAL_EMERGENCIES]
    return [bank[r] for r in (fired + others)[:MAX_BULLETS]]


def _bullets(lines: list[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def care_card(triage: Triage, locale: str = "uk") -> str | None:
    """Markdown care card to show *before* any passages; None when no red flag fired."""
    loc = _locale(locale)
    if triage.crisis:
        return _crisis_card(triage, loc)
    if triage.level == EMERGENCY:
        return (
            f"**Immediate action required: {loc.emergency_heading}**\n\n"
            f"{_bullets(_pick_bullets(triage.reasons, _EMERGENCY_BULLETS))}\n\n"
            "These can be signs of a serious problem that needs treatment quickly. "
            f"Do not wait for a {loc.doctor} appointment. "
            f"**Do not drive yourself:** ask someone to take you, or call {loc.emergency_number} "
            "for an ambulance."
        )
    if triage.level == URGENT:
        return (
            f"**Urgent advice: {loc.same_day_heading}**\n\n"
            f"{_bullets(_pick_bullets(triage.reasons, _URGENT_BULLETS))}\n\n"
            "These need to be checked by a doctor today. "
            f"If your symptoms get worse quickly, call {loc.emergency_number}."
        )
    return None


def _crisis_card(triage: Triage, loc: Locale) -> str:
    lines = [f"call {line}" for line in loc.crisis_lines]
    lines.append(
        f"if your life is in danger now, or you have hurt yourself, call {loc.emergency_number} "
        f"or go to {loc.emergency_place}"
    )
    medical = [r for r in triage.reasons if r in _EMERGENCY_BULLETS]
    if medical:
        lines.append(
            f"your symptoms also need urgent care: {_EMERGENCY_BULLETS[medical[0]]}, so call "
            f"{loc.emergency_number}"
        )
    lines.append(f"you can also tell your {loc.doctor} or someone you trust how you are feeling")
    return (
        "**Immediate help: talk to someone now. You do not have to cope with this alone.**\n\n"
        f"{_bullets(lines[:MAX_BULLETS])}\n\n"
        f"**Do not drive yourself** to {loc.emergency_place} if you are in crisis: ask someone to "
        f"take you, or call {loc.emergency_number}."
    )
