"""Find the passages that best answer a question: dense (FAISS) + BM25, fused with the support
of the article's other good passages (``scoring``), diversified (``diversity``).

``Retriever.load`` opens the index once and keeps the model loaded; ``search`` is then a
single query encode, one FAISS search and one BM25 scoring pass. ``refresh`` picks up a new
index generation written by a rebuild, without a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from retrieval.config import Settings
from retrieval.errors import IndexMismatchError, REBUILD_HINT
from retrieval.index import Embedder, IndexData, SentenceTransformerEmbedder, StoredDocument, load_index, read_manifest
from retrieval.ingest import Chunk
from retrieval.search.diversity import diversify
from retrieval.search.results import Passage, SearchResult
from retrieval.search.scoring import (
    CANDIDATES, SUPPORT_WEIGHT, add_document_support, best_rows, combsum, dense_scores, inner_products, lexical_scores,
)

SEARCH_MODES = ("hybrid", "rrf", "dense", "bm25")
RRF_K = 60  # reciprocal rank fusion constant (Cormack et al. 2009), for the "rrf" mode
EXHAUSTIVE_UP_TO = 20_000  # below this many chunks every chunk gets a dense score


class Retriever:
    """Question -> passages over one index, with the model loaded once."""

    def __init__(self, data: IndexData, embedder: Embedder, settings: Settings) -> None:
        self.settings = settings
        self.embedder = embedder
        self._lock = threading.Lock()
        self._data = data
        self._idf: tuple[str, dict[str, float]] | None = None
        self._check_model(data)

    @classmethod
    def load(cls, settings: Settings, *, embedder: Embedder | None = None) -> Retriever:
        embedder = embedder or SentenceTransformerEmbedder(settings.model, backend=settings.backend)
        return cls(load_index(Path(settings.index_dir)), embedder, settings)

    @property
    def data(self) -> IndexData:
        return self._data

    @property
    def generation(self) -> str:
        return str(self._data.manifest.get("generation", ""))

    def refresh(self) -> bool:
        """Load a newer index generation if a build committed one; True if it changed."""
        manifest = read_manifest(Path(self.settings.index_dir))
        if manifest.get("generation") == self.generation:
            return False
        data = load_index(Path(self.settings.index_dir))
        self._check_model(data)
        with self._lock:
            self._data = data
        return True

    @property
    def idf(self) -> dict[str, float]:
        """BM25 vocabulary -> inverse document frequency, for the current generation."""
        return self._idf_of(self._data)

    def _idf_of(self, data: IndexData) -> dict[str, float]:
        """IDF of one generation, cached; a query holds its own ``data`` so a refresh in the
        middle of it never mixes two generations."""
        generation = str(data.manifest.get("generation", ""))
        cached = self._idf
        if cached is None or cached[0] != generation:
            from retrieval.index import idf_from_bm25

            cached = (generation, idf_from_bm25(data.bm25, len(data.chunks)) if data.bm25 is not None else {})
            self._idf = cached
        return cached[1]

    def document(self, doc_id: str) -> StoredDocument | None:
        return self._data.documents.get(doc_id)

    def chunk(self, chunk_id: str) -> Chunk | None:
        """The passage with this id ("file.txt#3") in the current generation, if any."""
        return next((chunk for chunk in self._data.chunks if chunk.id == chunk_id), None)

    def _check_model(self, data: IndexData) -> None:
        model = data.manifest.get("model", {})
        if model.get("name") != self.embedder.model_name or model.get("fingerprint") != self.embedder.fingerprint:
            raise IndexMismatchError(
                f"the index was built with model {model.get('name')} ({model.get('fingerprint')}), "
                f"but the current model is {self.embedder.model_name} ({self.embedder.fingerprint}); {REBUILD_HINT}"
            )

    def encode(self, query: str) -> np.ndarray:
        return self.embedder.embed([query])[0]

    def search(self, query: str, *, k: int = 3, mode: str | None = None, query_vector: np.ndarray | None = None) -> SearchResult:
        mode = mode or self.settings.search_mode
        if mode not in SEARCH_MODES:
            raise ValueError(f"unknown search mode {mode!r}; choose one of {', '.join(SEARCH_MODES)}")
        data = self._data  # one consistent generation for the whole query
        n = len(data.chunks)
        if n == 0 or not query.strip():
            return SearchResult(query, [])
        from retrieval.index import tokenize

        vector = self.encode(query) if query_vector is None else query_vector
        terms = tokenize([query])[0]
        dense = dense_scores(data, vector, exhaustive=n <= EXHAUSTIVE_UP_TO)
        lexical = lexical_scores(data, terms)
        dense_order = dense.rows[:CANDIDATES].tolist()
        lexical_order = best_rows(lexical, min(4 * CANDIDATES, n))
        lexical_rank = {row: r for r, row in enumerate(lexical_order, 1)}
        lexical_order = lexical_order[:CANDIDATES]
        if mode == "dense":
            fused = dict(zip(dense_order, dense.scores[:CANDIDATES].tolist()))
        elif mode == "bm25":
            fused = {row: float(lexical[row]) for row in lexical_order}
        elif mode == "rrf":
            rows = list(set(dense_order) | set(lexical_order))
            dense_rank = dict(zip(rows, dense.ranks(rows)))
            fused = {}
            for row in rows:
                fused[row] = sum(1.0 / (RRF_K + ranks[row]) for ranks in (dense_rank, lexical_rank) if ranks.get(row) is not None)
        else:
            fused = combsum(dense, lexical, dense_order + lexical_order)
            if SUPPORT_WEIGHT:
                add_document_support(fused, data.chunks)
        order = sorted(fused, key=lambda row: -fused[row])[: 2 * CANDIDATES]
        candidates = _Candidates(
            data,
            order,
            scores=[fused[row] for row in order],
            dense=inner_products(data.vectors[order], vector).tolist(),
            lexical=lexical[order].tolist(),
            dense_ranks=dense.ranks(order),
            lexical_rank=lexical_rank,
        )
        chosen = diversify(candidates, data.vectors[order], k)
        return SearchResult(
            query,
            chosen,
            query_vector=vector,
            best_dense=dense.high,
            best_lexical=float(lexical.max(initial=0.0)),
            candidates=candidates,
            idf=self._idf_of(data),
            data=data,
        )


class _Candidates(Sequence[Passage]):
    """The ranked candidates of one question, made into :class:`Passage` objects only when read.

    A question reads a few of its 100 candidates (diversity stops once it has ``k``; coverage
    reads 10); building all 100 frozen dataclasses cost more than the BM25 scoring.
    """

    def __init__(self, data: IndexData, rows: list[int], *, scores: list[float], dense: list[float],
                 lexical: list[float], dense_ranks: list[int | None], lexical_rank: dict[int, int]) -> None:
        self._data, self._rows = data, rows
        self._scores, self._dense, self._lexical = scores, dense, lexical
        self._dense_ranks, self._lexical_rank = dense_ranks, lexical_rank
        self._made: list[Passage | None] = [None] * len(rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index):  # type: ignore[no-untyped-def, override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        passage = self._made[index]
        if passage is None:
            row = self._rows[index]
            passage = Passage(
                chunk=self._data.chunks[row],
                score=float(self._scores[index]),
                dense_score=self._dense[index],
                lexical_score=self._lexical[index],
                dense_rank=self._dense_ranks[index],
                lexical_rank=self._lexical_rank.get(row),
                row=row,
            )
            self._made[index] = passage
        return passage


