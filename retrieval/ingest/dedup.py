"""Cross-document duplicates: a paragraph found in several documents is indexed once.

It stays with the document where it is main content: the one whose text is most made of the
shared paragraphs (an article copied wholesale into another page's "related" tail is 100% shared
in its own file, only partly in the page that carries the copy). Ties go to the document where
the shared text comes earliest, then to the first by id.

Example: A = [p1, p2], B = [q1, p1, p2] -> p1 and p2 are kept in A and removed from B.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

_MIN_WORDS = 12  # shorter lines ("Keep active", "Repeat 10 times.") are too common to count
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class DedupResult:
    text: str
    removed_paragraphs: int
    duplicate_of: tuple[str, ...]  # the documents that kept the removed paragraphs


def _key(line: str) -> str:
    return " ".join(_WORD.findall(line.lower()))


def deduplicate(texts: dict[str, str]) -> dict[str, DedupResult]:
    """Remove paragraphs that another document owns. ``texts`` maps doc id -> cleaned text."""
    where: dict[str, list[str]] = defaultdict(list)
    lines_of: dict[str, list[str]] = {}
    for doc_id, text in texts.items():
        lines = text.split("\n")
        lines_of[doc_id] = lines
        seen = set()
        for line in lines:
            key = _key(line)
            if len(key.split()) >= _MIN_WORDS and key not in seen:
                seen.add(key)
                where[key].append(doc_id)
    shared = {key: docs for key, docs in where.items() if len(docs) > 1}
    if not shared:
        return {doc_id: DedupResult(text, 0, ()) for doc_id, text in texts.items()}

    coverage: dict[str, float] = {}
    first_position: dict[str, float] = {}
    for doc_id, lines in lines_of.items():
        total = sum(len(line) for line in lines) or 1
        offset, shared_chars, first = 0, 0, 1.0
        for line in lines:
            if _key(line) in shared:
                shared_chars += len(line)
                first = min(first, offset / total)
            offset += len(line)
        coverage[doc_id], first_position[doc_id] = shared_chars / total, first

    owner = {
        key: min(docs, key=lambda d: (-round(coverage[d], 3), first_position[d], d)) for key, docs in shared.items()
    }
    results = {}
    for doc_id, lines in lines_of.items():
        kept, removed, owners = [], 0, set()
        for line in lines:
            key = _key(line)
            if key in owner and owner[key] != doc_id:
                removed += 1
                owners.add(owner[key])
                continue
            kept.append(line)
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip() if removed else texts[doc_id]
        results[doc_id] = DedupResult(text, removed, tuple(sorted(owners)))
    return results
