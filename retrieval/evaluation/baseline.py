"""The plain baseline every retrieval figure is shown beside: what a newcomer gets from a
default "chat with your docs" stack. The bundled all-MiniLM-L6-v2 as it ships, each file's
text cut into 200-word windows (40 words of overlap), cosine top-k, nothing else: no
cleaning, no title, no BM25, no gate, no triage.

>>> [len(w.split()) for w in windows(" ".join(["word"] * 450))]
[200, 200, 130]
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

WINDOW_WORDS = 200
OVERLAP_WORDS = 40
BASELINE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"  # the bundled weights, never our own


def windows(text: str, size: int = WINDOW_WORDS, overlap: int = OVERLAP_WORDS) -> list[str]:
    words = text.split()
    step = size - overlap
    return [" ".join(words[start:start + size]) for start in range(0, max(len(words) - overlap, 1), step)]


@dataclass
class PlainBaseline:
    texts: list[str]
    sources: list[str]
    vectors: np.ndarray
    embed: object

    @classmethod
    def over(cls, corpus: Path, embedder=None) -> PlainBaseline:  # type: ignore[no-untyped-def]
        from retrieval.index import SentenceTransformerEmbedder
        from retrieval.ingest import SUPPORTED_SUFFIXES, read_document

        embedder = embedder or SentenceTransformerEmbedder(BASELINE_MODEL)
        texts, sources = [], []
        for file in sorted(p for p in corpus.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES):
            for window in windows(read_document(file, file.name).text):
                texts.append(window)
                sources.append(file.name)
        return cls(texts, sources, embedder.embed(texts), embedder)

    def search(self, question: str, k: int = 5, vector: np.ndarray | None = None) -> list[tuple[str, str]]:
        """The ``k`` best windows as (text, source file), best first."""
        if vector is None:
            vector = self.embed.embed([question])[0]  # type: ignore[attr-defined]
        scores = self.vectors @ np.asarray(vector, dtype=np.float32)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self.texts[i], self.sources[i]) for i in order]
