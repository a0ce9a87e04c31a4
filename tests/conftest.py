"""Shared fixtures: the real embedding model (loaded once), a real index of the seed corpus,
and a fake embedder for bookkeeping tests that count what gets embedded."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from retrieval.config import Settings
from retrieval.index.embeddings import SentenceTransformerEmbedder

ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = ROOT / "corpus"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        # RETRIEVAL_TRAIN_DATA only says where ../shared/train is, for a checkout elsewhere;
        # RETRIEVAL_FLAG_MODEL runs the suite on a candidate red-flag classifier (compare_flags)
        if name.startswith("RETRIEVAL_") and name not in ("RETRIEVAL_TRAIN_DATA", "RETRIEVAL_FLAG_MODEL"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real all-MiniLM-L6-v2, loaded once for the whole session."""
    model = SentenceTransformerEmbedder()
    model.model  # load now, so the first test does not pay for it
    return model


class FakeEmbedder:
    """Deterministic stand-in that records what it was asked to embed (for bookkeeping tests)."""

    dimension = 384
    max_tokens = 256

    def __init__(self, real: SentenceTransformerEmbedder, fingerprint: str | None = None) -> None:
        self._real = real
        self.model_name = real.model_name  # the shipped encoder's name, as an index built with it records
        self.fingerprint = fingerprint or real.fingerprint
        self.calls: list[list[str]] = []

    @property
    def embedded(self) -> int:
        return sum(len(call) for call in self.calls)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self._real.count_tokens(texts)

    def embed(self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
            vector = np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)
            out[row] = vector / np.linalg.norm(vector)
        if progress:
            progress(len(texts))
        return out


@pytest.fixture
def fake_embedder(embedder: SentenceTransformerEmbedder) -> FakeEmbedder:
    return FakeEmbedder(embedder)


@pytest.fixture
def seed_corpus(tmp_path: Path) -> Path:
    """A private copy of the five seed articles."""
    target = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, target)
    return target


@pytest.fixture
def settings(tmp_path: Path, seed_corpus: Path) -> Settings:
    return Settings(corpus_dir=seed_corpus, index_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Settings:
    """A real index of the seed corpus, built once with the real model. Treat it as read-only."""
    from retrieval.index.build import build_index

    base = tmp_path_factory.mktemp("seed-index")
    shutil.copytree(SEED_CORPUS, base / "corpus")
    settings = Settings(corpus_dir=base / "corpus", index_dir=base / "index")
    build_index(settings, embedder=embedder)
    return settings


@pytest.fixture(scope="session")
def seed_retriever(seed_index: Settings, embedder: SentenceTransformerEmbedder):  # type: ignore[no-untyped-def]
    from retrieval.search.retriever import Retriever

    return Retriever.load(seed_index, embedder=embedder)
