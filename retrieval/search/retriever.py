"""Find the passages that best answer a question: dense (FAISS) + BM25, fused, diversified.

``Retriever.load`` opens the index once and keeps the model loaded; ``search`` is then a
single query encode, one FAISS search and one BM25 scoring pass. ``refresh`` picks up a new
index generation written by a rebuild, without a restart.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from retrieval.ingest import Chunk
from retrieval.config import Settings
from retrieval.index import Embedder, SentenceTransformerEmbedder
from retrieval.errors import REBUILD_HINT, IndexMismatchError
from retrieval.index import IndexData, StoredDocument, load_index, read_manifest

SEARCH_MODES = ("hybrid", "rrf", "dense", "bm25")
RRF_K = 60  # reciprocal rank fusion constant (Cormack et al. 2009), for the "rrf" mode
# Hybrid = min-max normalised dense score + LEXICAL_WEIGHT x min-max normalised BM25 score
# (CombSUM). It beat RRF on both evaluation sets: see EVALUATION.md, "Retrieval".
LEXICAL_WEIGHT = 0.5
# Plus TITLE_WEIGHT x how well the article title matches the question (``title_match``), counted
# NAMED_TITLE_FACTOR times when the question names the whole title, word for word
# (``names_title``): "What is arthritis?" names "Arthritis", not "Rheumatoid Arthritis".
TITLE_WEIGHT = 0.2
NAMED_TITLE_FACTOR = 2.0
# Plus SUPPORT_WEIGHT x the mean of the article's next SUPPORT_PASSAGES best candidate scores
# (``_add_document_support``): an article with several passages on the question is more likely
# to be about it than one with a single lucky passage. MedQuAD hit@1 0.895 -> 0.922, MRR 0.941 ->
# 0.956; seed set one question worse (EVALUATION.md, "Document support and named titles").
SUPPORT_WEIGHT = 0.07
SUPPORT_PASSAGES = 3
# The dense score of a candidate is (1 - SENTENCE_WEIGHT) x the chunk's cosine + SENTENCE_WEIGHT x
# its best sentence's (``_SentenceScores``): one sentence that answers the question counts
# even when the rest of the passage is about something else. Seed hit@1 0.718 -> 0.773, MRR 0.797
# -> 0.825 when measured (0.691 -> 0.736 with today's cleaner titles); MedQuAD 0.973 -> 0.959
# (EVALUATION.md, "Sentence vectors"). 0.35-0.45 measured the same.
SENTENCE_WEIGHT = 0.4
CANDIDATES = 50
EXHAUSTIVE_UP_TO = 20_000  # below this many chunks every chunk gets a dense score
NEAR_DUPLICATE = 0.92  # cosine similarity above which two passages say the same thing
_WORD = re.compile(r"\w+")


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
    row: int = -1  # the chunk's row in the index generation that found it (-1: not known)

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
    candidates: Sequence[Passage] = field(default_factory=list)  # ranked before diversity, best first
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
        self._title_terms: tuple[str, dict[str, frozenset[str]]] | None = None
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

    def _title_match(self, data: IndexData, query_terms: list[str], rows: dict[int, float], query: str) -> dict[int, float]:
        """For each row, how well its article title matches the question (:func:`title_match`),
        times NAMED_TITLE_FACTOR when the question names the whole title (:func:`names_title`)."""
        idf = self._idf_of(data)
        terms = frozenset(query_terms)
        if not any(idf.get(t, 0.0) for t in terms):
            return {}
        chunks = data.chunks
        titles = {chunks[row].title for row in rows}
        title_terms = self._title_terms_of(data, titles)
        by_title = {}
        for title in titles:
            share = title_match(terms, title_terms[title], idf)
            if share and names_title(query, title):
                share *= NAMED_TITLE_FACTOR
            by_title[title] = share
        return {row: by_title[chunks[row].title] for row in rows}

    def _title_terms_of(self, data: IndexData, titles: set[str]) -> dict[str, frozenset[str]]:
        """Title -> its BM25 terms, cached per generation (tokenising and stemming the
        candidates' titles on every question cost more than the BM25 scoring itself)."""
        from retrieval.index import tokenize

        generation = str(data.manifest.get("generation", ""))
        cached = self._title_terms
        if cached is None or cached[0] != generation:
            cached = (generation, {})
            self._title_terms = cached
        known = cached[1]
        missing = [title for title in titles if title not in known]
        if missing:
            known.update(zip(missing, map(frozenset, tokenize(missing))))
        return known

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
        dense = _dense_scores(data, vector, exhaustive=n <= EXHAUSTIVE_UP_TO)
        lexical = _lexical_scores(data, terms)
        dense_order = dense.rows[:CANDIDATES].tolist()
        lexical_order = _best_rows(lexical, min(4 * CANDIDATES, n))
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
            fused = _combsum(dense, lexical, dense_order + lexical_order, sentences=_SentenceScores(data, vector))
            if TITLE_WEIGHT:
                for row, share in self._title_match(data, terms, fused, query).items():
                    fused[row] += TITLE_WEIGHT * share
            if SUPPORT_WEIGHT:
                _add_document_support(fused, data.chunks)
        order = sorted(fused, key=lambda row: -fused[row])[: 2 * CANDIDATES]
        candidates = _Candidates(
            data,
            order,
            scores=[fused[row] for row in order],
            dense=_inner_products(data.vectors[order], vector).tolist(),
            lexical=lexical[order].tolist(),
            dense_ranks=dense.ranks(order),
            lexical_rank=lexical_rank,
        )
        chosen = _diversify(candidates, data.vectors[order], k)
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


class _DenseScores:
    """One question's cosine similarities: every chunk's (exhaustive) or the index's best few.

    ``rows`` are the best rows, best first, and ``scores`` theirs; ``low`` and ``high`` span
    the scores that were computed (the min-max range hybrid fusion normalises by).
    """

    def __init__(self, data: IndexData, vector: np.ndarray, *, exhaustive: bool) -> None:
        self._data, self._vector = data, vector
        want = min(len(data.chunks), 4 * CANDIDATES)
        self.every: np.ndarray | None = None
        if exhaustive:
            # Every score, then a partial sort: a FAISS search for all n rows followed by
            # n-sized Python dicts and sorts cost 1 ms a question at 2,000 chunks.
            every = _inner_products(data.vectors, vector)
            top = np.argpartition(-every, want - 1)[:want]
            self.rows = top[np.lexsort((-top, -every[top]))]  # best first; ties: later row first, as FAISS
            self.every, self._sorted = every, np.sort(every)
            self.low, self.high = float(self._sorted[0]), float(self._sorted[-1])
        else:
            found, rows = data.faiss_index.search(np.asarray(vector, dtype=np.float32)[None, :], want)
            keep = rows[0] >= 0
            self.rows = rows[0][keep]
            top_scores = found[0][keep]
            self._found = dict(zip(self.rows.tolist(), top_scores.tolist()))
            self._rank = {row: r for r, row in enumerate(self._found, 1)}
            self.low = float(top_scores.min()) if len(top_scores) else 0.0
            self.high = float(top_scores.max()) if len(top_scores) else 0.0
        self.scores = self.of(self.rows.tolist())

    def of(self, rows: list[int]) -> np.ndarray:
        """The dense scores of ``rows`` (float64), computed for rows the search did not return."""
        if self.every is not None:
            return self.every[rows].astype(np.float64)
        return np.array([self._found[row] if row in self._found else float(self._data.vectors[row] @ self._vector)
                         for row in rows], dtype=np.float64)

    def ranks(self, rows: list[int]) -> list[int | None]:
        """Each row's place in the dense order (1 = best); None for a row an approximate search
        missed. Equal scores (duplicate chunks) are placed as in ``rows``: the later row first."""
        if self.every is None:
            return [self._rank.get(row) for row in rows]
        scores = self.every[rows]
        after = np.searchsorted(self._sorted, scores, side="right")
        ranks = len(self._sorted) - after + 1
        for i in np.flatnonzero(after - np.searchsorted(self._sorted, scores, side="left") > 1):
            ranks[i] += np.count_nonzero(self.every[rows[i] + 1 :] == scores[i])
        return ranks.tolist()


def _inner_products(vectors: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """``vectors @ vector`` with FAISS's single-threaded kernel: the very floats a flat FAISS
    search returns, and no BLAS threads. On this 2-core machine, busy with other work, an
    OpenBLAS matrix-vector product of 2,117 x 384 took 11 ms instead of 0.02 ms now and then,
    waiting for its second thread."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    vector = np.ascontiguousarray(vector, dtype=np.float32)
    if vectors.ndim != 2 or vector.shape != (vectors.shape[1],):
        raise ValueError(f"a query vector of shape {vector.shape} for vectors of shape {vectors.shape}")
    out = np.empty(len(vectors), dtype=np.float32)
    if len(vectors):
        faiss.fvec_inner_products_ny(
            faiss.swig_ptr(out), faiss.swig_ptr(vector), faiss.swig_ptr(vectors), vectors.shape[1], len(vectors)
        )
    return out


def _dense_scores(data: IndexData, vector: np.ndarray, *, exhaustive: bool) -> _DenseScores:
    return _DenseScores(data, vector, exhaustive=exhaustive)


def _best_rows(scores: np.ndarray, k: int) -> list[int]:
    """The ``k`` highest-scoring rows with a positive score, best first."""
    top = np.argsort(-scores)[:k]
    return top[scores[top] > 0].tolist()


def _combsum(dense: _DenseScores, lexical: np.ndarray, rows: list[int], *, sentences: _SentenceScores) -> dict[int, float]:
    """Min-max normalise each retriever's scores over the chunks it scored, then add them
    (the dense score of each of ``rows`` blended with its best sentence's)."""
    unique = list(set(rows))
    cosine = dense.of(unique)
    if SENTENCE_WEIGHT:
        cosine = (1 - SENTENCE_WEIGHT) * cosine + SENTENCE_WEIGHT * sentences.best(unique, default=cosine)
    score = (cosine - dense.low) / (dense.high - dense.low + 1e-9)
    l_low, l_high = float(lexical.min(initial=0.0)), float(lexical.max(initial=0.0))
    if l_high > l_low:
        score += LEXICAL_WEIGHT * (lexical[unique].astype(np.float64) - l_low) / (l_high - l_low)
    return dict(zip(unique, score.tolist()))


class _SentenceScores:
    """Cosine similarity of one question with the sentences of a few chunks."""

    def __init__(self, data: IndexData, vector: np.ndarray) -> None:
        self._vectors, self._rows, self._vector = data.sentence_vectors, data.sentence_rows, vector

    def best(self, rows: list[int], *, default: np.ndarray) -> np.ndarray:
        """Each row's best sentence cosine; ``default``'s value for a row without sentences (and
        for every row of an index written before sentence vectors).

        Only the candidates' sentences are scored (a few hundred, whatever the corpus size).
        """
        if self._vectors is None or self._rows is None or not rows:
            return default
        wanted = np.asarray(rows)
        starts = np.searchsorted(self._rows, wanted, side="left")
        counts = np.searchsorted(self._rows, wanted, side="right") - starts
        has = counts > 0
        best = np.array(default, dtype=np.float64)
        if not has.any():
            return best
        counts, starts = counts[has], starts[has]
        firsts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        index = np.repeat(starts - firsts, counts) + np.arange(int(counts.sum()))
        scores = _inner_products(self._vectors[index], self._vector)
        best[has] = np.maximum.reduceat(scores, firsts)
        return best


def sentence_similarities(data: IndexData | None, row: int, vector: np.ndarray | None) -> np.ndarray | None:
    """The cosine of the question ``vector`` with each sentence of chunk ``row``, in
    ``highlight.passage_sentences`` order; None when the index has no sentence vectors."""
    if data is None or vector is None or row < 0 or data.sentence_vectors is None:
        return None
    return _inner_products(data.sentence_vectors[data.sentence_span(row)], vector)


def _add_document_support(fused: dict[int, float], chunks: Sequence[Chunk]) -> None:
    """Add to every candidate SUPPORT_WEIGHT x the mean of its article's next
    SUPPORT_PASSAGES best scores after the article's best one (missing ones count as 0).

    Every passage of an article gets the same boost, so the order within an article is
    unchanged; between articles, one with several good passages beats one with a single
    passage that scores a little higher.

        >>> from retrieval.ingest.chunking import Chunk
        >>> chunks = [Chunk(f"{d}#{i}", d, d, "", "t", 0, 1, 3) for i, d in enumerate("abbb")]
        >>> fused = {0: 1.0, 1: 0.98, 2: 0.9, 3: 0.9}
        >>> _add_document_support(fused, chunks)
        >>> fused[1] > fused[0]
        True
    """
    by_article: dict[str, list[int]] = {}
    for row in fused:
        by_article.setdefault(chunks[row].doc_id, []).append(row)
    for rows in by_article.values():
        if len(rows) > 1:  # an article with one candidate gets no support
            scores = sorted((fused[row] for row in rows), reverse=True)
            support = SUPPORT_WEIGHT * sum(scores[1 : 1 + SUPPORT_PASSAGES]) / SUPPORT_PASSAGES
            for row in rows:
                fused[row] += support


@lru_cache(maxsize=4096)
def _spelled(text: str) -> str:
    """Lower-case words of ``text`` joined by single spaces, with a space at each end."""
    return " " + " ".join(_WORD.findall(text.lower())) + " "


def names_title(question: str, title: str) -> bool:
    """Whether ``question`` contains every word of ``title``, in order and spelled the same.

    Stems cannot tell "Paget's Disease of Bone" from "Paget Disease of Bone", or "Spinal Cord
    Injuries" from "Spinal Cord Injury"; the words as written can. MedQuAD hit@1 0.922 -> 0.973
    (EVALUATION.md, "Document support and named titles"; its questions are written from the titles).

        >>> names_title("What is (are) Paget's Disease of Bone ?", "Paget's Disease of Bone")
        True
        >>> names_title("What is (are) Paget's Disease of Bone ?", "Paget disease of bone")
        False
        >>> names_title("back pain when sleeping", "Back Pain Relief Sleep Posture")
        False
    """
    words = _spelled(title)
    return words != "  " and words in _spelled(question)


def title_match(question: frozenset[str], title: frozenset[str], idf: dict[str, float]) -> float:
    """The IDF-weighted F1 of the question's and the title's BM25 terms: recall is the share of
    the question's words found in the title, precision the share of the title's words found in
    the question.

    Precision tells "Arthritis" from "Rheumatoid Arthritis" for "What is arthritis?": recall
    alone gives both titles 1.0. With F1 instead of recall (same weight 0.2), MedQuAD hit@1
    went 0.875 -> 0.888 and MRR 0.930 -> 0.937; the seed set hit@1 0.691 -> 0.709 and MRR
    0.784 -> 0.795 (EVALUATION.md, "Ranking experiments").

        >>> idf = {"arthriti": 2.0, "rheumatoid": 3.0}
        >>> title_match(frozenset({"arthriti"}), frozenset({"arthriti"}), idf)
        1.0
        >>> round(title_match(frozenset({"arthriti"}), frozenset({"rheumatoid", "arthriti"}), idf), 3)
        0.571
    """
    common = sum(idf.get(t, 0.0) for t in question & title)
    if not common:
        return 0.0
    recall = common / sum(idf.get(t, 0.0) for t in question)
    precision = common / sum(idf.get(t, 0.0) for t in title)
    return 2 * recall * precision / (recall + precision)


def _lexical_scores(data: IndexData, terms: list[str]) -> np.ndarray:
    if data.bm25 is None:
        return np.zeros(len(data.chunks), dtype=np.float32)
    from retrieval.index import bm25_scores

    return bm25_scores(data.bm25, terms, len(data.chunks))


def _diversify(candidates: Sequence[Passage], vectors: Sequence[np.ndarray], k: int) -> list[Passage]:
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


def _is_redundant(index: int, chosen: list[int], candidates: Sequence[Passage], vectors: Sequence[np.ndarray]) -> bool:
    chunk = candidates[index].chunk
    for other in chosen:
        o = candidates[other].chunk
        if o.doc_id == chunk.doc_id and o.start < chunk.end and chunk.start < o.end:
            return True
        if float(vectors[index] @ vectors[other]) >= NEAR_DUPLICATE:
            return True
    return False
