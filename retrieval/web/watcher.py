"""Watch the articles folder and rebuild when files are added, changed or removed.

Uses the ``watchfiles`` library (Rust ``notify`` underneath: inotify on Linux, with a polling
fallback), so a file copied into ``corpus/`` while the app runs is indexed within seconds.
Hidden files and folders (``.trash/``, ``.upload-*`` staging files) are ignored. Changes that
arrive together are debounced into one rebuild.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from retrieval.ingest import SUPPORTED_SUFFIXES

log = logging.getLogger(__name__)

DEBOUNCE_MS = 800  # changes within this window become one rebuild


def is_article_change(path: str, corpus: Path) -> bool:
    """True for a change to a file the build would read (not hidden, a known extension)."""
    try:
        relative = Path(path).resolve().relative_to(corpus.resolve())
    except ValueError:
        return False
    if any(part.startswith(".") for part in relative.parts):
        return False
    return relative.suffix.lower() in SUPPORTED_SUFFIXES


class CorpusWatcher:
    """A daemon thread calling ``on_change()`` after article files in ``corpus`` change."""

    def __init__(self, corpus: Path, on_change: Callable[[], object]) -> None:
        self.corpus = Path(corpus)
        self.on_change = on_change
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> CorpusWatcher:
        self._thread = threading.Thread(target=self._run, name="corpus-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        from watchfiles import watch

        self.corpus.mkdir(parents=True, exist_ok=True)
        try:
            for changes in watch(
                self.corpus,
                watch_filter=lambda _change, path: is_article_change(path, self.corpus),
                debounce=DEBOUNCE_MS,
                stop_event=self._stop,
                raise_interrupt=False,
            ):
                log.info("articles changed (%d files); updating the index", len(changes))
                self.on_change()
        except Exception:  # the chat keeps working without the watcher
            log.exception("watching %s stopped; new files are picked up on the next upload or restart", self.corpus)
