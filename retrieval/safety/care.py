"""Every safety sentence the user sees: disclaimer, care cards, safety net, dosing decline.

The wording is data (``data/care.yaml``), so it can be reviewed and changed without reading
Python. It is read once, at import, and checked: every text and every region field is there,
and every ``{placeholder}`` is one the code fills. Output is Markdown text only, never HTML.

>>> from retrieval.safety.triage import Triage
>>> print(care_card(Triage("urgent", ("weight_loss",))).splitlines()[0])
**Urgent advice: ask for an urgent GP appointment or call 111 today if:**
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass, fields
from pathlib import Path

from retrieval.datafiles import Checker, LineDict, read_yaml
from retrieval.safety.triage import EMERGENCY, URGENT, Triage

CARE_PATH = Path(__file__).resolve().parent / "data" / "care.yaml"
TEXTS = (
    "disclaimer", "chat_disclaimer", "safety_net", "dosing_decline", "emergency_card", "urgent_card",
    "crisis_card", "crisis_line", "crisis_danger", "crisis_also_medical", "crisis_someone_to_tell",
)
_EXTRA_FIELDS = {"bullets", "crisis_line", "medical_bullet"}  # filled by the code, not the region


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


@dataclass(frozen=True)
class Wording:
    """Everything ``care.yaml`` holds, checked."""

    max_bullets: int
    locales: dict[str, Locale]
    aliases: dict[str, str]
    texts: dict[str, str]
    emergency_bullets: dict[str, str]  # red flag -> bullet; the order is the default order
    urgent_bullets: dict[str, str]
    general_emergencies: frozenset[str]


def load_wording(path: Path = CARE_PATH) -> Wording:
    """Read and check the wording at ``path``."""
    check = Checker(path)
    data = read_yaml(path)
    keys = ("max_bullets", "regions", "region_aliases", "texts", "emergency_bullets", "urgent_bullets", "general_emergencies")
    check.keys(data, "the file", required=keys)
    if not isinstance(data["max_bullets"], int) or data["max_bullets"] < 1:
        raise check.fail(data.lines["max_bullets"], "max_bullets should be a whole number, 1 or more")
    locales = _locales(check, check.mapping(data, "regions", "regions"))
    aliases = {}
    raw_aliases = check.mapping(data, "region_aliases", "region_aliases", allowed=locales)
    for code in raw_aliases:
        for alias in check.strings(raw_aliases, code, f"region_aliases {code!r}"):
            aliases[alias] = code
    texts = _texts(check, check.mapping(data, "texts", "texts", required=TEXTS, allowed=TEXTS), locales)
    bullets = {}
    for key in ("emergency_bullets", "urgent_bullets"):
        raw = check.mapping(data, key, key)
        bullets[key] = {reason: check.string(raw, reason, f"{key} {reason!r}") for reason in raw}
    general = check.strings(data, "general_emergencies", "general_emergencies")
    unknown = [reason for reason in general if reason not in bullets["emergency_bullets"]]
    if unknown:
        raise check.fail(data.lines["general_emergencies"], f"general_emergencies names {unknown[0]!r}, which has no emergency bullet")
    return Wording(data["max_bullets"], locales, aliases, texts, bullets["emergency_bullets"], bullets["urgent_bullets"], frozenset(general))


def _locales(check: Checker, raw: LineDict) -> dict[str, Locale]:
    names = [f.name for f in fields(Locale) if f.name != "code"]
    locales = {}
    for code in raw:
        entry = check.mapping(raw, code, f"region {code!r}", required=names, allowed=names)
        values = {name: check.string(entry, name, f"region {code!r}: {name}") for name in names if name != "crisis_lines"}
        lines = tuple(check.strings(entry, "crisis_lines", f"region {code!r}: crisis_lines"))
        locales[code] = Locale(code=code, crisis_lines=lines, **values)
    if "uk" not in locales:
        raise check.fail(raw.line, "regions should include uk (the default)")
    return locales


def _texts(check: Checker, raw: LineDict, locales: dict[str, Locale]) -> dict[str, str]:
    known = {f.name for f in fields(Locale)} | _EXTRA_FIELDS
    texts = {}
    for name in TEXTS:
        text = check.string(raw, name, f"text {name!r}")
        for _, field, _, _ in string.Formatter().parse(text):
            if field is not None and field not in known:
                raise check.fail(raw.lines[name], f"text {name!r}: unknown placeholder {{{field}}} (known: {', '.join(sorted(known))})")
        texts[name] = text
    return texts


WORDING = load_wording()
LOCALES: dict[str, Locale] = WORDING.locales
MAX_BULLETS = WORDING.max_bullets
GENERAL_EMERGENCIES = WORDING.general_emergencies
_EMERGENCY_BULLETS = WORDING.emergency_bullets
_URGENT_BULLETS = WORDING.urgent_bullets


def _say(name: str, loc: Locale, **extra: str) -> str:
    return WORDING.texts[name].format(**vars(loc), **extra)


def normalise_locale(value: str | None) -> str:
    """Map "GB", "en_GB", "en-IE", "usa"... to "uk", "us" or "eu"; None or "" means "uk".

    >>> normalise_locale("en_GB"), normalise_locale("IE"), normalise_locale(None)
    ('uk', 'eu', 'uk')
    """
    if value is None or not str(value).strip():
        return "uk"
    key = str(value).strip().lower().replace("_", "-")
    if key in WORDING.aliases:
        return WORDING.aliases[key]
    region = key.rsplit("-", 1)[-1]  # "fr-FR" -> "fr", "en-gb" handled above
    if "-" in key and region in WORDING.aliases:
        return WORDING.aliases[region]
    known = ", ".join(sorted({"uk", "gb", "en-GB", "us", "en-US", "eu", "ie", "en-IE"}))
    raise ValueError(
        f"Unknown locale {value!r}: use 'uk' (999, 111), 'us' (911) or 'eu' (112); "
        f"accepted spellings include {known}."
    )


def _locale(value: str | None) -> Locale:
    return LOCALES[normalise_locale(value)]


def disclaimer(locale: str = "uk") -> str:
    """Short footer for every answer: what this is, what it is not, who to ask, the emergency number."""
    return _say("disclaimer", _locale(locale))


def disclaimer_markdown(plain: str) -> str:
    """A :func:`disclaimer` text with its emergency sentence in bold (the API's ``disclaimer_markdown``)."""
    return re.sub(r"(In an emergency, call [^.]+\.)", r"**\1**", plain)


def chat_disclaimer(locale: str = "uk") -> str:
    """The one-line form under each chat answer; the full notice stays at the top of the page."""
    return _say("chat_disclaimer", _locale(locale))


def safety_net_line(locale: str = "uk") -> str:
    """One line for every sciatica / nerve-pain answer (people rarely mention these signs unprompted)."""
    return _say("safety_net", _locale(locale))


def dosing_decline(locale: str = "uk") -> str:
    """Polite refusal for dose, strength or combination questions, with where to ask instead."""
    return _say("dosing_decline", _locale(locale))


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
        return _say("emergency_card", loc, bullets=_bullets(_pick_bullets(triage.reasons, _EMERGENCY_BULLETS)))
    if triage.level == URGENT:
        return _say("urgent_card", loc, bullets=_bullets(_pick_bullets(triage.reasons, _URGENT_BULLETS)))
    return None


def _crisis_card(triage: Triage, loc: Locale) -> str:
    lines = [_say("crisis_line", loc, crisis_line=line) for line in loc.crisis_lines]
    lines.append(_say("crisis_danger", loc))
    medical = [r for r in triage.reasons if r in _EMERGENCY_BULLETS]
    if medical:
        lines.append(_say("crisis_also_medical", loc, medical_bullet=_EMERGENCY_BULLETS[medical[0]]))
    lines.append(_say("crisis_someone_to_tell", loc))
    return _say("crisis_card", loc, bullets=_bullets(lines[:MAX_BULLETS]))
