"""End to end in a real Chromium: the Documents tab. Upload an article and see it cited (a new
version kept beside the first), rate an answer with a note and find it listed, remove an article
(after a confirmation) and restore it, and see a file dropped into the corpus folder answered
from. Same app and browser as test_browser.py (tests/web/conftest.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.web.browsing import ARTIFACTS, CHROMIUM, CORPUS_OF, DESKTOP, PHONE, ZORBLAX, ask

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found: install Debian's chromium to run browser tests"),
]


def test_upload_an_article_and_see_it_cited(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    article = tmp_path / "zorblax stretch.txt"
    article.write_text(ZORBLAX, encoding="utf-8")
    page.get_by_role("tab", name="Documents").click()
    page.get_by_text("Articles in the library").wait_for()
    assert "waist-and-leg-soreness.txt" in page.locator(".doc-table").first.inner_text()
    page.locator("#uploads input[type=file]").set_input_files(str(article))  # added at once: no second click
    page.locator("#upload-result").get_by_text("Index updated").wait_for(timeout=120_000)
    assert "Added zorblax stretch.txt" in page.locator("#upload-result").inner_text()
    assert "zorblax stretch.txt" in page.locator(".doc-table").first.inner_text()

    # A new version under the same name is kept beside the first, and the page says so.
    article.write_text(ZORBLAX + "Marrowby later shortened it to thirty seconds.\n", encoding="utf-8")
    page.locator("#uploads input[type=file]").set_input_files(str(article))
    page.locator("#upload-result").get_by_text("zorblax stretch-2.txt").wait_for(timeout=120_000)
    assert "already exists" in page.locator("#upload-result").inner_text()
    page.screenshot(path=str(ARTIFACTS / "documents.png"), full_page=True)

    page.get_by_role("tab", name="Chat").click()
    reply = ask(page, "Who first described the Zorblax stretch?")
    text = reply.inner_text()
    assert "Quilla Marrowby" in text and "Source: zorblax stretch" in text


def test_feedback_with_a_note_shows_in_the_documents_tab(page) -> None:  # type: ignore[no-untyped-def]
    ask(page, "Is heat or ice better for a sore back?")
    page.locator("#chatbot button[aria-label='Dislike']").last.click()
    page.locator("#feedback-note textarea").fill("I wanted to know for how long")
    page.get_by_role("button", name="Send note").click()
    page.wait_for_selector("#feedback-note", state="hidden")
    page.get_by_role("tab", name="Documents").click()
    table = page.locator("#feedback-table")
    table.get_by_text("I wanted to know for how long").wait_for()
    assert "not helpful" in table.inner_text() and "Is heat or ice better for a sore back?" in table.inner_text()


def test_remove_asks_first_and_restore_brings_the_article_back(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("tab", name="Documents").click()
    page.get_by_text("Articles in the library").wait_for()
    page.locator("#to-remove input").click()
    page.get_by_role("option", name="What is waist and leg soreness (waist-and-leg-soreness.txt)").click()
    page.locator("#remove").click()
    confirm = page.locator("#confirm-remove")
    confirm.wait_for()
    assert "Move waist-and-leg-soreness.txt to the trash?" in confirm.inner_text()
    assert "waist-and-leg-soreness.txt" in page.locator(".doc-table").first.inner_text()  # nothing happened yet
    page.locator("#confirm").click()
    page.locator("#upload-result").get_by_text("Index updated").wait_for(timeout=120_000)
    assert "to the trash" in page.locator("#upload-result").inner_text()
    assert "waist-and-leg-soreness.txt" not in page.locator(".doc-table").first.inner_text()
    page.locator("#to-restore input").click()
    page.get_by_role("option", name="waist-and-leg-soreness.txt", exact=False).first.click()
    page.locator("#restore").click()
    page.locator("#upload-result").get_by_text("Restored").wait_for(timeout=120_000)
    page.locator("#upload-result").get_by_text("Index updated").wait_for(timeout=120_000)
    assert "waist-and-leg-soreness.txt" in page.locator(".doc-table").first.inner_text()


def test_a_file_dropped_into_the_corpus_folder_shows_up(page, app_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    corpus = CORPUS_OF[app_url]
    (corpus / "dropped-in-zorblax.txt").write_text(ZORBLAX, encoding="utf-8")
    try:
        deadline = time.monotonic() + 30
        while True:
            reply = ask(page, "Who first described the Zorblax stretch?")
            if "Source: dropped-in-zorblax.txt" in reply.inner_text():
                break
            assert time.monotonic() < deadline, "a file copied into corpus/ was not answered from within 30 s"
            time.sleep(1)
        page.get_by_role("tab", name="Documents").click()
        page.locator(".doc-table").first.get_by_text("The Zorblax stretch for stiff hamstrings").wait_for()
    finally:
        (corpus / "dropped-in-zorblax.txt").unlink()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_dropped_file_is_added_at_once_and_the_result_is_in_view(screen, viewport: dict[str, int], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Issue #28: on a phone the result of adding used to appear below the fold; the summary said
    "running" while the result said finished; a file needed a second click; a broken PDF's reason
    ended in "(malformed PDF: Stream has ended unexpectedly)"."""
    page = screen(viewport)
    page.get_by_role("tab", name="Documents").click()
    page.get_by_text("Articles in the library").wait_for()
    article = tmp_path / f"frimble-wrap-{viewport['width']}.txt"
    article.write_text("The Frimble wrap for cold calves\n\nThe Frimble wrap keeps a calf warm for forty minutes.\n", encoding="utf-8")
    fake = tmp_path / "scan.pdf"
    fake.write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nstream\nnot really a pdf")
    page.locator("#uploads input[type=file]").set_input_files([str(article), str(fake)])  # no button to press
    result = page.locator("#upload-result")
    result.get_by_text("Index updated").wait_for(timeout=120_000)
    page.wait_for_timeout(500)  # the page scrolls the result into view
    box = result.bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + min(box["height"], 200) <= viewport["height"], box
    text = result.inner_text()
    assert f"Added frimble-wrap-{viewport['width']}.txt" in text and "Not added" in text and "damaged or is not really a PDF" in text
    assert "malformed" not in text and "Stream" not in text and "(" not in text.split("Not added", 1)[1].split("\n", 1)[0]
    # One status: the summary counts what the table lists, and says nothing about a build running.
    summary = page.locator("#library-summary").inner_text()
    rows = page.locator(".doc-table").first.locator("tbody tr").count()
    assert f"{rows} articles indexed" in summary and "running" not in summary
    if viewport is PHONE:
        page.screenshot(path=str(ARTIFACTS / "phone-documents-added.png"))
    (CORPUS_OF[page.url.split("?")[0].split("#")[0]] / article.name).unlink()
