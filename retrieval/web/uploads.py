"""Adding an uploaded file to the corpus folder: a safe name, the size limit, a check that the
build can read it, no duplicate content, and never replacing an existing file."""
from __future__ import annotations

import os
import re
import shutil
import threading
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from retrieval.errors import DocumentRejected, RetrievalError

UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
MAX_NAME_CHARS = 100


class UploadRejected(RetrievalError):
    """One uploaded file cannot be added; the message says why."""


@dataclass(frozen=True)
class SavedUpload:
    """An uploaded file added to the corpus. ``saved_as`` differs from ``wanted`` when renamed."""

    original: str  # the name the browser sent
    wanted: str  # the sanitised name
    saved_as: str  # the name in the corpus (versioned as name-2.txt if ``wanted`` existed)

    @property
    def versioned(self) -> bool:
        return self.saved_as != self.wanted


def safe_file_name(name: str) -> str:
    """A file name that is safe to create in the corpus folder, or UploadRejected.

    Directories are stripped (both ``/`` and ``\\``), letters are NFKC-normalised, anything
    but letters, digits, ``.``, ``-``, ``_`` and spaces becomes ``-``, leading dots (hidden
    files) go, and the extension must be one we can index.

    Example: safe_file_name("../../etc/Zorblax stretch?.TXT") -> "Zorblax stretch.txt"
    """
    base = re.split(r"[/\\]", name or "")[-1]
    base = unicodedata.normalize("NFKC", base)
    base = re.sub(r"[^\w.\- ]", "-", base, flags=re.UNICODE)
    base = re.sub(r"\s+", " ", base)
    base = re.sub(r"-{2,}", "-", base).strip()
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        raise UploadRejected(f"{name!r} has no file extension; upload {_suffix_list()} files")
    suffix = "." + suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise UploadRejected(f"{name!r}: {suffix} files are not supported; upload {_suffix_list()} files")
    stem = stem.strip(" .-")[: MAX_NAME_CHARS - len(suffix)].rstrip(" .-") or "document"
    return stem + suffix


def _suffix_list() -> str:
    return ", ".join(UPLOAD_SUFFIXES)


def save_upload(source: Path, corpus: Path, *, max_mb: float, lock: threading.Lock, original_name: str | None = None) -> SavedUpload:
    """Copy one uploaded file into the corpus folder under a safe, unused name.

    ``lock`` serialises saving and removing files. Checks the name, the size limit and that the file can be read as an article (the same
    reader the build uses), then creates it without ever replacing an existing file: a
    taken name becomes ``name-2.txt``, ``name-3.txt``, ...
    """
    from retrieval.ingest import read_document

    original = original_name or source.name
    wanted = safe_file_name(original)
    try:
        size = source.stat().st_size
    except OSError as error:
        raise UploadRejected(f"{original!r} cannot be read: {error.strerror or error}") from None
    if size > int(max_mb * 1024 * 1024):
        raise UploadRejected(
            f"{original!r} is {size / 1024 / 1024:.1f} MB; the limit is {max_mb:g} MB per file"
        )
    corpus.mkdir(parents=True, exist_ok=True)
    suffix = Path(wanted).suffix
    # A hidden staging file (the build skips dot-files) with the right extension for the reader.
    staging = corpus / f".upload-{uuid.uuid4().hex}{suffix}"
    try:
        shutil.copyfile(source, staging)
        try:
            read_document(staging, wanted)
        except DocumentRejected as rejected:
            raise UploadRejected(f"{original!r} cannot be indexed: {rejected.reason}") from None
        with lock:
            twin = _identical_file(staging, corpus)
            if twin is not None:
                raise UploadRejected(f"{original!r} is already in the library as {twin} (same content)")
            saved_as = _link_unused(staging, corpus, wanted)
    finally:
        staging.unlink(missing_ok=True)
    return SavedUpload(original, wanted, saved_as)


def _link_unused(staging: Path, corpus: Path, wanted: str) -> str:
    stem, suffix = wanted[: -len(Path(wanted).suffix)], Path(wanted).suffix
    root = corpus.resolve()
    for version in range(1, 1000):
        name = wanted if version == 1 else f"{stem}-{version}{suffix}"
        target = corpus / name
        if target.resolve().parent != root:  # cannot happen after safe_file_name; belt and braces
            raise UploadRejected(f"{wanted!r} is not a plain file name")
        try:
            os.link(staging, target)  # fails if the name exists: never overwrites
        except FileExistsError:
            continue
        return name
    raise UploadRejected(f"too many files named like {wanted!r}; rename it and try again")


def _identical_file(candidate: Path, corpus: Path) -> str | None:
    """The corpus file (relative path) with exactly the bytes of ``candidate``, if any."""
    size = candidate.stat().st_size
    data: bytes | None = None
    for path in corpus.rglob("*"):
        if path.name.startswith(".") or not path.is_file() or path.is_symlink() or path.stat().st_size != size:
            continue
        data = candidate.read_bytes() if data is None else data
        if path.read_bytes() == data:
            return path.relative_to(corpus).as_posix()
    return None
