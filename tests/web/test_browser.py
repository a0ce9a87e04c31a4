"""End to end in a real Chromium (Playwright, sync API) against the real app on localhost.

Asks a question and sees sources and the disclaimer; shows a hostile document and a hostile
question as plain text without running anything; shows the care card above everything else for
an emergency, in light and dark mode and on a phone; follow-ups, copy and settings. The Documents
tab is in test_browser_documents.py. Screenshots go to
tests/artifacts/ (git-ignored); readme-screenshot.png there is the one to copy to docs/screenshot.png.
"""

from __future__ import annotations

import pytest

from retrieval.config import Settings
from tests.web.browsing import ARTIFACTS, CHROMIUM, EMERGENCY, ask, open_passages

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found: install Debian's chromium to run browser tests"),
]


def test_question_shows_sources_highlight_and_disclaimer(page) -> None:  # type: ignore[no-untyped-def]
    reply = ask(page, "How should I sleep with low back pain?")
    text = reply.inner_text()
    assert "Here is what the articles say" in text and "In short" in text
    assert reply.locator("details.passage").count() == 3 and "Source: back-pain-relief-sleep-posture.txt" in text
    assert "not medical advice, and it does not diagnose" in text
    assert reply.locator("mark").count() >= 1  # the highlighted sentence stands out
    # The notice about what the assistant is and is not is always on the page.
    assert page.get_by_text("What it is not:").is_visible()
    # The user lands on the question and the start of its answer, not on the disclaimer.
    assert reply.get_by_text("Here is what the articles say").is_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "answer.png"))


def test_read_it_in_the_article_opens_at_the_passage(page, app_url: str) -> None:  # type: ignore[no-untyped-def]
    reply = ask(page, "How should I sleep with low back pain?")
    links = reply.locator("a", has_text="Read it in the article")
    assert links.count() == 3
    href = links.first.get_attribute("href")
    highlighted = reply.locator("details.passage mark").first.inner_text()
    page.goto(app_url + href.lstrip("/"))
    # Readable type and the article's own headings; the passage shaded and in view; its
    # highlighted sentence marked.
    assert page.locator("h1").inner_text() and page.locator("h2").count() >= 2
    assert float(page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")) >= 16
    page.wait_for_function("document.querySelector('#passage').getBoundingClientRect().top < innerHeight")
    assert page.locator(".passage mark").first.inner_text().strip() == highlighted.strip()
    assert page.evaluate("window.scrollY") > 0  # it opened at the passage, not at the top
    page.screenshot(path=str(ARTIFACTS / "article.png"))
    page.goto(app_url + "article/no-such-article.txt")
    assert "Article not found" in page.locator("h1").inner_text()


def test_edge_sentence_is_shown_after_the_sentence_it_depends_on(page) -> None:  # type: ignore[no-untyped-def]
    reply = ask(page, "I have a disc problem and touching my toes at the gym made my leg pain flare up")
    open_passages(reply)
    setup = reply.locator("em", has_text="…Lumbar disc herniation")
    assert setup.count() >= 1  # the sentence before the passage, in italics
    marked = reply.locator("mark:visible", has_text="sit-ups").first
    assert marked.is_visible()
    passage = reply.locator("details.passage", has=page.locator("mark", has_text="sit-ups")).first
    text = passage.locator("p").first.inner_text()  # the passage's own text
    assert text.index("Lumbar disc herniation") < text.index("such as sit-ups")


def test_screenshot_for_the_readme(page) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 1280, "height": 1450})  # tall enough for a whole answer
    reply = ask(page, "Is heat or ice better for a sore back?")
    assert "Source: " in reply.inner_text()
    reply.locator("details.passage summary").first.click()  # one passage open, the rest folded
    page.evaluate("document.querySelector('#chatbot .user-row').scrollIntoView({block: 'start'})")
    page.evaluate("window.scrollTo(0, 0)")
    assert reply.get_by_text("not medical advice").is_visible()
    # Written beside the other artefacts; copy it to docs/screenshot.png to refresh the README's.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "readme-screenshot.png"))


def test_example_question_is_answered_on_click(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_text("What stretches help sciatica?").first.click()
    page.wait_for_selector("#chatbot .bot-row", timeout=30_000)
    assert "Source: " in page.locator("#chatbot .bot-row").first.inner_text()


def test_hostile_document_and_question_are_shown_as_text(page) -> None:  # type: ignore[no-untyped-def]
    question = 'What is the quokka manoeuvre? <img src=x onerror="window.__pwned = true"> <b>bold?</b> [x](javascript:alert(1))'
    reply = ask(page, question)
    open_passages(reply)
    page.wait_for_timeout(500)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    chat = page.locator("#chatbot")
    # Shown literally, character for character ...
    assert question in page.locator("#chatbot .user-row").first.inner_text()
    text = reply.inner_text()
    assert "<script>window.__pwned = true</script>" in text
    assert '<img src=x onerror="window.__pwned = true">' in text
    assert "[a link](javascript:window.__pwned=true)" in text
    assert '<a href="javascript:window.__pwned=true">quokka manoeuvre</a> with <b>bold tags</b>' in text
    assert '<iframe src="https://example.org"></iframe>' in text
    # ... and nothing became markup: no images, scripts, frames or javascript: links.
    assert chat.locator("img, script, iframe, b").count() == 0
    assert chat.locator("a[href^='javascript']").count() == 0
    page.screenshot(path=str(ARTIFACTS / "hostile.png"))
    # The article page shows the hostile article as text too.
    href = reply.locator("a", has_text="Read it in the article").first.get_attribute("href")
    assert "quokka" in href
    page.goto(page.url.split("#")[0].rstrip("/") + "/" + href)
    page.wait_for_selector("#passage")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert "<script>window.__pwned = true</script>" in page.locator("main").inner_text()
    assert page.locator("main img, main script, main iframe, main b").count() == 0
    assert [a.get_attribute("href") for a in page.locator("main a").all()] == ["../"]  # only the way back to the chat


def test_emergency_shows_the_care_card_above_everything(page) -> None:  # type: ignore[no-untyped-def]
    reply = ask(page, EMERGENCY)
    text = reply.inner_text().strip()
    assert text.startswith("Immediate action required"), text[:200]
    assert "999" in text.split("\n")[0]
    assert "Source: " not in text  # no self-care passages beside the card
    card_top = reply.get_by_text("Immediate action required").bounding_box()["y"]
    disclaimer_top = reply.get_by_text("not medical advice").bounding_box()["y"]
    assert card_top < disclaimer_top
    page.screenshot(path=str(ARTIFACTS / "emergency.png"))


def test_emergency_at_the_end_of_a_long_pasted_message_gets_the_card(page) -> None:  # type: ignore[no-untyped-def]
    """A 5,000-character message: the browser sends it whole, so triage sees the red flag at its end."""
    story = (
        "I have had a sore lower back on and off since I moved house, mostly after long days at my desk, "
        "and I have been trying stretches, a hot water bottle and walking at lunchtime. "
    )
    message = (story * 40)[:4_900] + " Since this morning I cannot feel my bum when I wipe."
    assert len(message) > 4_900 > Settings().max_question_chars
    reply = ask(page, message)
    # The whole message reached the server (the box did not cut it) ...
    assert page.locator("#chatbot .user-row").first.inner_text().strip().endswith("when I wipe.")
    # ... and the care card is the first thing in the reply, with no passages beside it.
    text = reply.inner_text().strip()
    assert text.startswith("Immediate action required"), text[:200]
    assert "Source: " not in text
    assert "not medical advice" in text


def test_a_follow_up_conversation_survives_a_reload_until_cleared(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, "How should I sleep with low back pain?")
    second = ask(page, "and what about a pillow for it?")
    assert "Answered as a follow-up to your question “How should I sleep with low back pain?”" in second.inner_text()
    assert "Source: back-pain-relief-sleep-posture.txt" in second.inner_text()
    third = ask(page, "What stretches help lower back spasms?")  # a new topic stands alone
    assert "Answered as a follow-up" not in third.inner_text() and "Source: " in third.inner_text()
    page.reload()
    page.wait_for_selector("#question textarea")
    page.wait_for_function("document.querySelectorAll('#chatbot .bot-row').length === 3", timeout=15_000)
    assert "and what about a pillow for it?" in page.locator("#chatbot").inner_text()
    # The conversation goes on from where it was.
    fourth = ask(page, "how long do I hold each one?")
    assert "Answered as a follow-up" in fourth.inner_text() and "Source: " in fourth.inner_text()
    page.locator("#new-conversation").click()
    page.wait_for_function("document.querySelectorAll('#chatbot .bot-row').length === 0")
    page.reload()
    page.wait_for_selector("#question textarea")
    page.wait_for_timeout(1500)
    assert page.locator("#chatbot .bot-row").count() == 0


def test_the_care_card_stands_out_and_comes_first(page) -> None:  # type: ignore[no-untyped-def]
    reply = ask(page, EMERGENCY)
    card = reply.locator(".care-card")
    assert card.count() == 1
    style = card.evaluate("el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).borderLeftColor, getComputedStyle(el).borderLeftWidth]")
    red, green, blue = [int(v) for v in style[0][style[0].index("(") + 1 : style[0].index(")")].split(",")[:3]]
    assert red > green + 10 and red > blue + 10, style  # a red-tinted box
    assert float(style[2].rstrip("px")) >= 6  # with a thick edge
    assert reply.inner_text().strip().startswith("Immediate action required")
    assert card.bounding_box()["y"] < reply.get_by_text("not medical advice").bounding_box()["y"]


def test_copy_puts_plain_text_on_the_clipboard(browser, app_url: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        page.goto(app_url)
        page.wait_for_selector("#question textarea")
        ask(page, "What stretches help sciatica?")
        page.locator("#copy-answer").click()
        page.wait_for_function("navigator.clipboard.readText().then(t => t.length > 0)")
        text = page.evaluate("navigator.clipboard.readText()")
        assert text.startswith("Question: What stretches help sciatica?")
        assert text.count("Source: ") == 3 and "not medical advice" in text
        assert "**" not in text and "<mark>" not in text and "\\" not in text
        assert len(text) < 6000  # the answer, not whole articles
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_on_a_phone_the_input_is_in_view_and_tables_fit(browser, app_url: str, scheme: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, color_scheme=scheme)
    page = context.new_page()
    try:
        page.goto(app_url)
        box = page.locator("#question textarea").bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844, box  # no scrolling needed to ask
        reply = ask(page, EMERGENCY)
        card = reply.locator(".care-card").bounding_box()
        assert card is not None and 0 <= card["y"] < 844  # the card is on screen once the answer arrives
        page.screenshot(path=str(ARTIFACTS / f"phone-{scheme}.png"))
        page.get_by_role("tab", name="Documents").click()
        page.get_by_text("Articles in the library").wait_for()
        page.wait_for_timeout(500)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # nothing cut off at the side
        for table in page.locator(".doc-table").all():
            right = table.evaluate("el => el.getBoundingClientRect().right")
            assert right <= 390 + 1
        page.screenshot(path=str(ARTIFACTS / f"phone-documents-{scheme}.png"), full_page=True)
    finally:
        context.close()


def test_settings_change_passages_and_emergency_numbers(page) -> None:  # type: ignore[no-untyped-def]
    assert page.get_by_label("Your question").count() == 1  # the box has a label, not only a placeholder
    page.locator("#settings").get_by_text("Settings").click()
    # The region first: its answer from the server shows the page is live before the slider is
    # set (CI once asked with the slider still at its default of 3).
    page.locator("#region input").click()
    page.get_by_role("option", name="United States (emergency: 911)").click()
    page.locator(".notice").get_by_text("call 911").wait_for()
    page.locator("#passages input[type=number]").fill("5")
    page.locator("#passages input[type=number]").press("Tab")  # leaving the box commits the value
    page.wait_for_function("document.querySelector('#passages input[type=range]').value === '5'")
    reply = ask(page, "What stretches help sciatica?")
    assert reply.locator("details.passage").count() == 5
    card = ask(page, EMERGENCY)
    assert "911" in card.inner_text().split("\n")[0] and "999" not in card.inner_text()
