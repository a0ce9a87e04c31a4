"""A damaged index is detected with a message that names the fix; it never answers wrongly."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from retrieval.config import Settings
from retrieval.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError
from retrieval.index.build import build_index
from retrieval.index.store import load_index
from retrieval.search.retriever import Retriever
from tests.conftest import FakeEmbedder


@pytest.fixture
def built(settings: Settings, fake_embedder: FakeEmbedder) -> Settings:
    """An index with every optional file (sentence vectors are off by default: switched on here)."""
    settings = replace(settings, sentence_vectors=True)
    build_index(settings, embedder=fake_embedder)
    return settings


def generation(settings: Settings) -> Path:
    manifest = json.loads((settings.index_dir / "manifest.json").read_text())
    return settings.index_dir / manifest["generation"]


def flip_a_byte(path: Path) -> None:
    """Corrupt the file (or the largest file in a folder, like bm25/) without changing its size."""
    if path.is_dir():
        path = max((p for p in path.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_roundtrip_gives_identical_results(built: Settings, fake_embedder: FakeEmbedder) -> None:
    first = Retriever.load(built, embedder=fake_embedder).search("sleeping on your side", k=3)
    again = Retriever.load(built, embedder=fake_embedder).search("sleeping on your side", k=3)
    assert [p.chunk.id for p in first.passages] == [p.chunk.id for p in again.passages]
    assert [p.score for p in first.passages] == pytest.approx([p.score for p in again.passages])


def test_missing_index_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="python -m retrieval build"):
        load_index(tmp_path / "nothing")


@pytest.mark.parametrize("name", ["vectors.npy", "chunks.jsonl", "faiss.index", "documents.jsonl", "sentence_vectors.npy", "sentence_rows.npy"])
def test_truncated_file_is_detected(built: Settings, name: str) -> None:
    path = generation(built) / name
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(IndexCorruptError, match=r"truncated.*build --full"):
        load_index(built.index_dir)


@pytest.mark.parametrize("name", ["vectors.npy", "chunks.jsonl", "faiss.index", "bm25", "sentence_vectors.npy", "sentence_rows.npy"])
def test_same_size_corruption_is_detected_by_checksum(built: Settings, name: str) -> None:
    # bm25/: bm25s loads a flipped byte in its score arrays without complaint and would rank wrongly.
    flip_a_byte(generation(built) / name)
    with pytest.raises(IndexCorruptError, match="checksum"):
        load_index(built.index_dir)


@pytest.mark.parametrize("name", ["vectors.npy", "faiss.index", "sentence_vectors.npy"])
def test_deleted_file_is_detected(built: Settings, name: str) -> None:
    (generation(built) / name).unlink()
    with pytest.raises(IndexCorruptError, match="missing"):
        load_index(built.index_dir)


def test_garbled_manifest_is_detected(built: Settings) -> None:
    (built.index_dir / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="unreadable"):
        load_index(built.index_dir)


def test_manifest_that_does_not_match_the_vectors(built: Settings) -> None:
    path = built.index_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["counts"]["chunks"] += 3
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match="inconsistent"):
        load_index(built.index_dir)


def rewrite_with_valid_checksum(settings: Settings, name: str, array: np.ndarray) -> None:
    """Replace ``name`` in the current generation and record its new size and checksum, as a
    consistent-looking but wrong index would have them."""
    import hashlib

    folder = generation(settings)
    np.save(folder / name, array)
    path = settings.index_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    blob = (folder / name).read_bytes()
    manifest["files"][name] = {"bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}
    path.write_text(json.dumps(manifest))


def test_consistent_files_with_wrong_row_count_are_detected(built: Settings) -> None:
    # Rewrite vectors.npy with one row fewer and fix up its checksum: counts must still catch it.
    rewrite_with_valid_checksum(built, "vectors.npy", np.load(generation(built) / "vectors.npy")[:-1])
    with pytest.raises(IndexCorruptError, match="vectors for"):
        load_index(built.index_dir)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda rows: rows[:-1], "sentence rows for"),
        (lambda rows: rows[::-1], "not in chunk order"),
        (lambda rows: rows + 1000, "not in chunk order"),
    ],
)
def test_sentence_rows_that_do_not_fit_the_chunks_are_detected(built: Settings, change, message: str) -> None:  # type: ignore[no-untyped-def]
    rows = np.load(generation(built) / "sentence_rows.npy")
    rewrite_with_valid_checksum(built, "sentence_rows.npy", change(rows))
    with pytest.raises(IndexCorruptError, match=f"inconsistent.*{message}.*build --full"):
        load_index(built.index_dir)


def test_sentence_vectors_that_are_not_numbers_are_detected(built: Settings) -> None:
    vectors = np.load(generation(built) / "sentence_vectors.npy")
    rewrite_with_valid_checksum(built, "sentence_vectors.npy", (vectors * 100).astype(np.int16))
    with pytest.raises(IndexCorruptError, match=r"inconsistent.*not floating point.*build --full"):
        load_index(built.index_dir)


def test_an_index_with_float32_sentence_vectors_loads_and_scores_the_same(built: Settings) -> None:
    # Indexes written before sentence vectors were stored at half precision hold float32 ones.
    stored = load_index(built.index_dir)
    assert stored.sentence_vectors.dtype == np.float16
    rewrite_with_valid_checksum(built, "sentence_vectors.npy", stored.sentence_vectors.astype(np.float32))
    older = load_index(built.index_dir)
    assert older.sentence_vectors.dtype == np.float32
    vector = stored.vectors[0].astype(np.float32)
    assert np.array_equal(older.sentence_vectors @ vector, stored.sentence_vectors.astype(np.float32) @ vector)


def test_future_format_version_is_a_mismatch(built: Settings) -> None:
    path = built.index_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["format"] = 99
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="format 99"):
        load_index(built.index_dir)


def test_index_built_with_another_model_is_refused(built: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    other = FakeEmbedder(embedder, fingerprint="0123456789abcdef")
    with pytest.raises(IndexMismatchError, match="built with model .* build --full"):
        Retriever.load(built, embedder=other)


@pytest.mark.parametrize("name", ["vectors.npy", "faiss.index", "bm25"])
def test_a_corrupt_index_is_rebuilt_by_the_next_build(built: Settings, fake_embedder: FakeEmbedder, name: str) -> None:
    # The build does not read the old FAISS or BM25 files (it writes new ones), but a flipped byte
    # in them must still be noticed: otherwise "up to date" would leave a broken index serving.
    flip_a_byte(generation(built) / name)
    report = build_index(built, embedder=fake_embedder)
    assert report.full_rebuild and "could not be used" in report.full_rebuild_reason
    assert report.wrote_index
    assert len(load_index(built.index_dir).chunks) == report.chunks


def test_exhaustive_dense_scoring_ranks_exactly_as_the_stored_faiss_index(seed_index: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    """Below EXHAUSTIVE_UP_TO, search scores every chunk itself instead of asking FAISS for all n;
    it must give FAISS's very floats and order, ties (duplicate chunks) included."""
    from retrieval.search.scoring import CANDIDATES, dense_scores

    data = load_index(seed_index.index_dir)
    doubled = np.ascontiguousarray(np.vstack([data.vectors, data.vectors[:5]]))  # five exact duplicates
    import faiss

    flat = faiss.IndexFlatIP(doubled.shape[1])
    flat.add(doubled)
    data.vectors, data.faiss_index = doubled, flat
    data.chunks = data.chunks + data.chunks[:5]
    for question in ("sciatica down my leg", "how should I sleep with back pain", "xyzzy"):
        vector = embedder.embed([question])[0]
        k = min(len(doubled), 4 * CANDIDATES)
        expected_scores, expected_rows = flat.search(vector[None, :], k)
        ours = dense_scores(data, vector, exhaustive=True)
        assert ours.rows.tolist() == expected_rows[0].tolist()
        assert ours.scores.tolist() == expected_scores[0].astype(np.float64).tolist()
        assert ours.ranks(ours.rows.tolist()) == list(range(1, k + 1))



def test_an_index_written_before_the_layout_change_still_serves_with_its_model(tmp_path: Path) -> None:
    """tests/data/index_before_layout/: built by the flat package (c0a185a) with the bundled
    MiniLM. With that model (RETRIEVAL_MODEL=bundled) today's code loads it, finds the passage that
    code showed first among its own first passages (the ranking lost its title and sentence terms
    since, so the order may differ), and a build over the same corpus embeds nothing."""
    import shutil

    from retrieval.config import BUNDLED_MODEL
    from retrieval.index.embeddings import SentenceTransformerEmbedder

    fixture = Path(__file__).resolve().parents[1] / "data" / "index_before_layout"
    shutil.copytree(fixture / "corpus", tmp_path / "corpus")
    shutil.copytree(fixture / "index", tmp_path / "index")
    settings = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", model=BUNDLED_MODEL)
    bundled = SentenceTransformerEmbedder(BUNDLED_MODEL)
    retriever = Retriever.load(settings, embedder=bundled)
    questions = (fixture / "questions.txt").read_text(encoding="utf-8").splitlines()
    expected = [json.loads(line) for line in (fixture / "answers.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(questions) == len(expected) == 4
    for question, before in zip(questions, expected):
        if before["passages"]:
            found = [p.chunk.id for p in retriever.search(question, k=settings.top_k).passages]
            assert before["passages"][0]["chunk_id"] in found, question
    report = build_index(settings, embedder=bundled)
    # nothing embedded; it is written once more only to drop its sentence vectors (off by default now)
    assert (report.embedded, report.full_rebuild) == (0, False)
    assert not build_index(settings, embedder=bundled).wrote_index


def test_an_index_built_with_another_encoder_is_refused_then_rebuilt_in_full(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """The same old index with today's default encoder (models/relevance-encoder): loading it says
    which models differ and how to rebuild; a build (what `make run` and the app do at start-up)
    embeds every chunk again and says why."""
    import shutil

    fixture = Path(__file__).resolve().parents[1] / "data" / "index_before_layout"
    shutil.copytree(fixture / "corpus", tmp_path / "corpus")
    shutil.copytree(fixture / "index", tmp_path / "index")
    settings = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    with pytest.raises(IndexMismatchError) as refused:
        Retriever.load(settings, embedder=embedder)
    assert "all-MiniLM-L6-v2" in str(refused.value) and "build --full" in str(refused.value)
    report = build_index(settings, embedder=embedder)
    assert report.full_rebuild and "the model changed" in report.full_rebuild_reason
    assert report.embedded == report.chunks > 0
    assert Retriever.load(settings, embedder=embedder).search("sciatica", k=1).passages
