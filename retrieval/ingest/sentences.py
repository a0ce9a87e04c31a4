"""The sentences of a passage as a reader sees them: the highlight marks one of them, and the
build embeds each of them (sentence vectors), so both use this one split."""
from __future__ import annotations

import re

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"”’)]?|$)")


def split_sentences(text: str) -> list[str]:
    """Sentences and list items of a passage, in order (a light splitter for display)."""
    return [s.strip() for s in _SENTENCE.findall(text) if len(s.strip()) > 2]
