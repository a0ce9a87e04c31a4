"""The scores hybrid search fuses for one question: dense (cosine with each chunk), BM25, min-max
normalised and summed (CombSUM), plus the support of the other good passages of the same article."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from retrieval.index import IndexData
from retrieval.ingest import Chunk

# Hybrid = min-max normalised dense score + LEXICAL_WEIGHT x min-max normalised BM25 score
# (CombSUM). It beat RRF on both evaluation sets: see EVALUATION.md, "Retrieval". With the
# fine-tuned encoder, dropping BM25 cost 0.03-0.04 hit@1 on two of four held-out writers' sets
# (EVALUATION.md, "Development writers: what each component earns"): it stays.
LEXICAL_WEIGHT = 0.5
# Plus SUPPORT_WEIGHT x the mean of the article's next SUPPORT_PASSAGES best candidate scores
# (``add_document_support``): an article with several passages on the question is more likely
# to be about it than one with a single lucky passage. MedQuAD hit@1 0.895 -> 0.922, MRR 0.941 ->
# 0.956; seed set one question worse (EVALUATION.md, "Document support and named titles"). With
# the fine-tuned encoder, removing it cost one or two questions on three of four held-out sets.
SUPPORT_WEIGHT = 0.07
SUPPORT_PASSAGES = 3
CANDIDATES = 50


class DenseScores:
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
            every = inner_products(data.vectors, vector)
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


def inner_products(vectors: np.ndarray, vector: np.ndarray) -> np.ndarray:
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


def dense_scores(data: IndexData, vector: np.ndarray, *, exhaustive: bool) -> DenseScores:
    return DenseScores(data, vector, exhaustive=exhaustive)


def best_rows(scores: np.ndarray, k: int) -> list[int]:
    """The ``k`` highest-scoring rows with a positive score, best first."""
    top = np.argsort(-scores)[:k]
    return top[scores[top] > 0].tolist()


def combsum(dense: DenseScores, lexical: np.ndarray, rows: list[int]) -> dict[int, float]:
    """Min-max normalise each retriever's scores over the chunks it scored, then add them."""
    unique = list(set(rows))
    score = (dense.of(unique) - dense.low) / (dense.high - dense.low + 1e-9)
    l_low, l_high = float(lexical.min(initial=0.0)), float(lexical.max(initial=0.0))
    if l_high > l_low:
        score += LEXICAL_WEIGHT * (lexical[unique].astype(np.float64) - l_low) / (l_high - l_low)
    return dict(zip(unique, score.tolist()))


def sentence_similarities(data: IndexData | None, row: int, vector: np.ndarray | None) -> np.ndarray | None:
    """The cosine of the question ``vector`` with each sentence of chunk ``row``, in
    ``highlight.passage_sentences`` order; None when the index has no sentence vectors."""
    if data is None or vector is None or row < 0 or data.sentence_vectors is None:
        return None
    return inner_products(data.sentence_vectors[data.sentence_span(row)], vector)


def add_document_support(fused: dict[int, float], chunks: Sequence[Chunk]) -> None:
    """Add to every candidate SUPPORT_WEIGHT x the mean of its article's next
    SUPPORT_PASSAGES best scores after the article's best one (missing ones count as 0).

    Every passage of an article gets the same boost, so the order within an article is
    unchanged; between articles, one with several good passages beats one with a single
    passage that scores a little higher.

        >>> from retrieval.ingest.chunking import Chunk
        >>> chunks = [Chunk(f"{d}#{i}", d, d, "", "t", 0, 1, 3) for i, d in enumerate("abbb")]
        >>> fused = {0: 1.0, 1: 0.98, 2: 0.9, 3: 0.9}
        >>> add_document_support(fused, chunks)
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


def lexical_scores(data: IndexData, terms: list[str]) -> np.ndarray:
    if data.bm25 is None:
        return np.zeros(len(data.chunks), dtype=np.float32)
    from retrieval.index import bm25_scores

    return bm25_scores(data.bm25, terms, len(data.chunks))
