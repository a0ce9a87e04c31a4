"""What one build did: documents and chunks counted, embedded and reused, what was skipped and
why, what cleaning removed. ``python -m retrieval build --json`` prints it."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class BuildReport:
    """What a build did. ``embedded``/``reused``/``removed_chunks`` count chunks;
    ``embedded_sentences`` counts the distinct sentences embedded on their own."""

    documents: int = 0
    chunks: int = 0
    embedded: int = 0
    embedded_sentences: int = 0
    reused: int = 0
    removed: int = 0  # documents removed since the last build
    removed_chunks: int = 0
    added_documents: list[str] = field(default_factory=list)
    changed_documents: list[str] = field(default_factory=list)
    unchanged_documents: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)  # {"path", "reason"}
    cleaning: list[dict[str, Any]] = field(default_factory=list)  # per document: chars removed
    notes: list[str] = field(default_factory=list)
    full_rebuild: bool = False
    full_rebuild_reason: str = ""
    wrote_index: bool = False
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
