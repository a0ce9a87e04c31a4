"""The build's three parallelisable stages, run here or on a cluster.

A build reads and cleans each file, chunks each new or changed document, and embeds the new
chunks and sentences. Everything else (finding files, deduplication across documents, deciding
what changed, writing the index under its lock) runs once, in the process that builds.
:class:`LocalStages` runs the three stages in this process; ``retrieval.index.cluster.RayStages``
runs them as a Ray Data pipeline and returns exactly the same values.

Each stage's per-item work is a plain module-level function (:func:`clean_file`,
:func:`chunk_document`), so a cluster worker runs the very code a local build runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from retrieval.errors import DocumentRejected
from retrieval.ingest import Chunk, RawDocument, chunk_text, clean_text, parse_document, read_bytes

# progress(stage, done, total): stage is "reading" (documents) or "embedding" (passages and
# their sentences).
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class CleanedFile:
    """One file after reading and cleaning, or the reason it was skipped."""

    doc_id: str
    document: RawDocument | None = None
    text: str = ""
    chars_in: int = 0
    removals: tuple[tuple[str, int], ...] = ()  # (reason, characters removed)
    skipped: str = ""  # the reason, when the file cannot be used


@dataclass(frozen=True)
class ChunkRequest:
    """What chunking one document needs: the document and the chunking settings."""

    doc_id: str
    title: str
    text: str
    max_tokens: int
    overlap_sentences: int
    embed_title: bool


def clean_file(doc_id: str, data: bytes, name: str) -> CleanedFile:
    """Parse and clean one file's bytes (the per-file work of the "reading" stage)."""
    try:
        document = parse_document(data, doc_id, name)
    except DocumentRejected as rejected:
        return CleanedFile(doc_id, skipped=rejected.reason)
    result = clean_text(document.text, title=document.title)
    if not result.text.strip("\f \n"):
        return CleanedFile(doc_id, skipped="nothing left after removing web-page junk")
    removals: dict[str, int] = {}
    for removal in result.removed:
        removals[removal.reason] = removals.get(removal.reason, 0) + len(removal.text)
    if result.title != document.title:
        document = replace(document, title=result.title)
    return CleanedFile(doc_id, document, result.text, result.chars_in, tuple(removals.items()))


def chunk_document(request: ChunkRequest, count_tokens: Callable[[Sequence[str]], list[int]]) -> list[Chunk]:
    return chunk_text(
        request.doc_id,
        request.title,
        request.text,
        count_tokens=count_tokens,
        max_tokens=request.max_tokens,
        overlap_sentences=request.overlap_sentences,
        embed_title=request.embed_title,
    )


def file_bytes(path: Path) -> tuple[bytes | None, str]:
    """(bytes, "") or (None, why the file cannot be read)."""
    try:
        return read_bytes(path), ""
    except DocumentRejected as rejected:
        return None, rejected.reason


class Stages(Protocol):
    """Each stage returns its results in the order of its input."""

    name: str

    def clean(self, files: Sequence[tuple[Path, str]], progress: Progress | None) -> Iterator[CleanedFile]: ...

    def chunk(self, requests: Sequence[ChunkRequest], embedder) -> list[list[Chunk]]: ...  # type: ignore[no-untyped-def]

    def embed(self, embedder, texts: Sequence[str], progress: Callable[[int], None]) -> np.ndarray: ...  # type: ignore[no-untyped-def]


class LocalStages:
    """The stages in this process, one item after another."""

    name = "local"

    def clean(self, files: Sequence[tuple[Path, str]], progress: Progress | None) -> Iterator[CleanedFile]:
        for done, (path, doc_id) in enumerate(files, 1):
            data, reason = file_bytes(path)
            yield clean_file(doc_id, data, path.name) if data is not None else CleanedFile(doc_id, skipped=reason)
            if progress:
                progress("reading", done, len(files))

    def chunk(self, requests: Sequence[ChunkRequest], embedder) -> list[list[Chunk]]:  # type: ignore[no-untyped-def]
        return [chunk_document(request, embedder.count_tokens) for request in requests]

    def embed(self, embedder, texts: Sequence[str], progress: Callable[[int], None]) -> np.ndarray:  # type: ignore[no-untyped-def]
        return embedder.embed(texts, progress=progress)
