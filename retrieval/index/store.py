"""The index folder: its format, atomic writes and checked loads. The format lives here only.

    index/
      manifest.json          the commit point: format, model, settings, counts, file hashes,
                             per-document hashes; names the generation folder in use
      gen-<id>/
        chunks.jsonl         one Chunk per line; line i <-> row i of vectors.npy <-> FAISS id i
        vectors.npy          float32 (n, dim), L2-normalised; reused for unchanged documents
        faiss.index          inner-product index over vectors.npy (flat, or HNSW when large)
        documents.jsonl      each document's title, source and cleaned text (for "read more")
        bm25/                the BM25 index over the same chunks (bm25s' plain files)
        sentence_vectors.npy float16 (m, dim): each chunk's sentences embedded on their own, in
                             chunk order; reused for unchanged documents (half the size of
                             float32 and the same rankings; indexes written with float32 load too)
        sentence_rows.npy    int32 (m,): the chunk row each sentence belongs to (non-decreasing)
      .lock                  held (flock) while a build runs

A build writes a complete new generation folder, fsyncs it, then replaces ``manifest.json``
in one ``os.replace``. A reader therefore sees the old index or the new one, never a mix; a
build killed at any point leaves the previous generation serving. The previous generation is
kept one build longer for readers that were just opening it.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.index.files import file_record, read_jsonl, sha256_of, sync_dir, total_size, write_json_atomically, write_jsonl, write_npy
from retrieval.ingest import Chunk
from retrieval.errors import (
    REBUILD_HINT,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexWriteFailed,
)

INDEX_FORMAT = 1
MANIFEST_FILE = "manifest.json"
CHUNKS_FILE = "chunks.jsonl"
VECTORS_FILE = "vectors.npy"
FAISS_FILE = "faiss.index"
DOCUMENTS_FILE = "documents.jsonl"
BM25_DIR = "bm25"
SENTENCE_VECTORS_FILE = "sentence_vectors.npy"
SENTENCE_ROWS_FILE = "sentence_rows.npy"
# Sentence vectors are only ever scored a few hundred at a time (a question's candidates), so they
# are stored at half precision: seed and MedQuAD figures were identical to float32's to the last
# digit, and MedQuAD small's index shrank from 32 to 22 MB (BENCHMARKS.md, "Cost of sentence vectors").
SENTENCE_DTYPE = np.float16
SENTENCE_FILES = (SENTENCE_VECTORS_FILE, SENTENCE_ROWS_FILE)
# Chunks from which FAISS uses HNSW instead of exact search. Measured on the 30,968-chunk MedQuAD
# index (bench/bench_query.py): exact 6.5 / 16 ms p50 / p95 per query; HNSW (efSearch 256) 0.36 ms
# p50, recall@10 0.993 against exact, hybrid hit@k on qrels_small unchanged. Kept above
# search.EXHAUSTIVE_UP_TO (20,000), which asks FAISS for every chunk's score.
HNSW_THRESHOLD = 25_000


@dataclass(frozen=True)
class StoredDocument:
    doc_id: str
    title: str
    text: str  # cleaned text, as indexed
    kind: str = "text"


@dataclass
class IndexData:
    """Everything one index generation holds, in memory."""

    manifest: dict[str, Any]
    chunks: list[Chunk]
    vectors: np.ndarray
    documents: dict[str, StoredDocument] = field(default_factory=dict)
    faiss_index: Any = None
    bm25: Any = None
    generation_dir: Path | None = None
    # Each chunk's sentences, embedded on their own (search.SENTENCE_WEIGHT); None for an index
    # written before they were added (it still loads and searches, on chunk vectors alone).
    sentence_vectors: np.ndarray | None = None
    sentence_rows: np.ndarray | None = None  # int32, the chunk row of each sentence, non-decreasing

    def sentence_span(self, row: int) -> slice:
        """Where chunk ``row``'s sentences sit in ``sentence_vectors`` (empty without them)."""
        if self.sentence_rows is None:
            return slice(0, 0)
        start, end = np.searchsorted(self.sentence_rows, [row, row + 1])
        return slice(int(start), int(end))


def fault_point(step: str) -> None:
    """Test hook: with RETRIEVAL_FAULT_AT=<step>, the process kills itself here (like kill -9)."""
    if os.environ.get("RETRIEVAL_FAULT_AT") == step:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def read_manifest(index_dir: Path) -> dict[str, Any]:
    path = index_dir / MANIFEST_FILE
    if not path.exists():
        raise IndexNotFoundError(f"no index in {index_dir}/: run `python -m retrieval build` first")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise IndexCorruptError(f"{path} is unreadable ({error}); {REBUILD_HINT}") from None
    if not isinstance(manifest, dict) or "format" not in manifest:
        raise IndexCorruptError(f"{path} is not an index manifest; {REBUILD_HINT}")
    if manifest["format"] != INDEX_FORMAT:
        raise IndexMismatchError(
            f"{index_dir}/ uses index format {manifest['format']}, this version reads format "
            f"{INDEX_FORMAT}; {REBUILD_HINT}"
        )
    return manifest


def write_index(index_dir: Path, data: IndexData) -> Path:
    """Write a new generation and commit it by replacing the manifest. Returns the folder.

    A failed write (disk full, read-only folder) removes what it wrote and raises
    IndexWriteFailed; the previous index is left exactly as it was.
    """
    generation = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    folder = index_dir / generation
    tmp = index_dir / f".{generation}.tmp"
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
    except OSError as error:
        raise IndexWriteFailed(write_failure_message(index_dir, error)) from None
    try:
        write_jsonl(tmp / CHUNKS_FILE, (asdict(chunk) for chunk in data.chunks))
        fault_point("write:chunks")
        write_npy(tmp / VECTORS_FILE, np.ascontiguousarray(data.vectors, dtype=np.float32))
        fault_point("write:vectors")
        import faiss

        try:
            faiss.write_index(data.faiss_index, str(tmp / FAISS_FILE))
        except RuntimeError as error:  # FAISS reports a failed fwrite (e.g. disk full) this way
            import errno

            code = errno.ENOSPC if "No space left" in str(error) else errno.EIO
            raise OSError(code, os.strerror(code), str(tmp / FAISS_FILE)) from None
        fault_point("write:faiss")
        write_jsonl(tmp / DOCUMENTS_FILE, (asdict(doc) for doc in data.documents.values()))
        if data.bm25 is not None:
            data.bm25.save(str(tmp / BM25_DIR))
        fault_point("write:bm25")
        names = (CHUNKS_FILE, VECTORS_FILE, FAISS_FILE, DOCUMENTS_FILE) + ((BM25_DIR,) if data.bm25 is not None else ())
        if data.sentence_vectors is not None and data.sentence_rows is not None:
            write_npy(tmp / SENTENCE_VECTORS_FILE, np.ascontiguousarray(data.sentence_vectors, dtype=SENTENCE_DTYPE))
            write_npy(tmp / SENTENCE_ROWS_FILE, np.ascontiguousarray(data.sentence_rows, dtype=np.int32))
            names += SENTENCE_FILES
        fault_point("write:sentences")
        files = {name: file_record(tmp / name) for name in names}
        sync_dir(tmp)
        os.replace(tmp, folder)
        sync_dir(index_dir)
    except OSError as error:
        message = write_failure_message(index_dir, error)  # before freeing the space again
        shutil.rmtree(tmp, ignore_errors=True)
        raise IndexWriteFailed(message) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    manifest = dict(data.manifest, format=INDEX_FORMAT, generation=generation, files=files)
    fault_point("before-manifest")
    try:
        write_json_atomically(index_dir / MANIFEST_FILE, manifest)
    except OSError as error:
        shutil.rmtree(folder, ignore_errors=True)  # never committed: do not leave it taking space
        raise IndexWriteFailed(write_failure_message(index_dir, error)) from None
    fault_point("after-manifest")
    data.manifest = manifest
    _remove_old_generations(index_dir, keep={generation, data.manifest.get("previous_generation", "")})
    return folder


def write_failure_message(index_dir: Path, error: OSError) -> str:
    """What went wrong writing to ``index_dir`` and what to do, for a person.

    Example: "cannot write the index in index/: no space left on device; the previous index
    (if any) is unchanged ... To fix it, free some disk space (or choose another folder with
    --index), then run the build again".
    """
    import errno

    code = error.errno
    if code is None:  # numpy reports a short write without an errno
        try:
            code = errno.ENOSPC if shutil.disk_usage(index_dir).free < (1 << 20) else None
        except OSError:
            pass
    reason = os.strerror(code) if code == errno.ENOSPC else error.strerror or str(error) or type(error).__name__
    if code in (errno.ENOSPC, errno.EDQUOT):
        advice = "free some disk space (or choose another folder with --index), then run the build again"
    elif code in (errno.EROFS, errno.EACCES, errno.EPERM):
        advice = "make the folder writable (or choose another folder with --index), then run the build again"
    else:
        advice = "check the folder and the disk (free space, permissions), then run the build again"
    reason = reason.rstrip(".")
    return (
        f"cannot write the index in {index_dir}/: {reason[:1].lower() + reason[1:]}; "
        f"the previous index (if any) is unchanged and still answers questions. To fix it, {advice}"
    )


def load_index(index_dir: Path, *, verify: bool = True, searchable: bool = True) -> IndexData:
    """Load and cross-check the current generation; raise an IndexProblem that says what to do.

    ``searchable=False`` (for a build, which reuses chunks and vectors and writes new search
    structures) checks the FAISS file's size and checksum but reads neither it nor BM25:
    importing bm25s and reading them was half of a no-change build.
    """
    for attempt in range(2):
        manifest = read_manifest(index_dir)
        folder = index_dir / str(manifest.get("generation", ""))
        try:
            return _load_generation(index_dir, folder, manifest, verify=verify, searchable=searchable)
        except FileNotFoundError:
            if attempt == 0 and read_manifest(index_dir).get("generation") != manifest.get("generation"):
                continue  # a build committed while we were opening the old generation
            raise IndexCorruptError(f"index files are missing from {folder}; {REBUILD_HINT}") from None
    raise AssertionError("unreachable")


def _load_generation(
    index_dir: Path, folder: Path, manifest: dict[str, Any], *, verify: bool, searchable: bool = True
) -> IndexData:
    files = manifest.get("files", {})
    # The BM25 folder and the sentence files have records since they were added; indexes written
    # before are read unchecked (BM25) or without sentence vectors.
    has_sentences = all(name in files for name in SENTENCE_FILES)
    checked = (CHUNKS_FILE, VECTORS_FILE, FAISS_FILE, DOCUMENTS_FILE) + ((BM25_DIR,) if BM25_DIR in files else ())
    checked += SENTENCE_FILES if has_sentences else ()
    for name in checked:
        path = folder / name
        if not path.exists():
            raise FileNotFoundError(path)
        expected = files.get(name, {})
        size = total_size(path)
        if expected.get("bytes") != size:
            raise IndexCorruptError(
                f"{path} is {size} bytes but the manifest says {expected.get('bytes')} "
                f"(truncated or replaced); {REBUILD_HINT}"
            )
        if verify and expected.get("sha256") != sha256_of(path):
            raise IndexCorruptError(f"{path} does not match its checksum (corrupted); {REBUILD_HINT}")
    try:
        chunks = [Chunk(**{**row, "pages": tuple(row.get("pages", ()))}) for row in read_jsonl(folder / CHUNKS_FILE)]
        vectors = np.load(folder / VECTORS_FILE, allow_pickle=False)
        sentence_vectors = np.load(folder / SENTENCE_VECTORS_FILE, allow_pickle=False) if has_sentences else None
        sentence_rows = np.load(folder / SENTENCE_ROWS_FILE, allow_pickle=False) if has_sentences else None
        documents = {row["doc_id"]: StoredDocument(**row) for row in read_jsonl(folder / DOCUMENTS_FILE)}
        faiss_index = None
        if searchable:
            import faiss

            faiss_index = faiss.read_index(str(folder / FAISS_FILE))
    except (ValueError, TypeError, KeyError, OSError, RuntimeError, json.JSONDecodeError) as error:
        raise IndexCorruptError(f"cannot read the index in {folder}: {error}; {REBUILD_HINT}") from None
    counts = manifest.get("counts", {})
    dimension = manifest.get("model", {}).get("dimension")
    problems = []
    if len(chunks) != counts.get("chunks"):
        problems.append(f"{len(chunks)} chunks but the manifest says {counts.get('chunks')}")
    if vectors.ndim != 2 or vectors.shape[0] != len(chunks):
        problems.append(f"{vectors.shape[0] if vectors.ndim else 0} vectors for {len(chunks)} chunks")
    elif vectors.shape[1] != dimension:
        problems.append(f"vectors have dimension {vectors.shape[1]}, the manifest says {dimension}")
    if faiss_index is not None and faiss_index.ntotal != len(chunks):
        problems.append(f"the FAISS index holds {faiss_index.ntotal} vectors for {len(chunks)} chunks")
    if len(documents) != counts.get("documents"):
        problems.append(f"{len(documents)} documents but the manifest says {counts.get('documents')}")
    if sentence_vectors is not None and sentence_rows is not None:
        problems += _sentence_problems(sentence_vectors, sentence_rows, len(chunks), dimension)
    if problems:
        raise IndexCorruptError(f"the index in {index_dir}/ is inconsistent: {'; '.join(problems)}; {REBUILD_HINT}")
    bm25 = None
    if (folder / BM25_DIR).is_dir() and searchable:
        bm25 = _load_bm25(folder / BM25_DIR)
    return IndexData(manifest, chunks, vectors, documents, faiss_index, bm25, folder, sentence_vectors, sentence_rows)


def _sentence_problems(vectors: np.ndarray, rows: np.ndarray, chunks: int, dimension: Any) -> list[str]:
    if vectors.dtype.kind != "f":
        return [f"sentence vectors are {vectors.dtype}, not floating point"]
    if vectors.ndim != 2 or vectors.shape[1] != dimension:
        return [f"sentence vectors have shape {vectors.shape}, the manifest says dimension {dimension}"]
    if rows.ndim != 1 or len(rows) != len(vectors) or rows.dtype.kind not in "iu":
        return [f"{len(rows)} sentence rows for {len(vectors)} sentence vectors"]
    if len(rows) and (rows[0] < 0 or rows[-1] >= chunks or bool((np.diff(rows) < 0).any())):
        return [f"sentence rows are not in chunk order within 0..{chunks - 1}"]
    return []


def _load_bm25(path: Path):  # type: ignore[no-untyped-def]
    import bm25s

    try:
        return bm25s.BM25.load(str(path), load_corpus=False, mmap=False)
    except Exception as error:
        raise IndexCorruptError(f"cannot read the BM25 index in {path}: {error}; {REBUILD_HINT}") from None


def build_faiss_index(vectors: np.ndarray):  # type: ignore[no-untyped-def]
    """Exact inner-product search; HNSW above HNSW_THRESHOLD chunks (see BENCHMARKS.md)."""
    import faiss

    dimension = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[1] else 384
    if len(vectors) >= HNSW_THRESHOLD:
        index = faiss.IndexHNSWFlat(dimension, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 256  # recall@10 0.987 at 128, 0.993 at 256, 0.997 at 512 (31k chunks)
    else:
        index = faiss.IndexFlatIP(dimension)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def _remove_old_generations(index_dir: Path, *, keep: set[str]) -> None:
    for entry in index_dir.iterdir():
        name = entry.name
        if entry.is_dir() and name not in keep and (name.startswith("gen-") or (name.startswith(".gen-") and name.endswith(".tmp"))):
            shutil.rmtree(entry, ignore_errors=True)
