"""BM25 over the chunks (bm25s), with English stop words and Snowball stemming.

bm25s stores its index as a folder of plain files beside the FAISS index; it is rebuilt from
the chunk texts on every build that writes an index (it takes well under a second for
thousands of chunks, against minutes of embedding).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

_WORDS = re.compile(r"(?u)\b\w\w+\b")  # bm25s' (and scikit-learn's) token pattern
_local = threading.local()  # a PyStemmer object must not be used by two threads at once


def _stemmer():  # type: ignore[no-untyped-def]
    stemmer = getattr(_local, "stemmer", False)
    if stemmer is False:
        try:
            import Stemmer
        except ImportError:  # optional: BM25 still works without stemming
            stemmer = None
        else:
            stemmer = Stemmer.Stemmer("english")
        _local.stemmer = stemmer
    return stemmer


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-case words of two or more characters, English stop words removed, stemmed.

    The same tokens as ``bm25s.tokenize(texts, stopwords="en", stemmer=..., return_ids=False)``,
    without its per-call overhead (three progress bars and a vocabulary per call: 0.15 ms for
    one question, paid several times per question).

        >>> tokenize(["My back is hurting"])  # doctest: +SKIP
        [['back', 'hurt']]
    """
    stop = _stopwords()
    stemmer = _stemmer()
    words = [[w for w in _WORDS.findall(text.lower()) if w not in stop] for text in texts]
    if stemmer is None:
        return words
    return [stemmer.stemWords(w) if w else [] for w in words]


# BM25's k1 and b. Chunks are cut to a token budget, so nearly all have the same length and
# length normalisation mostly penalises the ones that carry a long title or heading: b = 0.3
# instead of the usual 0.75 gave hit@1 0.709 -> 0.727 on the seed set and 0.888 -> 0.895 on
# MedQuAD (MRR 0.795 -> 0.803, 0.937 -> 0.941). Any b from 0.15 to 0.5 with k1 from 1.0 to 1.5 was
# at least as good as 0.75 on both sets (EVALUATION.md, "BM25 parameters").
BM25_PARAMS = {"k1": 1.5, "b": 0.3}


def build_bm25(texts: Sequence[str]):  # type: ignore[no-untyped-def]
    import bm25s

    retriever = bm25s.BM25(**BM25_PARAMS)
    tokens = tokenize(texts) if texts else []
    if tokens:
        retriever.index(tokens, show_progress=False)
    return retriever


def bm25_scores(retriever, terms: Sequence[str], n_documents: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """BM25 score of every chunk for the query ``terms`` (from :func:`tokenize`); zeros when
    no term is in the vocabulary."""
    vocabulary = getattr(retriever, "vocab_dict", None) or {}
    words = [word for word in terms if word in vocabulary]
    if not words or n_documents == 0:
        return np.zeros(n_documents, dtype=np.float32)
    return np.asarray(retriever.get_scores(words), dtype=np.float32)


def idf_from_bm25(retriever, n_documents: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Inverse document frequencies from a bm25s index's vocabulary, for weighting terms."""
    vocabulary: dict[str, int] = getattr(retriever, "vocab_dict", None) or {}
    scores = getattr(retriever, "scores", None)
    if not vocabulary or scores is None or "indptr" not in scores:
        return {}
    indptr = scores["indptr"]
    out = {}
    for term, column in vocabulary.items():
        df = int(indptr[column + 1] - indptr[column]) if column + 1 < len(indptr) else 1
        out[term] = math.log(1 + (n_documents - df + 0.5) / (df + 0.5))
    return out
