"""What the browser tests share: Chromium's path and flags, the articles and messages they use,
and :func:`ask`. The fixtures (the app on a free port, the browser, a page) are in conftest.py."""
from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]


HOSTILE = """The quokka manoeuvre: notes from a hostile page

The quokka manoeuvre eases sciatica. <script>window.__pwned = true</script>
Some sites add <img src=x onerror="window.__pwned = true"> and [a link](javascript:window.__pwned=true) to their sciatica pages.
Physiotherapists describe the <a href="javascript:window.__pwned=true">quokka manoeuvre</a> with <b>bold tags</b> and <iframe src="https://example.org"></iframe> in their notes.
To do the quokka manoeuvre, lie on your back and pull both knees to your chest for sciatica relief.
"""
ZORBLAX = (
    "The Zorblax stretch for stiff hamstrings\n\n"
    "The Zorblax stretch was first described by the physiotherapist Quilla Marrowby in 1987. "
    "To do the Zorblax stretch, lie on your back, hook a towel around one foot and hold the leg up for "
    "exactly forty-three seconds while humming.\n"
)
EMERGENCY = "I can't feel my bum when I wipe and my back is killing me"
CORPUS_OF: dict[str, Path] = {}  # app URL -> its corpus folder (for files dropped in by a test)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Every visible text with its contrast ratio and font size (page_checks.js).
PAGE_TEXTS = (Path(__file__).resolve().parent / "page_checks.js").read_text(encoding="utf-8")


def open_passages(reply) -> None:  # type: ignore[no-untyped-def]
    """Unfold every passage of a reply (they are shown folded to title, highlight and source)."""
    reply.evaluate("el => el.querySelectorAll('details').forEach(d => { d.open = true; })")


def ask(page, question: str):  # type: ignore[no-untyped-def]
    """Type a question, press Enter, and return the locator of the first reply to it."""
    before = page.locator("#chatbot .bot-row").count()
    page.fill("#question textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#chatbot .bot-row').length > n", arg=before, timeout=30_000
    )
    page.wait_for_timeout(300)  # let Markdown rendering settle
    return page.locator("#chatbot .bot-row").nth(before)
