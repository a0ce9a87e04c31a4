"""What a search returns: the passages found, each with the evidence behind its rank, and the
question's result (its vector, best scores, candidates and the index generation that answered)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from retrieval.index import IndexData
from retrieval.ingest import Chunk


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
