"""Build the index from the corpus, re-embedding only what changed.

Documents are compared with the previous manifest by (document id, hash of the final cleaned
text and title). Unchanged documents keep their vectors; new and changed ones are chunked and
embedded, each chunk whole and sentence by sentence; removed ones disappear. A different model or
chunking setting forces a full rebuild, and the report says why. When nothing changed, nothing is
written and the model is not loaded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.config import Settings
from retrieval.errors import CorpusError, IndexProblem, RetrievalError
from retrieval.index.bm25 import BM25_PARAMS
from retrieval.index.embeddings import Embedder, SentenceTransformerEmbedder
from retrieval.index.lock import index_lock
from retrieval.index.prepare import PreparedDocument, empty_corpus_message, prepare_documents
from retrieval.index.report import BuildReport
from retrieval.index.sentence_plan import SentencePlan
from retrieval.index.stages import ChunkRequest, LocalStages, Progress, Stages
from retrieval.index.store import IndexData, StoredDocument, build_faiss_index, fault_point, load_index, write_index
from retrieval.ingest import Chunk

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
        prepared = prepare_documents(corpus_dir, report, progress, stages)
        fault_point("read")
        if not prepared:
            raise CorpusError(empty_corpus_message(corpus_dir, report))
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
        new_documents: list[PreparedDocument] = []
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

        sentences = SentencePlan(chunks, previous_rows, previous) if settings.sentence_vectors else None
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
    settings: Settings, embedder: Embedder, prepared: list[PreparedDocument], chunks: list[Chunk], previous: IndexData | None
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


__all__ = ["BuildReport", "build_index", "index_lock", "RetrievalError"]
