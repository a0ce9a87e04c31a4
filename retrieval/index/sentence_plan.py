"""Which sentences a build embeds (sentence vectors), and how the index's sentence vectors are
put together from reused and new ones."""
from __future__ import annotations

import numpy as np

from retrieval.index.store import SENTENCE_DTYPE, IndexData
from retrieval.ingest import Chunk


class SentencePlan:
    """Which sentences a build embeds, and how its sentence vectors are put together.

    A chunk reused from the previous generation keeps that generation's sentence vectors; a new
    chunk's sentences (``ingest.split_sentences``, the sentences a reader is shown) are
    embedded, each distinct sentence text once (chunks overlap by a sentence).
    """

    def __init__(self, chunks: list[Chunk], previous_rows: list[int | None], previous: IndexData | None) -> None:
        from retrieval.ingest import split_sentences

        self._old = previous.sentence_vectors if previous is not None else None
        self.to_embed: list[str] = []
        position: dict[str, int] = {}
        # Per chunk: its rows of the previous sentence vectors (a slice), or of ``to_embed`` (a list).
        self._parts: list[slice | list[int]] = []
        for chunk, old_row in zip(chunks, previous_rows):
            if old_row is not None and previous is not None and self._old is not None:
                self._parts.append(previous.sentence_span(old_row))
                continue
            positions = []
            for sentence in split_sentences(chunk.text):
                if sentence not in position:
                    position[sentence] = len(self.to_embed)
                    self.to_embed.append(sentence)
                positions.append(position[sentence])
            self._parts.append(positions)

    def assemble(self, new_vectors: np.ndarray, dimension: int) -> tuple[np.ndarray, np.ndarray]:
        """(sentence vectors, chunk row of each), in chunk order."""
        blocks: list[np.ndarray] = []
        rows: list[np.ndarray] = []
        for row, part in enumerate(self._parts):
            block = self._old[part] if isinstance(part, slice) and self._old is not None else new_vectors[part]
            blocks.append(block.reshape(-1, dimension))
            rows.append(np.full(len(blocks[-1]), row, dtype=np.int32))
        if not blocks:
            return np.zeros((0, dimension), dtype=SENTENCE_DTYPE), np.zeros(0, dtype=np.int32)
        return np.ascontiguousarray(np.vstack(blocks), dtype=SENTENCE_DTYPE), np.concatenate(rows)
