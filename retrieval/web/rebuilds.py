"""Background rebuilds, one at a time: numbered requests (tickets), a worker thread that builds
while the chat goes on, and a status snapshot for progress bars.

A build covers every ticket requested before it started, so requests made while one runs share
the next build. The build itself is a callable the owner passes in (the chat service's
"build, then swap the retriever")."""
from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retrieval.index import BuildReport, Progress


@dataclass(frozen=True)
class BuildStatus:
    """A snapshot of the background rebuild, for progress bars."""

    running: bool = False
    stage: str = ""  # "waiting", "reading", "embedding", "loading"
    done: int = 0
    total: int = 0
    builds_finished: int = 0


@dataclass(frozen=True)
class BuildOutcome:
    """How one background rebuild ended. On failure the previous index keeps serving."""

    ok: bool
    error: str = ""
    report: BuildReport | None = None
    seconds: float = 0.0


class RebuildQueue:
    """Runs ``build(progress)`` in a background thread whenever a rebuild is requested."""

    def __init__(self, build: Callable[[Progress], BuildOutcome]) -> None:
        self._build = build
        self._builds = threading.Condition()
        self._requested = 0
        self._covered = 0
        self._outcomes: list[tuple[int, BuildOutcome]] = []
        self._worker: threading.Thread | None = None
        self._status = BuildStatus()

    def request(self) -> int:
        """Ask for a build; returns a ticket for :meth:`wait`."""
        with self._builds:
            self._requested += 1
            ticket = self._requested
            if self._worker is None:
                self._worker = threading.Thread(target=self._build_loop, name="index-rebuild", daemon=True)
                self._worker.start()
            self._builds.notify_all()
        return ticket

    def wait(
        self,
        ticket: int,
        *,
        timeout: float | None = None,
        on_status: Callable[[BuildStatus], None] | None = None,
        poll: float = 0.25,
    ) -> BuildOutcome | None:
        """Block until the build covering ``ticket`` ends (None on timeout), calling
        ``on_status`` every ``poll`` seconds meanwhile."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._builds:
            while self._covered < ticket:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._builds.wait(poll if left is None else min(poll, left))
                if on_status is not None and self._covered < ticket:
                    status = self._status
                    self._builds.release()
                    try:
                        on_status(status)
                    finally:
                        self._builds.acquire()
            return next(outcome for covered, outcome in self._outcomes if covered >= ticket)

    @property
    def status(self) -> BuildStatus:
        return self._status

    @property
    def latest_ticket(self) -> int:
        """The most recent ticket (0 if none)."""
        return self._requested

    def set_stage(self, stage: str) -> None:
        """Name what the running build does now (e.g. "loading" the new index)."""
        self._set_status(stage=stage)

    def _set_status(self, **changes: Any) -> None:
        self._status = dataclasses.replace(self._status, **changes)

    def _progress(self, stage: str, done: int, total: int) -> None:
        self._set_status(stage=stage, done=done, total=total)

    def _build_loop(self) -> None:
        while True:
            with self._builds:
                if self._covered >= self._requested:
                    self._worker = None
                    return
                target = self._requested
                self._set_status(running=True, stage="waiting", done=0, total=0)
            outcome = self._build(self._progress)
            with self._builds:
                self._covered = target
                self._outcomes = [*self._outcomes[-20:], (target, outcome)]
                self._set_status(running=False, stage="", builds_finished=self._status.builds_finished + 1)
                self._builds.notify_all()
