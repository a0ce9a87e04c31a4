"""Build the index from the corpus, re-embedding only what changed.

Documents are compared with the previous manifest by (document id, hash of the final cleaned
text and title). Unchanged documents keep their vectors; new and changed ones are chunked and
embedded, each chunk whole and sentence by sentence; removed ones disappear. A different model or
chunking setting forces a full rebuild, and the report says why. When nothing changed, nothing is
written and the model is not loaded.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.ingest import Chunk
from retrieval.config import Settings
from retrieval.ingest import deduplicate
from retrieval.index.embeddings import Embedder, SentenceTransformerEmbedder
from retrieval.errors import BuildLockedError, CorpusError, IndexProblem, RetrievalError
from retrieval.index.bm25 import BM25_PARAMS
from retrieval.ingest import SUPPORTED_SUFFIXES, RawDocument
from retrieval.index.stages import ChunkRequest, LocalStages, Progress, Stages
from retrieval.index.store import (
    SENTENCE_DTYPE,
    IndexData,
    IndexWriteFailed,
    StoredDocument,
    build_faiss_index,
    fault_point,
    load_index,
    write_failure_message,
    write_index,
)

LOCK_FILE = ".lock"


@dataclass
class BuildReport:
    """What a build did. ``embedded``/``reused``/``removed_chunks`` count chunks;
    ``embedded_sentences`` counts the distinct sentences embedded on their own."""

    documents: int = 0
    chunks: int = 0
    embedded: int = 0
    embedded_sentences: int = 0
    reused: int = 0
    removed: int = 0  # documents removed since the last build
    removed_chunks: int = 0
    added_documents: list[str] = field(default_factory=list)
    changed_documents: list[str] = field(default_factory=list)
    unchanged_documents: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)  # {"path", "reason"}
    cleaning: list[dict[str, Any]] = field(default_factory=list)  # per document: chars removed
    notes: list[str] = field(default_factory=list)
    full_rebuild: bool = False
    full_rebuild_reason: str = ""
    wrote_index: bool = False
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Prepared:
    doc_id: str
    title: str
    text: str
    kind: str
    content_hash: str
    chars_in: int
    chars_removed: int
    removals: dict[str, int]


def build_index(
    settings: Settings,
    *,
    full: bool = False,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    wait_seconds: float = 0.0,
    stages: Stages | None = None,
) -> BuildReport:
    """Bring ``settings.index_dir`` up to date with ``settings.corpus_dir``.

    ``stages`` runs reading and cleaning, chunking and embedding: in this process by default,
    or on a cluster (``retrieval.index.cluster.RayStages``); the result is the same index."""
    started = time.perf_counter()
    corpus_dir, index_dir = Path(settings.corpus_dir), Path(settings.index_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder {corpus_dir}/ does not exist: create it and add articles")
    embedder = embedder or SentenceTransformerEmbedder(settings.model, backend=settings.backend)
    report = BuildReport()
    stages = stages or LocalStages()
    with index_lock(index_dir, wait_seconds=wait_seconds):
        prepared = _prepare_documents(corpus_dir, report, progress, stages)
        fault_point("read")
        if not prepared:
            raise CorpusError(_empty_corpus_message(corpus_dir, report))
        previous, reason = _previous_index(index_dir, settings, embedder, full)
        report.full_rebuild, report.full_rebuild_reason = previous is None, reason
        old_docs = previous.manifest["documents"] if previous else {}
        rows_of = _rows_by_document(previous) if previous else {}

        chunks: list[Chunk] = []
        vectors: list[np.ndarray] = []
        to_embed: list[Chunk] = []
        placement: list[tuple[int, int]] = []  # (position in chunks, position in to_embed)
        previous_rows: list[int | None] = []  # each chunk's row in the previous generation, if reused
        # Documents in order: an unchanged one keeps its rows; a new or changed one is chunked
        # (all of them at once, so a cluster can share the work) and its chunks embedded.
        segments: list[tuple[list[int], int]] = []  # (reused rows, -1) or ([], index into new_documents)
        new_documents: list[_Prepared] = []
        for doc in prepared:
            old = old_docs.get(doc.doc_id)
            if previous is not None and old and old.get("sha256") == doc.content_hash:
                rows = rows_of.get(doc.doc_id, [])
                segments.append((rows, -1))
                report.reused += len(rows)
                report.unchanged_documents += 1
                continue
            (report.changed_documents if old else report.added_documents).append(doc.doc_id)
            segments.append(([], len(new_documents)))
            new_documents.append(doc)
        max_tokens = min(settings.chunk_tokens, embedder.max_tokens)
        chunked = stages.chunk(
            [ChunkRequest(d.doc_id, d.title, d.text, max_tokens, settings.overlap_sentences, settings.embed_title) for d in new_documents],
            embedder,
        )
        for rows, new in segments:
            if new < 0 and previous is not None:
                chunks.extend(previous.chunks[i] for i in rows)
                previous_rows.extend(rows)
                vectors.append(previous.vectors[rows])
                continue
            for chunk in chunked[new]:
                placement.append((len(chunks), len(to_embed)))
                chunks.append(chunk)
                previous_rows.append(None)
                to_embed.append(chunk)
                vectors.append(np.zeros((1, 0), dtype=np.float32))  # placeholder, filled below
        removed_ids = set(old_docs) - {doc.doc_id for doc in prepared}
        report.removed = len(removed_ids)
        report.removed_chunks = sum(int(old_docs[d].get("chunks", 0)) for d in removed_ids)

        # New BM25 parameters: rewrite BM25, reusing every vector.
        bm25_changed = previous is not None and previous.manifest.get("lexical") != BM25_PARAMS
        # Sentence vectors wanted but missing (an index written before them, or with them switched
        # off), or there but switched off: add or drop them, reusing every chunk vector.
        sentences_switched = previous is not None and (previous.sentence_vectors is not None) != settings.sentence_vectors
        nothing_changed = (
            previous is not None and not to_embed and not removed_ids and not report.changed_documents
            and not bm25_changed and not sentences_switched
        )
        if bm25_changed:
            report.notes.append(
                f"keyword (BM25) settings changed to {json.dumps(BM25_PARAMS)}: the keyword index is rebuilt; "
                "no passage is embedded again for it"
            )
        if sentences_switched and settings.sentence_vectors and any(row is not None for row in previous_rows):
            report.notes.append(
                "the index had no sentence vectors (written by an earlier version, or with "
                "RETRIEVAL_SENTENCE_VECTORS=off): the sentences of unchanged passages are embedded once; "
                "no passage is embedded again"
            )
        elif sentences_switched and not settings.sentence_vectors:
            report.notes.append("sentence vectors are switched off (RETRIEVAL_SENTENCE_VECTORS=off): they are removed from the index")
        if nothing_changed:
            report.documents, report.chunks = len(prepared), len(chunks)
            report.seconds = round(time.perf_counter() - started, 3)
            return report

        sentences = _SentencePlan(chunks, previous_rows, previous) if settings.sentence_vectors else None
        sentence_texts = sentences.to_embed if sentences is not None else []
        new_vectors = _embed(embedder, to_embed, settings, progress, extra=sentence_texts, stages=stages)
        fault_point("embed")
        new_vectors, new_sentence_vectors = new_vectors[: len(to_embed)], new_vectors[len(to_embed) :]
        matrix = _assemble(vectors, placement, new_vectors, embedder)
        sentence_vectors, sentence_rows = (
            sentences.assemble(new_sentence_vectors, embedder.dimension) if sentences is not None else (None, None)
        )
        manifest = _manifest(settings, embedder, prepared, chunks, previous)
        data = IndexData(
            manifest=manifest,
            chunks=chunks,
            vectors=matrix,
            documents={d.doc_id: StoredDocument(d.doc_id, d.title, d.text, d.kind) for d in prepared},
            faiss_index=build_faiss_index(matrix),
            bm25=_build_bm25(chunks),
            sentence_vectors=sentence_vectors,
            sentence_rows=sentence_rows,
        )
        write_index(index_dir, data)
        report.wrote_index = True
        report.embedded = len(to_embed)
        report.embedded_sentences = len(sentence_texts)
        report.documents, report.chunks = len(prepared), len(chunks)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


@contextmanager
def index_lock(index_dir: Path, *, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold an exclusive lock on the index folder. The kernel drops it if the build dies."""
    path = index_dir / LOCK_FILE
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
    except OSError as error:  # read-only or full disk, no permission: say so, no traceback
        raise IndexWriteFailed(write_failure_message(index_dir, error)) from None
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                raise BuildLockedError(
                    f"another build is already updating {index_dir}/ ({holder}); "
                    "wait for it to finish and try again"
                ) from None
            time.sleep(0.2)
    try:
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}")
            handle.flush()
        except OSError:
            pass  # the note of who holds the lock is a courtesy; the flock is what counts
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def discover_files(corpus_dir: Path, report: BuildReport) -> list[tuple[Path, str]]:
    """Files under ``corpus_dir`` as (path, doc id), skipping (with a reason) what we cannot use."""
    root = corpus_dir.resolve()
    found: list[tuple[Path, str]] = []
    for dirpath, dirnames, filenames in os.walk(corpus_dir, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            # os.walk does not follow it; say so rather than ignore it silently.
            dirnames.remove(name)
            link = (Path(dirpath) / name).relative_to(corpus_dir).as_posix()
            report.skipped.append({"path": link, "reason": "symbolic link to a folder: not followed (copy the files into the corpus folder)"})
        for name in sorted(filenames):
            path = Path(dirpath) / name
            doc_id = path.relative_to(corpus_dir).as_posix()
            if name.startswith("."):
                continue
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root):
                    report.skipped.append({"path": doc_id, "reason": "symbolic link to a file outside the corpus folder"})
                    continue
            if not path.is_file():
                report.skipped.append({"path": doc_id, "reason": "not a regular file"})
                continue
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                report.skipped.append(
                    {"path": doc_id, "reason": f"unsupported file type {path.suffix or '(no extension)'}; "
                     f"supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}"}
                )
                continue
            found.append((path, doc_id))
    return found


def _prepare_documents(corpus_dir: Path, report: BuildReport, progress: Progress | None, stages: Stages) -> list[_Prepared]:
    files = discover_files(corpus_dir, report)
    cleaned: dict[str, tuple[RawDocument, str, int, dict[str, int]]] = {}
    for item in stages.clean(files, progress):
        if item.document is None:
            report.skipped.append({"path": item.doc_id, "reason": item.skipped})
            continue
        report.notes.extend(f"{item.doc_id}: {note}" for note in item.document.notes)
        cleaned[item.doc_id] = (item.document, item.text, item.chars_in, dict(item.removals))
    deduplicated = deduplicate({doc_id: value[1] for doc_id, value in cleaned.items()})
    prepared = []
    for doc_id, (document, _, chars_in, removals) in cleaned.items():
        dedup = deduplicated[doc_id]
        if dedup.removed_paragraphs:
            removals["duplicate of another document"] = len(cleaned[doc_id][1]) - len(dedup.text)
            report.notes.append(
                f"{doc_id}: {dedup.removed_paragraphs} paragraph(s) also in {', '.join(dedup.duplicate_of)} "
                "were indexed there only"
            )
        if dedup.removed_paragraphs and not any(len(line.split()) >= 12 for line in dedup.text.split("\n")):
            # Only headings and fragments are left: the whole document is a copy.
            report.skipped.append({"path": doc_id, "reason": f"duplicate of {', '.join(dedup.duplicate_of)}"})
            continue
        content_hash = hashlib.sha256(f"{document.title}\n{dedup.text}".encode()).hexdigest()
        chars_removed = max(chars_in - len(dedup.text), 0)
        report.cleaning.append(
            {
                "path": doc_id,
                "chars_in": chars_in,
                "chars_removed": chars_removed,
                "percent_removed": round(100 * chars_removed / max(chars_in, 1), 1),
                "removed": removals,
            }
        )
        prepared.append(
            _Prepared(doc_id, document.title, dedup.text, document.kind, content_hash, chars_in, chars_removed, removals)
        )
    return prepared


def _empty_corpus_message(corpus_dir: Path, report: BuildReport) -> str:
    if not report.skipped:
        return f"corpus folder {corpus_dir}/ has no documents: add .txt, .md, .html or .pdf files"
    reasons = "; ".join(f"{s['path']}: {s['reason']}" for s in report.skipped[:5])
    more = f" (and {len(report.skipped) - 5} more)" if len(report.skipped) > 5 else ""
    return f"no readable documents in {corpus_dir}/: {len(report.skipped)} skipped: {reasons}{more}"


def _previous_index(
    index_dir: Path, settings: Settings, embedder: Embedder, full: bool
) -> tuple[IndexData | None, str]:
    if full:
        return None, "--full was given"
    try:
        previous = load_index(index_dir, searchable=False)  # its FAISS and BM25 are rebuilt, never read
    except IndexProblem as problem:
        if not (index_dir / "manifest.json").exists():
            return None, "no previous index"
        return None, f"the previous index could not be used ({problem}); rebuilding it from scratch"
    model = previous.manifest.get("model", {})
    if model.get("name") != settings.model or model.get("fingerprint") != embedder.fingerprint:
        return None, (
            f"the model changed (index: {model.get('name')} {model.get('fingerprint')}, "
            f"now: {settings.model} {embedder.fingerprint}): every chunk is embedded again"
        )
    if previous.manifest.get("chunking") != settings.chunking_signature():
        return None, (
            f"chunking settings changed (index: {json.dumps(previous.manifest.get('chunking'))}, "
            f"now: {json.dumps(settings.chunking_signature())}): every chunk is embedded again"
        )
    return previous, ""


def _rows_by_document(previous: IndexData) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = {}
    for row, chunk in enumerate(previous.chunks):
        rows.setdefault(chunk.doc_id, []).append(row)
    return rows


def _embed(
    embedder: Embedder,
    chunks: list[Chunk],
    settings: Settings,
    progress: Progress | None,
    *,
    extra: Sequence[str] = (),
    stages: Stages,
) -> np.ndarray:
    """The chunks' vectors, then ``extra`` texts' (sentences), in one pass with one progress count."""
    texts = [chunk.embedded_text(embed_title=settings.embed_title) for chunk in chunks] + list(extra)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("embedding", done, len(texts))

    if progress:
        progress("embedding", 0, len(texts))
    return stages.embed(embedder, texts, advance)


class _SentencePlan:
    """Which sentences a build embeds, and how its sentence vectors are put together.

    A chunk reused from the previous generation keeps that generation's sentence vectors; a new
    chunk's sentences (``highlight.split_sentences``, the sentences a reader is shown) are
    embedded, each distinct sentence text once (chunks overlap by a sentence).
    """

    def __init__(self, chunks: list[Chunk], previous_rows: list[int | None], previous: IndexData | None) -> None:
        from retrieval.ingest import split_sentences

        self._old = previous.sentence_vectors if previous is not None else None
        self.to_embed: list[str] = []
        position: dict[str, int] = {}
        # Per chunk: its rows of the previous sentence vectors (a slice), or of ``to_embed`` (a list).
        self._parts: list[slice | list[int]] = []
        for chunk, old_row in zip(chunks, previous_rows):
            if old_row is not None and previous is not None and self._old is not None:
                self._parts.append(previous.sentence_span(old_row))
                continue
            positions = []
            for sentence in split_sentences(chunk.text):
                if sentence not in position:
                    position[sentence] = len(self.to_embed)
                    self.to_embed.append(sentence)
                positions.append(position[sentence])
            self._parts.append(positions)

    def assemble(self, new_vectors: np.ndarray, dimension: int) -> tuple[np.ndarray, np.ndarray]:
        """(sentence vectors, chunk row of each), in chunk order."""
        blocks: list[np.ndarray] = []
        rows: list[np.ndarray] = []
        for row, part in enumerate(self._parts):
            block = self._old[part] if isinstance(part, slice) and self._old is not None else new_vectors[part]
            blocks.append(block.reshape(-1, dimension))
            rows.append(np.full(len(blocks[-1]), row, dtype=np.int32))
        if not blocks:
            return np.zeros((0, dimension), dtype=SENTENCE_DTYPE), np.zeros(0, dtype=np.int32)
        return np.ascontiguousarray(np.vstack(blocks), dtype=SENTENCE_DTYPE), np.concatenate(rows)


def _assemble(
    vectors: list[np.ndarray], placement: list[tuple[int, int]], new_vectors: np.ndarray, embedder: Embedder
) -> np.ndarray:
    """Stack reused blocks and newly embedded rows in chunk order."""
    new_rows = iter(new_vectors)
    blocks = [next(new_rows)[None, :] if block.shape[1] == 0 else block for block in vectors]
    if not blocks:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.ascontiguousarray(np.vstack(blocks), dtype=np.float32)


def _build_bm25(chunks: list[Chunk]):  # type: ignore[no-untyped-def]
    from retrieval.index.bm25 import build_bm25

    return build_bm25([f"{c.title}\n{c.section}\n{c.text}" for c in chunks])


def _manifest(
    settings: Settings, embedder: Embedder, prepared: list[_Prepared], chunks: list[Chunk], previous: IndexData | None
) -> dict[str, Any]:
    per_doc: dict[str, int] = {}
    for chunk in chunks:
        per_doc[chunk.doc_id] = per_doc.get(chunk.doc_id, 0) + 1
    old_docs = previous.manifest["documents"] if previous else {}
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    documents = {}
    for doc in prepared:
        old = old_docs.get(doc.doc_id, {})
        unchanged = old.get("sha256") == doc.content_hash
        documents[doc.doc_id] = {
            "sha256": doc.content_hash,
            "title": doc.title,
            "kind": doc.kind,
            "chunks": per_doc.get(doc.doc_id, 0),
            "chars_in": doc.chars_in,
            "chars_removed": doc.chars_removed,
            "indexed_at": old.get("indexed_at", now) if unchanged else now,
        }
    return {
        "built_at": now,
        "model": {
            "name": settings.model,
            "fingerprint": embedder.fingerprint,
            "dimension": embedder.dimension,
            "max_tokens": embedder.max_tokens,
        },
        "chunking": settings.chunking_signature(),
        "lexical": dict(BM25_PARAMS),
        "counts": {"documents": len(prepared), "chunks": len(chunks)},
        "documents": documents,
        "previous_generation": previous.manifest.get("generation", "") if previous else "",
    }


__all__ = ["BuildReport", "build_index", "index_lock", "discover_files", "RetrievalError"]
