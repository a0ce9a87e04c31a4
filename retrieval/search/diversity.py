"""Pick the top passages without near-duplicates or overlapping chunks, spreading across articles."""
from __future__ import annotations

from collections.abc import Sequence
import numpy as np

from retrieval.search.results import Passage

NEAR_DUPLICATE = 0.92  # cosine similarity above which two passages say the same thing


def diversify(candidates: Sequence[Passage], vectors: Sequence[np.ndarray], k: int) -> list[Passage]:
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
