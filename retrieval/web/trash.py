"""Removed articles go to ``corpus/.trash/`` and can be restored from there.

Each removal gets a folder ``.trash/<UTC time>-<id>/`` holding the file at its path relative to
the corpus, so two removals of the same name never collide. The build skips folders whose
name starts with a dot, so nothing in the trash is indexed.

>>> # move_to_trash(corpus, "sub/article.txt") -> TrashedFile("sub/article.txt", "20261205T130000-1a2b3c/sub/article.txt", ...)
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

TRASH_DIR = ".trash"


class TrashError(Exception):
    """A file cannot be moved to or from the trash; the message says why."""


@dataclass(frozen=True)
class TrashedFile:
    doc_id: str  # where it was (and goes back to), relative to the corpus
    trashed_as: str  # its path relative to the trash folder
    removed_at: str  # "2026-12-05 13:00" (UTC)


def move_to_trash(corpus: Path, doc_id: str) -> TrashedFile:
    source = corpus / doc_id
    if not source.is_file():
        raise TrashError(f"{doc_id!r} is not in the articles folder any more")
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    target = corpus / TRASH_DIR / f"{stamp}-{uuid.uuid4().hex[:6]}" / doc_id
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target)
    except OSError as error:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise TrashError(f"{doc_id!r} cannot be moved to the trash: {error.strerror or error}") from None
    return TrashedFile(doc_id, target.relative_to(corpus / TRASH_DIR).as_posix(), _when(stamp))


def trashed_files(corpus: Path) -> list[TrashedFile]:
    """Everything in the trash, most recently removed first."""
    trash = corpus / TRASH_DIR
    if not trash.is_dir():
        return []
    found: list[TrashedFile] = []
    for folder in sorted(trash.iterdir(), reverse=True):
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            found.append(TrashedFile(path.relative_to(folder).as_posix(), path.relative_to(trash).as_posix(), _when(folder.name[:15])))
    return found


def restore(corpus: Path, trashed_as: str) -> str:
    """Put a trashed file back where it was; returns its corpus path. Never overwrites."""
    trash = (corpus / TRASH_DIR).resolve()
    source = (trash / trashed_as).resolve()
    if not source.is_relative_to(trash) or not source.is_file():
        raise TrashError(f"{trashed_as!r} is not in the trash")
    folder = trash / Path(trashed_as).parts[0]
    doc_id = source.relative_to(folder).as_posix()
    target = corpus / doc_id
    if target.exists():
        raise TrashError(f"{doc_id!r} already exists in the articles folder; remove or rename it first")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)  # fails if the name appeared meanwhile: never overwrites
    except OSError as error:
        raise TrashError(f"{doc_id!r} cannot be restored: {error.strerror or error}") from None
    source.unlink()
    if not any(path.is_file() for path in folder.rglob("*")):
        shutil.rmtree(folder, ignore_errors=True)
    return doc_id


def _when(stamp: str) -> str:
    """"20261205T130000" -> "2026-12-05 13:00"."""
    if len(stamp) < 13:
        return stamp
    return f"{stamp[0:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]}"
