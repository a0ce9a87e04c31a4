"""Find the passages that best answer a question: dense (FAISS) + BM25, fused, diversified.

``Retriever.load`` opens the index once and keeps the model loaded; ``search`` is then a
single query encode, one FAISS search and one BM25 scoring pass. ``refresh`` picks up a new
index generation written by a rebuild, without a restart.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from retrieval.chunking import Chunk
from retrieval.config import Settings
from retrieval.embeddings import Embedder, SentenceTransformerEmbedder
from retrieval.errors import REBUILD_HINT, IndexMismatchError
from retrieval.store import IndexData, StoredDocument, load_index, read_manifest

SEARCH_MODES = ("hybrid", "rrf", "dense", "bm25")
RRF_K = 60  # reciprocal rank fusion constant (Cormack et al. 2009), for the "rrf" mode
# Hybrid = min-max normalised dense score + LEXICAL_WEIGHT x min-max normalised BM25 score
# (CombSUM). It beat RRF on both evaluation sets: see EVALUATION.md, "Retrieval".
LEXICAL_WEIGHT = 0.5
# Plus TITLE_WEIGHT x the IDF-weighted share of the question's words found in the article title.
TITLE_WEIGHT = 0.2  # MedQuAD hit@1 0.861 -> 0.875, seed set 0.700 -> 0.691 (EVALUATION.md)
CANDIDATES = 50
EXHAUSTIVE_UP_TO = 20_000  # below this many chunks every chunk gets a dense score
NEAR_DUPLICATE = 0.92  # cosine similarity above which two passages say the same thing


@dataclass(frozen=True)
class Passage:
    """A chunk found for a question, with the evidence behind its rank."""

    chunk: Chunk
    score: float  # the fused score used for ranking
    dense_score: float  # cosine similarity with the question
    lexical_score: float  # BM25 score
    dense_rank: int | None = None
    lexical_rank: int | None = None
    highlight: str = ""
    context_before: str = ""  # the sentence before the passage, when the highlight opens it
    context_after: str = ""  # the sentence after the passage, when the highlight closes it

    @property
    def source(self) -> str:
        return self.chunk.doc_id

    @property
    def title(self) -> str:
        return self.chunk.title


@dataclass
class SearchResult:
    query: str
    passages: list[Passage]
    query_vector: np.ndarray | None = None
    best_dense: float = 0.0
    best_lexical: float = 0.0
    candidates: list[Passage] = field(default_factory=list)
    idf: dict[str, float] = field(default_factory=dict)  # of the generation that answered
    data: IndexData | None = None  # the generation that answered (for neighbouring passages)


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
            from retrieval.highlight import idf_from_bm25

            cached = (generation, idf_from_bm25(data.bm25, len(data.chunks)) if data.bm25 is not None else {})
            self._idf = cached
        return cached[1]

    def _title_match(self, data: IndexData, query: str, rows: dict[int, float]) -> dict[int, float]:
        """For each row, the IDF-weighted share of the question's words that its title contains."""
        from retrieval.lexical import tokenize

        idf = self._idf_of(data)
        terms = set(tokenize([query])[0])
        total = sum(idf.get(t, 0.0) for t in terms)
        if not total:
            return {}
        chunks = data.chunks
        titles = {chunks[row].title for row in rows}
        title_terms = dict(zip(titles, (set(t) for t in tokenize(list(titles)))))
        return {row: sum(idf.get(t, 0.0) for t in terms & title_terms[chunks[row].title]) / total for row in rows}

    def document(self, doc_id: str) -> StoredDocument | None:
        return self._data.documents.get(doc_id)

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
        vector = self.encode(query) if query_vector is None else query_vector
        dense = _dense_scores(data, vector, n if n <= EXHAUSTIVE_UP_TO else 4 * CANDIDATES)
        lexical = _lexical_scores(data, query)
        dense_order = sorted(dense, key=lambda i: -dense[i])
        lexical_order = [int(i) for i in np.argsort(-lexical)[: min(4 * CANDIDATES, n)] if lexical[i] > 0]
        dense_rank = {row: r for r, row in enumerate(dense_order, 1)}
        lexical_rank = {row: r for r, row in enumerate(lexical_order, 1)}
        if mode == "dense":
            fused = {row: dense[row] for row in dense_order[:CANDIDATES]}
        elif mode == "bm25":
            fused = {row: float(lexical[row]) for row in lexical_order[:CANDIDATES]}
        elif mode == "rrf":
            fused = {}
            for row in set(dense_order[:CANDIDATES]) | set(lexical_order[:CANDIDATES]):
                fused[row] = sum(1.0 / (RRF_K + ranks[row]) for ranks in (dense_rank, lexical_rank) if row in ranks)
        else:
            fused = _combsum(data, vector, dense, lexical, dense_order[:CANDIDATES] + lexical_order[:CANDIDATES])
            if TITLE_WEIGHT:
                for row, share in self._title_match(data, query, fused).items():
                    fused[row] += TITLE_WEIGHT * share
        order = sorted(fused, key=lambda row: -fused[row])[: 2 * CANDIDATES]
        all_dense = data.vectors[order] @ vector if order else np.zeros(0)
        candidates = [
            Passage(
                chunk=data.chunks[row],
                score=float(fused[row]),
                dense_score=float(all_dense[i]),
                lexical_score=float(lexical[row]),
                dense_rank=dense_rank.get(row),
                lexical_rank=lexical_rank.get(row),
            )
            for i, row in enumerate(order)
        ]
        chosen = _diversify(candidates, [data.vectors[row] for row in order], k)
        return SearchResult(
            query,
            chosen,
            query_vector=vector,
            best_dense=float(max(dense.values(), default=0.0)),
            best_lexical=float(lexical.max(initial=0.0)),
            candidates=candidates,
            idf=self._idf_of(data),
            data=data,
        )


def _dense_scores(data: IndexData, vector: np.ndarray, k: int) -> dict[int, float]:
    scores, rows = data.faiss_index.search(np.asarray(vector, dtype=np.float32)[None, :], k)
    return {int(row): float(score) for row, score in zip(rows[0], scores[0]) if row >= 0}


def _combsum(data: IndexData, vector: np.ndarray, dense: dict[int, float], lexical: np.ndarray, rows: list[int]) -> dict[int, float]:
    """Min-max normalise each retriever's scores over the chunks it scored, then add them."""
    dense_values = np.fromiter(dense.values(), dtype=np.float32)
    d_low, d_high = float(dense_values.min()), float(dense_values.max())
    l_low, l_high = float(lexical.min(initial=0.0)), float(lexical.max(initial=0.0))
    fused = {}
    for row in set(rows):
        d = dense[row] if row in dense else float(data.vectors[row] @ vector)
        score = (d - d_low) / (d_high - d_low + 1e-9)
        if l_high > l_low:
            score += LEXICAL_WEIGHT * (float(lexical[row]) - l_low) / (l_high - l_low)
        fused[row] = score
    return fused


def _lexical_scores(data: IndexData, query: str) -> np.ndarray:
    if data.bm25 is None:
        return np.zeros(len(data.chunks), dtype=np.float32)
    from retrieval.lexical import bm25_scores

    return bm25_scores(data.bm25, query, len(data.chunks))


def _diversify(candidates: list[Passage], vectors: list[np.ndarray], k: int) -> list[Passage]:
    """Top ``k`` without near-duplicates or overlapping chunks, spreading across articles.

    A passage from an article already chosen gives way to the best passage from another
    article when that one scores at least 85% as well.
    """
    chosen: list[int] = []
    pool = list(range(len(candidates)))
    while pool and len(chosen) < k:
        pick = None
        for index in pool:
            if _is_redundant(index, chosen, candidates, vectors):
                continue
            if pick is None:
                pick = index
                if candidates[index].source not in {candidates[c].source for c in chosen}:
                    break
                continue
            if candidates[index].source not in {candidates[c].source for c in chosen}:
                if candidates[index].score >= 0.85 * candidates[pick].score:
                    pick = index
                break
        if pick is None:
            break
        chosen.append(pick)
        pool.remove(pick)
    return [candidates[i] for i in chosen]


def _is_redundant(index: int, chosen: list[int], candidates: list[Passage], vectors: list[np.ndarray]) -> bool:
    chunk = candidates[index].chunk
    for other in chosen:
        o = candidates[other].chunk
        if o.doc_id == chunk.doc_id and o.start < chunk.end and chunk.start < o.end:
            return True
        if float(vectors[index] @ vectors[other]) >= NEAR_DUPLICATE:
            return True
    return False
