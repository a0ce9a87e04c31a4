"""Care wording: card structure, locales, disclaimer elements, crisis card, plain Markdown only."""
from __future__ import annotations

import re

import pytest

from retrieval.safety.care import (
    LOCALES,
    MAX_BULLETS,
    care_card,
    disclaimer,
    dosing_decline,
    normalise_locale,
    safety_net_line,
)
from retrieval.safety.triage import Triage, assess

LOCALE_CODES = sorted(LOCALES)
EMERGENCY_NUMBERS = {"uk": "999", "us": "911", "eu": "112"}
HTML = re.compile(r"<[a-zA-Z/!][^>]*>|&[a-z]+;")


def _heading(card: str) -> str:
    return card.splitlines()[0]


def _bullets(card: str) -> list[str]:
    return [line for line in card.splitlines() if line.startswith("- ")]


# --------------------------------------------------------------------------------------
# Cards
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALE_CODES)
def test_emergency_card_has_one_action_heading_number_and_do_not_drive(locale):
    card = care_card(assess("I can't feel my bum when I wipe and my back hurts"), locale)
    heading = _heading(card)
    number = EMERGENCY_NUMBERS[locale]
    assert heading.startswith("**Immediate action required: call ") and heading.endswith("now if:**")
    assert heading.count(number) == 1 and heading.lower().count("call ") == 1
    assert 1 <= len(_bullets(card)) <= MAX_BULLETS
    assert "do not drive yourself" in card.lower()
    assert number in card


@pytest.mark.parametrize("locale", LOCALE_CODES)
def test_urgent_card_has_one_action_heading_and_the_emergency_number(locale):
    card = care_card(assess("back pain and a high temperature since last night"), locale)
    heading = _heading(card)
    assert heading.startswith("**Urgent advice: ") and heading.endswith("today if:**")
    assert 1 <= len(_bullets(card)) <= MAX_BULLETS
    assert EMERGENCY_NUMBERS[locale] in card
    assert "do not drive" not in card.lower()


def test_uk_urgent_card_points_to_gp_or_111():
    heading = _heading(care_card(Triage("urgent", ("weight_loss",))))
    assert heading == "**Urgent advice: ask for an urgent GP appointment or call 111 today if:**"


def test_bullets_for_what_fired_come_first():
    card = care_card(Triage("emergency", ("chest_pain", "both_legs")))
    bullets = _bullets(card)
    assert "chest pain" in bullets[0] and "both legs" in bullets[1]
    card = care_card(Triage("urgent", ("pregnancy_warning",)))
    assert "pregnant" in _bullets(card)[0] and "midwife" in _bullets(card)[0]


def test_no_card_when_nothing_fired():
    assert care_card(Triage("none", ())) is None
    assert care_card(assess("best stretches for a stiff back?")) is None


@pytest.mark.parametrize("locale,line", [
    ("uk", "116 123"), ("us", "988"), ("eu", "116 123"),
])
def test_crisis_card_signposts_crisis_line_and_emergency_number(locale, line):
    triage = assess("I can't go on like this, everyone would be better off without me")
    assert triage.crisis
    card = care_card(triage, locale)
    assert line in card and EMERGENCY_NUMBERS[locale] in card
    assert _heading(card).startswith("**Immediate help: talk to someone now")
    assert len(_bullets(card)) <= MAX_BULLETS


def test_crisis_card_also_mentions_a_medical_emergency_that_fired():
    card = care_card(assess("I want to end it all, and now I can't pee"))
    assert "peeing" in card and "116 123" in card


def test_every_card_for_every_reason_is_short_plain_markdown():
    from retrieval.safety.care import _EMERGENCY_BULLETS, _URGENT_BULLETS

    triages = [Triage("emergency", (r,)) for r in _EMERGENCY_BULLETS]
    triages += [Triage("urgent", (r,)) for r in _URGENT_BULLETS]
    triages += [Triage("emergency", ("crisis",), crisis=True)]
    for triage in triages:
        for locale in LOCALE_CODES:
            card = care_card(triage, locale)
            assert not HTML.search(card), card
            assert len(card) < 1200, (triage, len(card))
            assert len(_bullets(card)) <= MAX_BULLETS


def test_user_text_never_reaches_the_card():
    card = care_card(assess("<script>alert(1)</script> both my legs are numb"))
    assert "script" not in card and not HTML.search(card)


# --------------------------------------------------------------------------------------
# Disclaimer, safety net, dosing decline
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALE_CODES)
def test_disclaimer_has_the_five_elements(locale):
    text = disclaimer(locale).lower()
    assert "passages" in text and "articles" in text  # 1. what it shows
    assert "does not diagnose" in text and "not medical advice" in text  # 2. not a diagnosis
    assert "do not start, stop or change" in text and "medicine" in text  # 3. medicines
    assert "pharmacist" in text  # 4. who to contact when worried
    assert f"in an emergency, call {EMERGENCY_NUMBERS[locale]}" in text  # 5. emergency number
    assert len(disclaimer(locale)) < 400


def test_uk_disclaimer_names_gp_and_111():
    assert "GP" in disclaimer() and "111" in disclaimer()


@pytest.mark.parametrize("locale", LOCALE_CODES)
def test_safety_net_line_is_one_line_with_local_number(locale):
    line = safety_net_line(locale)
    assert "\n" not in line and EMERGENCY_NUMBERS[locale] in line
    assert "bottom or genitals" in line and "peeing or pooing" in line


def test_uk_safety_net_line_matches_the_agreed_wording():
    assert safety_net_line() == ("If you ever get numbness around your bottom or genitals, or problems "
                                 "peeing or pooing, call 999 or go to A&E.")


@pytest.mark.parametrize("locale", LOCALE_CODES)
def test_dosing_decline_points_to_pharmacist_and_leaflet(locale):
    text = dosing_decline(locale)
    assert "pharmacist" in text and "leaflet" in text
    assert EMERGENCY_NUMBERS[locale] in text or LOCALES[locale].emergency_place in text  # overdose
    assert not re.search(r"\d+\s*mg", text)


def test_uk_dosing_decline_mentions_111():
    assert "111" in dosing_decline("uk")


# --------------------------------------------------------------------------------------
# Locales
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value,expected", [
    ("uk", "uk"), ("UK", "uk"), ("gb", "uk"), ("en-GB", "uk"), ("en_gb", "uk"), (None, "uk"), ("", "uk"),
    ("us", "us"), ("en-US", "us"), ("USA", "us"),
    ("eu", "eu"), ("ie", "eu"), ("en-IE", "eu"), ("fr-FR", "eu"), ("de", "eu"),
])
def test_normalise_locale_accepts_common_spellings(value, expected):
    assert normalise_locale(value) == expected


@pytest.mark.parametrize("value", ["xx", "au", "mars", "en-ZZ"])
def test_unknown_locale_raises_a_clear_error(value):
    with pytest.raises(ValueError, match="Unknown locale") as info:
        normalise_locale(value)
    assert "uk" in str(info.value) and "us" in str(info.value)


def test_locales_carry_the_numbers():
    assert LOCALES["uk"].emergency_number == "999" and LOCALES["uk"].same_day == "NHS 111"
    assert LOCALES["us"].emergency_number == "911"
    assert LOCALES["eu"].emergency_number == "112"
    assert "116 123" in LOCALES["uk"].crisis_lines[0] and "988" in LOCALES["us"].crisis_lines[0]
