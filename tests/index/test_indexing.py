"""Incremental builds embed only what changed; settings or model changes rebuild everything."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from retrieval.config import Settings
from retrieval.errors import BuildLockedError, CorpusError
from retrieval.index.build import build_index, index_lock
from retrieval.index.store import SENTENCE_DTYPE, load_index
from tests.conftest import FakeEmbedder


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Sentence vectors are off by default (they earned nothing on held-out writers: EVALUATION.md,
    "Ablation"); they stay an option (RETRIEVAL_SENTENCE_VECTORS=on), tested here with them on."""
    return replace(settings, sentence_vectors=True)


def test_by_default_a_build_embeds_each_chunk_once_and_nothing_else(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    default = replace(settings, sentence_vectors=False)
    report = build_index(default, embedder=fake_embedder)
    assert report.chunks == report.embedded == fake_embedder.embedded > 0 and report.embedded_sentences == 0
    assert load_index(default.index_dir).sentence_vectors is None


def test_first_build_embeds_everything(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    report = build_index(settings, embedder=fake_embedder)
    assert report.documents == 5 and report.chunks == report.embedded > 0
    assert report.embedded_sentences > report.chunks
    assert fake_embedder.embedded == report.embedded + report.embedded_sentences
    assert report.reused == 0 and report.full_rebuild
    data = load_index(settings.index_dir)
    assert len(data.chunks) == report.chunks
    assert_sentence_vectors_match_chunks(data, fake_embedder)


def assert_sentence_vectors_match_chunks(data, embedder: FakeEmbedder) -> None:  # type: ignore[no-untyped-def]
    """Every chunk's sentences, in order, embedded on their own, and nothing else."""
    from retrieval.ingest.sentences import split_sentences

    sentences = [(row, s) for row, chunk in enumerate(data.chunks) for s in split_sentences(chunk.text)]
    assert data.sentence_rows.tolist() == [row for row, _ in sentences]
    expected = embedder.embed([s for _, s in sentences]).astype(SENTENCE_DTYPE)  # as stored
    assert data.sentence_vectors.dtype == SENTENCE_DTYPE and (data.sentence_vectors == expected).all()


def test_unchanged_documents_are_not_reembedded(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    first = build_index(settings, embedder=fake_embedder)
    fake_embedder.calls.clear()
    second = build_index(settings, embedder=fake_embedder)
    assert fake_embedder.embedded == 0
    assert (second.embedded, second.reused, second.removed, second.wrote_index) == (0, first.chunks, 0, False)


def test_added_document_is_the_only_one_embedded(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    first = build_index(settings, embedder=fake_embedder)
    fake_embedder.calls.clear()
    (settings.corpus_dir / "new.md").write_text("# Cycling and sciatica\n\nCycling with a slight forward lean often suits people with spinal stenosis.", encoding="utf-8")
    report = build_index(settings, embedder=fake_embedder)
    assert report.added_documents == ["new.md"]
    assert report.reused == first.chunks
    assert report.embedded == report.chunks - first.chunks == 1
    assert report.embedded_sentences == 1 and fake_embedder.embedded == 2  # the chunk, and its one sentence
    texts = [t for call in fake_embedder.calls for t in call]
    assert all("Cycling" in t for t in texts)


def test_changed_document_reembeds_only_its_chunks(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    build_index(settings, embedder=fake_embedder)
    before = {c.id: c for c in load_index(settings.index_dir).chunks}
    fake_embedder.calls.clear()
    old_vectors = {c.id: v for c, v in zip(load_index(settings.index_dir).chunks, load_index(settings.index_dir).vectors)}
    path = settings.corpus_dir / "waist-and-leg-soreness.txt"
    title, body = path.read_text(encoding="utf-8").split("\n", 1)
    path.write_text(f"{title}\nA brand new sentence about walking after lunch every day.\n{body}", encoding="utf-8")
    report = build_index(settings, embedder=fake_embedder)
    own = sum(1 for c in before.values() if c.doc_id == path.name)
    assert report.changed_documents == [path.name]
    assert report.reused == len(before) - own
    assert report.embedded == report.chunks - report.reused
    assert fake_embedder.embedded == report.embedded + report.embedded_sentences
    chunk_texts, sentence_texts = fake_embedder.calls[0][: report.embedded], fake_embedder.calls[0][report.embedded :]
    assert all(text.startswith("What is waist and leg soreness") for text in chunk_texts)
    changed_text = path.read_text(encoding="utf-8")
    assert all(" ".join(s.split()[:4]) in " ".join(changed_text.split()) for s in sentence_texts)
    data = load_index(settings.index_dir)
    assert any("walking after lunch" in c.text for c in data.chunks)
    for chunk, vector in zip(data.chunks, data.vectors):
        if chunk.doc_id != path.name:
            assert (old_vectors[chunk.id] == vector).all()  # reused rows are the stored vectors
    assert_sentence_vectors_match_chunks(data, fake_embedder)


def test_removed_document_drops_its_chunks(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    first = build_index(settings, embedder=fake_embedder)
    fake_embedder.calls.clear()
    own = sum(1 for c in load_index(settings.index_dir).chunks if c.doc_id == "waist-and-leg-soreness.txt")
    (settings.corpus_dir / "waist-and-leg-soreness.txt").unlink()
    report = build_index(settings, embedder=fake_embedder)
    assert (report.removed, report.removed_chunks, report.embedded) == (1, own, 0)
    data = load_index(settings.index_dir)
    assert len(data.chunks) == first.chunks - own
    assert all(c.doc_id != "waist-and-leg-soreness.txt" for c in data.chunks)


def test_model_change_forces_full_rebuild(settings: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    build_index(settings, embedder=FakeEmbedder(embedder))
    other = FakeEmbedder(embedder, fingerprint="another-model")
    report = build_index(settings, embedder=other)
    assert report.full_rebuild and "model changed" in report.full_rebuild_reason
    assert report.embedded == report.chunks and other.embedded == report.chunks + report.embedded_sentences


def test_chunking_change_forces_full_rebuild(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    build_index(settings, embedder=fake_embedder)
    report = build_index(Settings(**{**settings.__dict__, "chunk_tokens": 120}), embedder=fake_embedder)
    assert report.full_rebuild and "chunking settings changed" in report.full_rebuild_reason
    assert report.reused == 0


def test_new_bm25_settings_rewrite_the_keyword_index_without_embedding(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    from retrieval.index.bm25 import BM25_PARAMS

    build_index(settings, embedder=fake_embedder)
    manifest_file = settings.index_dir / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["lexical"] = {"k1": 1.5, "b": 0.75}  # as written before the parameters were tuned
    manifest_file.write_text(json.dumps(manifest))
    fake_embedder.calls.clear()
    report = build_index(settings, embedder=fake_embedder)
    assert report.wrote_index and report.embedded == 0 and fake_embedder.embedded == 0
    assert any("BM25" in note for note in report.notes)
    data = load_index(settings.index_dir)
    assert data.manifest["lexical"] == BM25_PARAMS
    assert data.bm25.b == BM25_PARAMS["b"] and data.bm25.k1 == BM25_PARAMS["k1"]
    assert not build_index(settings, embedder=fake_embedder).wrote_index  # then nothing to do


def test_full_flag_reembeds_everything(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    build_index(settings, embedder=fake_embedder)
    report = build_index(settings, full=True, embedder=fake_embedder)
    assert report.full_rebuild and report.reused == 0 and report.embedded == report.chunks


def test_unreadable_documents_are_reported_and_skipped(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    (settings.corpus_dir / "empty.txt").write_bytes(b"")
    (settings.corpus_dir / "image.png").write_bytes(b"\x89PNG")
    (settings.corpus_dir / "junk.txt").write_text("Click here to subscribe!\nAdvertisement\nShare on Facebook\n", encoding="utf-8")
    report = build_index(settings, embedder=fake_embedder)
    reasons = {s["path"]: s["reason"] for s in report.skipped}
    assert reasons["empty.txt"] == "empty file"
    assert "unsupported file type .png" in reasons["image.png"]
    assert "nothing left" in reasons["junk.txt"]
    assert report.documents == 5


def test_duplicate_file_is_skipped_as_duplicate(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    shutil.copy(settings.corpus_dir / "low-back-pain-and-exercise.txt", settings.corpus_dir / "copy-of-exercise.txt")
    report = build_index(settings, embedder=fake_embedder)
    assert {"path": "low-back-pain-and-exercise.txt", "reason": "duplicate of copy-of-exercise.txt"} in report.skipped or \
        {"path": "copy-of-exercise.txt", "reason": "duplicate of low-back-pain-and-exercise.txt"} in report.skipped


def test_empty_or_missing_corpus_is_a_clear_error(tmp_path: Path, fake_embedder: FakeEmbedder) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="has no documents"):
        build_index(Settings(corpus_dir=tmp_path / "empty", index_dir=tmp_path / "i"), embedder=fake_embedder)
    with pytest.raises(CorpusError, match="does not exist"):
        build_index(Settings(corpus_dir=tmp_path / "missing", index_dir=tmp_path / "i"), embedder=fake_embedder)


def test_second_build_refuses_while_the_first_holds_the_lock(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    with index_lock(settings.index_dir):
        with pytest.raises(BuildLockedError, match="another build is already updating"):
            build_index(settings, embedder=fake_embedder)
    build_index(settings, embedder=fake_embedder)  # the lock is released afterwards


def test_manifest_records_versions_and_hashes(settings: Settings, fake_embedder: FakeEmbedder) -> None:
    build_index(settings, embedder=fake_embedder)
    manifest = json.loads((settings.index_dir / "manifest.json").read_text())
    assert manifest["format"] == 1
    assert manifest["model"]["dimension"] == 384 and manifest["model"]["fingerprint"]
    assert manifest["chunking"] == settings.chunking_signature()
    assert set(manifest["documents"]) == {p.name for p in settings.corpus_dir.iterdir()}
    assert all(len(d["sha256"]) == 64 for d in manifest["documents"].values())


def test_an_index_from_before_sentence_vectors_still_answers_and_gets_them_without_reembedding(
    settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    from retrieval.index.store import SENTENCE_FILES
    from retrieval.search.retriever import Retriever

    first = build_index(settings, embedder=fake_embedder)
    manifest_file = settings.index_dir / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    for name in SENTENCE_FILES:  # as an earlier version wrote it
        (settings.index_dir / manifest["generation"] / name).unlink()
        del manifest["files"][name]
    manifest_file.write_text(json.dumps(manifest))
    old = load_index(settings.index_dir)
    assert old.sentence_vectors is None
    assert Retriever.load(settings, embedder=fake_embedder).search("sleeping on your side", k=3).passages

    fake_embedder.calls.clear()
    report = build_index(settings, embedder=fake_embedder)
    assert report.wrote_index and report.embedded == 0 and report.reused == first.chunks
    assert report.embedded_sentences == first.embedded_sentences == fake_embedder.embedded
    assert any("sentence vectors" in note for note in report.notes)
    data = load_index(settings.index_dir)
    assert (data.vectors == old.vectors).all()
    assert_sentence_vectors_match_chunks(data, fake_embedder)
    assert not build_index(settings, embedder=fake_embedder).wrote_index  # then nothing to do


def test_sentence_vectors_can_be_switched_off_and_on_without_embedding_a_passage_again(
    settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    from retrieval.search.retriever import Retriever

    off = Settings(**{**settings.__dict__, "sentence_vectors": False})
    first = build_index(off, embedder=fake_embedder)
    assert first.embedded == first.chunks == fake_embedder.embedded and first.embedded_sentences == 0
    assert load_index(settings.index_dir).sentence_vectors is None
    assert not list(settings.index_dir.glob("gen-*/sentence_*.npy"))
    assert Retriever.load(off, embedder=fake_embedder).search("sleeping on your side", k=3).passages
    assert not build_index(off, embedder=fake_embedder).wrote_index  # off and absent: nothing to do

    fake_embedder.calls.clear()
    on = build_index(settings, embedder=fake_embedder)
    assert on.wrote_index and on.embedded == 0 and on.embedded_sentences == fake_embedder.embedded > 0
    assert_sentence_vectors_match_chunks(load_index(settings.index_dir), fake_embedder)

    fake_embedder.calls.clear()
    again_off = build_index(off, embedder=fake_embedder)
    assert again_off.wrote_index and fake_embedder.embedded == 0
    assert any("switched off" in note for note in again_off.notes)
    assert load_index(settings.index_dir).sentence_vectors is None
