"""Feedback on answers (helpful / not helpful, with an optional note), kept on this machine.

Stored in SQLite (``index/app-data/feedback.sqlite3`` by default), never sent anywhere.
``python -m retrieval feedback`` exports it as CSV or JSON lines.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

FILE_NAME = "feedback.sqlite3"
MAX_NOTE_CHARS = 2000
RATINGS = ("helpful", "not helpful")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    question TEXT NOT NULL,
    answered_as TEXT NOT NULL,
    rating TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    sources TEXT NOT NULL DEFAULT ''
)
"""


@dataclass(frozen=True)
class Feedback:
    question: str
    rating: str  # one of RATINGS
    answered_as: str = ""  # the question actually answered (a follow-up combined with the last)
    note: str = ""
    sources: str = ""  # the cited files, comma-separated
    created_at: str = ""
    id: int = 0


def feedback_path(index_dir: Path) -> Path:
    return Path(index_dir) / "app-data" / FILE_NAME


@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=10)) as connection:
        connection.execute(_SCHEMA)
        with connection:
            yield connection


def record(path: Path, item: Feedback) -> int:
    """Store one rating; returns its id (to attach a note later with :func:`add_note`)."""
    if item.rating not in RATINGS:
        raise ValueError(f"rating must be one of {RATINGS}, not {item.rating!r}")
    created = item.created_at or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with _connect(path) as db:
        cursor = db.execute(
            "INSERT INTO feedback (created_at, question, answered_as, rating, note, sources) VALUES (?, ?, ?, ?, ?, ?)",
            (created, item.question, item.answered_as or item.question, item.rating, item.note[:MAX_NOTE_CHARS], item.sources),
        )
        return int(cursor.lastrowid or 0)


def add_note(path: Path, feedback_id: int, note: str) -> bool:
    with _connect(path) as db:
        cursor = db.execute("UPDATE feedback SET note = ? WHERE id = ?", (note.strip()[:MAX_NOTE_CHARS], feedback_id))
        return cursor.rowcount == 1


def all_feedback(path: Path) -> list[Feedback]:
    """Every rating, newest first (an empty list when none was ever given)."""
    if not path.exists():
        return []
    with _connect(path) as db:
        rows = db.execute(
            "SELECT question, rating, answered_as, note, sources, created_at, id FROM feedback ORDER BY id DESC"
        ).fetchall()
    return [Feedback(*row) for row in rows]


def as_dict(item: Feedback) -> dict[str, object]:
    return asdict(item)
