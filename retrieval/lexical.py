"""BM25 over the chunks (bm25s), with English stop words and Snowball stemming.

bm25s stores its index as a folder of plain files beside the FAISS index; it is rebuilt from
the chunk texts on every build that writes an index (it takes well under a second for
thousands of chunks, against minutes of embedding).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    try:
        import Stemmer
    except ImportError:  # optional: BM25 still works without stemming
        return None
    return Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(
        list(texts), lower=True, stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
    )


def build_bm25(texts: Sequence[str]):  # type: ignore[no-untyped-def]
    import bm25s

    retriever = bm25s.BM25()
    tokens = tokenize(texts) if texts else []
    if tokens:
        retriever.index(tokens, show_progress=False)
    return retriever


def bm25_scores(retriever, query: str, n_documents: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """BM25 score of every chunk for ``query`` (zeros when no query word is in the vocabulary)."""
    vocabulary = getattr(retriever, "vocab_dict", None) or {}
    words = [word for word in tokenize([query])[0] if word in vocabulary]
    if not words or n_documents == 0:
        return np.zeros(n_documents, dtype=np.float32)
    return np.asarray(retriever.get_scores(words), dtype=np.float32)
