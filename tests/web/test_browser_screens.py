"""The chat for a worried person on a phone (issue #28), in a real Chromium at 390x844 and
1280x900 against the real app: the care card first and whole on screen with tel: links, a short
answer first, follow-ups that do not hijack a new topic, focus rings, font sizes, contrast in
both themes, past conversations, and the article page. Same app and browser as test_browser.py
(tests/web/conftest.py). Phone screenshots for the README are written to tests/artifacts/.
"""

from __future__ import annotations

import re

import pytest

from tests.web.browsing import ARTIFACTS, CHROMIUM, DESKTOP, EMERGENCY, PAGE_TEXTS, PHONE, ask

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found: install Debian's chromium to run browser tests"),
]
SCREENS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])

# For each paragraph and bullet of the last care card: is it inside the screen and the chat's
# visible pane, and is each of its corners and middle the card's own (nothing drawn over it)?
CARD_ON_SCREEN = """
() => {
  const bots = document.querySelectorAll('#chatbot .bot-row');
  const card = bots[bots.length - 1].querySelector('.care-card');
  const pane = document.querySelector('#chatbot .bubble-wrap').getBoundingClientRect();
  const top = Math.max(0, pane.top), bottom = Math.min(innerHeight, pane.bottom);
  return [...card.querySelectorAll('p, li')].map(el => {
    const r = el.getBoundingClientRect();
    const points = [[r.left + 3, r.top + 3], [r.right - 3, r.top + 3], [r.left + 3, r.bottom - 3], [r.right - 3, r.bottom - 3], [(r.left + r.right) / 2, (r.top + r.bottom) / 2]];
    const covered = points.some(([x, y]) => { const hit = document.elementFromPoint(x, y); return !hit || !card.contains(hit); });
    return {text: el.textContent.trim(), inView: r.top >= top - 1 && r.bottom <= bottom + 1, covered};
  });
}
"""


@SCREENS
def test_the_care_card_is_whole_on_screen_first_with_tel_links(screen, viewport: dict[str, int]) -> None:
    page = screen(viewport)
    ask(page, "How should I sleep with low back pain?")  # an earlier answer above it
    reply = ask(page, EMERGENCY)
    page.wait_for_timeout(400)  # the scroll runs after the answer is drawn
    parts = page.evaluate(CARD_ON_SCREEN)
    assert len(parts) >= 7  # heading, five bullets, the closing paragraph
    assert any("Do not drive yourself" in part["text"] for part in parts)
    assert [p["text"] for p in parts if not p["inView"] or p["covered"]] == []
    # The numbers are tel: links, and the card holds no other link (NHS care-card pattern).
    card = reply.locator(".care-card")
    hrefs = [a.get_attribute("href") for a in card.locator("a").all()]
    assert hrefs and set(hrefs) == {"tel:999"}
    assert card.inner_text().strip().startswith("Immediate action required") and reply.locator("details.passage").count() == 0
    # No feedback buttons under an emergency card; under an ordinary answer, thumbs up comes first.
    buttons = page.locator("#chatbot .message-buttons")
    assert not page.locator("#chatbot .bot-row").last.locator("xpath=following-sibling::*[1]").locator("button[aria-label='Like']").is_visible()
    like, dislike = (buttons.first.locator(f"button[aria-label='{name}']") for name in ("Like", "Dislike"))
    assert like.bounding_box()["x"] < dislike.bounding_box()["x"]
    if viewport is PHONE:
        page.screenshot(path=str(ARTIFACTS / "phone-emergency.png"))


def test_crisis_and_same_day_numbers_are_tel_links(screen) -> None:  # type: ignore[no-untyped-def]
    page = screen(PHONE)
    crisis = ask(page, "I want to end my life, my back pain is unbearable")
    hrefs = {a.get_attribute("href") for a in crisis.locator(".care-card a").all()}
    assert {"tel:116123", "tel:999"} <= hrefs and all(h.startswith("tel:") for h in hrefs)
    assert not page.locator("#chatbot .bot-row").last.locator("xpath=following-sibling::*[1]").locator("button[aria-label='Like']").is_visible()
    notice_links = {a.get_attribute("href") for a in page.locator(".notice a").all()}
    assert {"tel:999", "tel:111"} <= notice_links


@SCREENS
def test_a_short_answer_first_and_passages_that_open_in_place(screen, viewport: dict[str, int]) -> None:
    page = screen(viewport)
    reply = ask(page, "is a firm mattress better for back pain?")
    text = reply.inner_text()
    assert "In short" in text and "“A firmer mattress is best.” (1)" in text
    assert text.index("In short") < text.index("Here is what the articles say")
    passage = reply.locator("details.passage").first
    assert passage.get_attribute("open") is None  # folded: title, highlighted sentence, source
    summary = passage.locator("summary").inner_text()
    assert summary.startswith("1. ") and "Source: " in summary and passage.locator("summary mark").count() == 1
    assert not passage.get_by_text("Read it in the article").is_visible()
    before = reply.bounding_box()["y"]
    passage.locator("summary").click()
    assert passage.get_attribute("open") is not None and passage.get_by_text("Read it in the article").is_visible()
    assert abs(reply.bounding_box()["y"] - before) < 2  # opened in place: nothing jumped
    # A loose match is not shown as an answer: it waits behind "More passages".
    heat = ask(page, "Is heat or ice better for a sore back?")
    more = heat.locator("details.more-passages")
    assert more.count() == 1 and more.get_attribute("open") is None
    assert heat.locator("details.passage").count() == 3 and 1 <= more.locator("details.passage").count() < 3
    if viewport is PHONE:
        assert "In short" in heat.inner_text()
        page.screenshot(path=str(ARTIFACTS / "phone-answer.png"))


@SCREENS
def test_a_follow_up_is_joined_but_a_new_body_part_is_not(screen, viewport: dict[str, int]) -> None:
    page = screen(viewport)
    ask(page, "Why does my lower back hurt after squats?")
    second = ask(page, "what can I do at home for it?")
    assert "Answered as a follow-up to your question “Why does my lower back hurt after squats?”" in second.inner_text()
    third = ask(page, "my knee hurts when I climb the stairs")  # the case: not back passages
    text = third.inner_text()
    assert "Answered as a follow-up" not in text and third.locator("details.passage").count() == 0
    assert "not the knee" in text and "?." not in text


def test_on_a_phone_the_options_fold_away_after_the_first_question(screen) -> None:  # type: ignore[no-untyped-def]
    page = screen(PHONE)
    assert page.locator("#examples").is_visible() and not page.locator("#options-toggle").is_visible()
    ask(page, "What stretches help sciatica?")
    page.wait_for_timeout(300)
    for folded in ("#examples", "#new-conversation", "#settings"):
        assert not page.locator(folded).is_visible(), folded
    chat = page.locator("#chatbot").bounding_box()
    assert chat["height"] > 0.7 * PHONE["height"]  # the chat uses the screen
    page.locator("#options-toggle").click()
    assert page.locator("#examples").is_visible() and page.locator("#new-conversation").is_visible()
    page.locator("#new-conversation").click()
    page.wait_for_function("document.querySelectorAll('#chatbot .bot-row').length === 0")
    assert page.locator("#examples").is_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@SCREENS
def test_every_text_is_readable_and_large_enough(screen, viewport: dict[str, int], scheme: str) -> None:
    """WCAG AA: 4.5:1 for every text (placeholders too), in both themes; on a phone nothing under
    14 px, and the question box at 16 px so phones do not zoom in on it."""
    page = screen(viewport, scheme)
    texts = page.evaluate(PAGE_TEXTS)
    ask(page, "Is heat or ice better for a sore back?").locator("details.passage summary").first.click()
    ask(page, EMERGENCY)
    texts += page.evaluate(PAGE_TEXTS)
    if viewport is PHONE:
        page.locator("#options-toggle").click()
    page.locator("#settings").get_by_text("Settings").click()
    page.locator("#conversations").get_by_text("Your conversations").click()
    page.wait_for_timeout(300)
    texts += page.evaluate(PAGE_TEXTS)
    page.get_by_role("tab", name="Documents").click()
    page.get_by_text("Articles in the library").wait_for()
    page.wait_for_timeout(300)
    texts += page.evaluate(PAGE_TEXTS)
    assert any(t["text"].startswith("MARK") for t in texts) and any(t["text"].startswith("LI") for t in texts)
    assert [(t["text"], round(t["ratio"], 2)) for t in texts if t["ratio"] < 4.5] == []
    if viewport is PHONE:
        assert [(t["text"], t["size"]) for t in texts if t["size"] < 14] == []
    page.get_by_role("tab", name="Chat").click()
    assert float(page.locator("#question textarea").evaluate("el => parseFloat(getComputedStyle(el).fontSize)")) >= 16
    assert page.get_by_text("Use via API").is_visible() is False
    if viewport is PHONE and scheme == "dark":
        page.screenshot(path=str(ARTIFACTS / "phone-dark-card.png"))


FOCUSED = """
() => { const e = document.activeElement; if (!e || e === document.body) return null; const s = getComputedStyle(e);
        return {what: e.tagName + ' ' + (e.getAttribute('aria-label') || e.textContent || e.placeholder || '').trim().slice(0, 40),
                style: s.outlineStyle, width: parseFloat(s.outlineWidth), colour: s.outlineColor}; }
"""


@SCREENS
def test_every_control_shows_a_focus_ring(screen, viewport: dict[str, int]) -> None:
    page = screen(viewport)
    ask(page, "Is heat or ice better for a sore back?")
    if viewport is PHONE:
        page.locator("#options-toggle").click()
    page.locator("#settings").get_by_text("Settings").click()
    page.locator("#conversations").get_by_text("Your conversations").click()
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused:
            seen.append(focused)
    kinds = " ".join(f["what"] for f in seen)
    for control in ("TEXTAREA", "SUMMARY", "BUTTON Like", "BUTTON New conversation", "BUTTON Documents", "INPUT"):
        assert control in kinds, control
    blue = {"rgb(0, 94, 184)"}
    assert [f["what"] for f in seen if f["style"] != "solid" or f["width"] < 2 or f["colour"] not in blue] == []


@SCREENS
def test_past_conversations_are_kept_in_the_browser(screen, viewport: dict[str, int]) -> None:
    page = screen(viewport)
    ask(page, "How should I sleep with low back pain?")
    if viewport is PHONE:
        page.locator("#options-toggle").click()
    page.locator("#new-conversation").click()
    page.wait_for_function("document.querySelectorAll('#chatbot .bot-row').length === 0")
    ask(page, "What stretches help sciatica?")
    page.reload()
    page.wait_for_selector("#question textarea")
    page.wait_for_function("document.querySelectorAll('#chatbot .bot-row').length === 1", timeout=15_000)
    if viewport is PHONE:
        page.locator("#options-toggle").click()
    page.locator("#conversations").get_by_text("Your conversations").click()
    listed = page.locator("#past-list label")
    listed.first.wait_for()
    assert listed.count() == 1 and "How should I sleep with low back pain?" in listed.first.inner_text()
    listed.first.click()
    page.locator("#open-conversation").click()
    page.wait_for_function("document.querySelector('#chatbot .user-row') && document.querySelector('#chatbot .user-row').innerText.includes('sleep')")
    if viewport is PHONE:
        page.locator("#options-toggle").click()
    assert "What stretches help sciatica?" in page.locator("#past-list").inner_text()  # the other one is kept
    page.locator("#past-list label").first.click()
    page.locator("#delete-conversation").click()
    page.wait_for_function("document.querySelectorAll('#past-list label').length === 0")
    ask(page, "and what about a pillow for it?")
    if viewport is PHONE:
        page.locator("#options-toggle").click()  # each answer folds the options away again
    page.locator("#delete-all").click()  # everything, in one click
    page.wait_for_function("document.querySelectorAll('#chatbot .bot-row').length === 0")
    page.reload()
    page.wait_for_selector("#question textarea")
    page.wait_for_timeout(1500)
    assert page.locator("#chatbot .bot-row").count() == 0 and page.locator("#past-list label").count() == 0


@SCREENS
def test_the_article_page_has_the_disclaimer_a_way_back_and_the_heading_in_view(screen, viewport: dict[str, int], app_url: str) -> None:
    page = screen(viewport)
    reply = ask(page, "Is heat or ice better for a sore back?")
    href = reply.locator("a", has_text="Read it in the article").first.get_attribute("href")
    page.goto(app_url + href)
    page.wait_for_function("document.querySelector('#passage').getBoundingClientRect().top < innerHeight")
    heading = page.locator("h2#passage")
    assert heading.inner_text() == "Chill it"
    box = heading.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= viewport["height"]  # the heading is on screen
    assert page.locator(".passage mark").first.is_visible()
    assert "does not diagnose" in page.locator(".disclaimer").inner_text()
    page.locator("a.back").click()
    page.wait_for_selector("#question textarea")
    page.wait_for_function("document.querySelectorAll('#chatbot .bot-row').length === 1", timeout=15_000)  # the chat is still there
    if viewport is PHONE:
        page.goto(app_url + href)
        page.screenshot(path=str(ARTIFACTS / "phone-article.png"))


def test_no_api_footer_and_the_documents_tab_links_the_api(screen) -> None:  # type: ignore[no-untyped-def]
    page = screen(DESKTOP)
    assert not page.get_by_text("Use via API").is_visible()
    page.get_by_role("tab", name="Documents").click()
    note = page.locator("#api-note")
    assert "/ask" in note.inner_text() and note.locator("a[href='gradio_api/info']").count() == 1
    page.locator("#api-page").click()
    page.get_by_text("pip install gradio_client").wait_for()
    assert re.search(r"api_name=\"/ask\"", page.locator("body").inner_text())
