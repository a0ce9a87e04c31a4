"""Pick the sentence(s) of a passage that best answer the question.

Cheap (no model call per sentence): each sentence is scored by the IDF-weighted share of the
question's stemmed words it contains, plus its cosine with the question when the index holds
sentence vectors (embedded at build time). Ties go to the earlier sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from retrieval.index import tokenize
from retrieval.ingest import split_sentences

# Passages recur across questions (a few dozen chunks answer most of them), so their sentences
# and terms are worked out once: splitting and stemming them was a third of a question's own
# work next to a 1.8 ms ONNX encode (BENCHMARKS.md). Keyed by the text itself, so a new index
# generation needs no invalidation; entries hold references to chunk texts, not copies.
PASSAGE_CACHE_SIZE = 4096
# With sentence vectors, a sentence scores lexical share + SIMILARITY_WEIGHT x cosine. On the seed
# set, the highlight of a passage that answers holds the answer's key phrase in 70% of cases
# (88 / 126) against 63% (80) lexically; 0.5-4 measured 87-89 (EVALUATION.md, "Sentence vectors").
SIMILARITY_WEIGHT = 1.0


@lru_cache(maxsize=PASSAGE_CACHE_SIZE)
def passage_sentences(text: str) -> tuple[str, ...]:
    """:func:`split_sentences` of a passage (chunk) text, cached."""
    return tuple(split_sentences(text))


@lru_cache(maxsize=PASSAGE_CACHE_SIZE)
def _sentence_terms(text: str) -> tuple[frozenset[str], ...]:
    """Each sentence's BM25 terms (stemmed, stop words removed)."""
    return tuple(map(frozenset, tokenize(passage_sentences(text))))


def best_sentences(
    question: str,
    text: str,
    *,
    idf: dict[str, float] | None = None,
    limit: int = 2,
    similarity: Sequence[float] | None = None,
) -> str:
    """The best-matching sentence, plus the next best if it scores nearly as well.

    ``similarity``, when given, is each sentence's cosine with the question (from the index's
    sentence vectors, in :func:`passage_sentences` order); it is added to the lexical score with
    weight SIMILARITY_WEIGHT, so a sentence that answers in other words can win.

    Example: best_sentences("is ice or heat better", "Rest well. Ice is best in the first
    48 hours. Then heat.") -> "Ice is best in the first 48 hours. Then heat."
    """
    return scored_highlight(question, text, idf=idf, limit=limit, similarity=similarity)[0]


def scored_highlight(
    question: str,
    text: str,
    *,
    idf: dict[str, float] | None = None,
    limit: int = 2,
    similarity: Sequence[float] | None = None,
) -> tuple[str, float]:
    """:func:`best_sentences` and the score of its best sentence (0.0 when nothing matched), so
    highlights of different passages can be compared ("In short" picks the best of them)."""
    sentences = passage_sentences(text)
    if not sentences:
        return "", 0.0
    query_terms = set(tokenize([question])[0])
    cosines = [float(c) for c in similarity] if similarity is not None and len(similarity) == len(sentences) else None
    if not query_terms and cosines is None:
        return sentences[0], 0.0
    weights = {term: (idf or {}).get(term, 1.0) for term in query_terms}
    total = sum(weights.values()) or 1.0
    scores = [sum(weights[t] for t in terms & query_terms) / total for terms in _sentence_terms(text)]
    if cosines is not None:
        scores = [score + SIMILARITY_WEIGHT * cosine for score, cosine in zip(scores, cosines)]
    ranked = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
    best = ranked[0]
    if scores[best] <= 0:
        return sentences[0], 0.0
    picked = [best]
    for index in ranked[1:limit]:
        if scores[index] >= 0.8 * scores[best] and abs(index - best) == 1:
            picked.append(index)
    return " ".join(sentences[i] for i in sorted(picked)), scores[best]


__all__ = ["best_sentences", "passage_sentences", "scored_highlight"]
