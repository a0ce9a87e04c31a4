"""Does the browser chat slow down as a conversation grows? Turn 1 against turn 30, in one run.

    .venv/bin/python bench/bench_chat_turns.py [--turns 30] [--out bench/results/chat_turns.md]

Starts the real app (ChatService + retrieval.web.launch, over a private copy of corpus/ and its index)
on a free localhost port, drives it with Debian's Chromium through Playwright, and asks
``--turns`` questions in one conversation. For each turn it records the bytes the page sent
(every POST body while the turn ran) and the time from pressing Enter to the answer on screen.
Before the fix, each turn re-sent the whole history: 111 bytes at turn 1, 395 KB by turn 20,
and 0.16 s -> 1.47 s. Target: turn 30 costs at most 1.2x turn 1 (turns 26-30
against turns 1-5, medians, so that one slow moment does not decide it).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

QUESTIONS = [
    "How should I sleep with low back pain?",
    "Is heat or ice better for a sore back?",
    "What stretches help sciatica?",
    "Why does my lower back hurt after working out my legs?",
    "What office chair helps back pain?",
    "How do I lift heavy boxes safely?",
]
# The answer to turn n is on screen: the chat's last row is a reply (the chat shows at most
# conversation.SHOWN_TURNS questions, so rows are not counted), and it is a new one.
ANSWERED = """n => {
  const rows = [...document.querySelectorAll('#chatbot .user-row, #chatbot .bot-row')];
  const last = rows[rows.length - 1];
  if (!last || !last.classList.contains('bot-row') || last.dataset.turn) return false;
  last.dataset.turn = n;
  return true;
}"""
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from retrieval.config import Settings
    from retrieval.web import AppSettings, ChatService
    from tests.apprunner import free_port

    work = Path(tempfile.mkdtemp(prefix="bench-turns-"))
    shutil.copytree(ROOT / "corpus", work / "corpus")
    if (ROOT / "index").is_dir():
        shutil.copytree(ROOT / "index", work / "index", ignore=shutil.ignore_patterns(".lock", "app-data"))
    service = ChatService(Settings(corpus_dir=work / "corpus", index_dir=work / "index"), AppSettings(port=free_port()))
    assert service.start().ok
    from retrieval.web import build_app, launch

    demo = build_app(service)
    launch(demo, service, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{service.app_settings.port}/"
    sent: list[int] = []
    rows: list[tuple[int, int, float]] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: sent.append(len(r.post_data_buffer or b"")) if r.method == "POST" else None)
            page.goto(url)
            page.wait_for_selector("#question textarea")
            page.wait_for_timeout(1000)
            for turn in range(1, args.turns + 1):
                sent.clear()
                page.fill("#question textarea", QUESTIONS[(turn - 1) % len(QUESTIONS)])
                started = time.perf_counter()
                page.keyboard.press("Enter")
                page.wait_for_function(ANSWERED, arg=turn, timeout=60_000)
                seconds = time.perf_counter() - started
                page.wait_for_timeout(150)  # let the scroll step's request go out too
                rows.append((turn, sum(sent), seconds))
            browser.close()
    finally:
        demo.close()
        service.stop_watching()
        shutil.rmtree(work, ignore_errors=True)

    first = rows[:5]
    last = rows[-5:]
    bytes_ratio = statistics.median(r[1] for r in last) / statistics.median(r[1] for r in first)
    time_ratio = statistics.median(r[2] for r in last) / statistics.median(r[2] for r in first)
    lines = [
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}",
        "",
        "| turn | bytes sent by the page | seconds to the answer on screen |",
        "|---:|---:|---:|",
        *[f"| {turn} | {size:,} | {seconds:.3f} |" for turn, size, seconds in rows if turn in (1, 2, 3, 4, 5, 10, 20, 26, 27, 28, 29, 30)],
        "",
        f"Median of turns {last[0][0]}-{last[-1][0]} against turns 1-5: bytes sent x{bytes_ratio:.2f}, "
        f"time to answer x{time_ratio:.2f} (target <= 1.2).",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0 if time_ratio <= 1.2 and bytes_ratio <= 1.2 else 1


if __name__ == "__main__":
    sys.exit(main())
