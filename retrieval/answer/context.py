"""Neighbouring sentences for a passage whose best sentence sits at its edge.

A chunk ends where the token budget runs out, not where the thought does. When the sentence
that answers the question is a passage's first or last, the sentence just before or after it
(from the same paragraph of the cleaned article) is shown with it, so the answer reads in
context: "It will be relieved again, and the pain will be severe in the afternoon." is only
clear after "The low back pain ... is characterized by pain when getting up in the morning."

Paragraph boundaries are respected: a passage that starts a paragraph gets nothing before it,
one that ends a paragraph nothing after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from retrieval.answer.highlight import PASSAGE_CACHE_SIZE, passage_sentences
from retrieval.ingest import Chunk, is_heading, split_sentences

WINDOW = 1200  # characters of article text looked at on each side of a passage
PARAGRAPH = "\n\n"


@dataclass(frozen=True)
class EdgeContext:
    before: str = ""  # the sentence just before the passage, when its first sentence is the hit
    after: str = ""  # the sentence just after the passage, when its last sentence is the hit


def edge_context(article_text: str, chunk: Chunk, highlight: str) -> EdgeContext:
    """The neighbouring sentence(s) a highlighted edge sentence needs.

    >>> text = "Strain hurts most in the morning. It eases by noon.\\n\\nNext topic."
    >>> chunk = Chunk("a#1", "a", "", "", "It eases by noon.", 34, 51, 7)
    >>> edge_context(text, chunk, "It eases by noon.")
    EdgeContext(before='Strain hurts most in the morning.', after='')
    """
    sentences = passage_sentences(chunk.text)
    if not sentences or not highlight or not article_text:
        return EdgeContext()
    opens, closes = highlight.startswith(sentences[0]), highlight.endswith(sentences[-1])
    if not (opens or closes):
        return EdgeContext()
    before, after = _neighbours(article_text, chunk.start, chunk.end)
    if is_heading(before) or before.strip() == chunk.section.strip():
        before = ""  # a heading is not a sentence the passage needs; the chat shows it beside the title
    if is_heading(after):
        after = ""
    return EdgeContext(before if opens else "", after if closes else "")


@lru_cache(maxsize=PASSAGE_CACHE_SIZE)
def _neighbours(article_text: str, start: int, end: int) -> tuple[str, str]:
    """The sentences just outside a passage, worked out once per passage (see highlight.py)."""
    return sentence_before(article_text, start), sentence_after(article_text, end)


def sentence_before(text: str, start: int) -> str:
    """The last complete sentence before ``start`` in the same paragraph, or ""."""
    window_start = max(0, start - WINDOW)
    window = text[window_start:start]
    complete_at_left = window_start == 0
    if PARAGRAPH in window:
        window = window.rsplit(PARAGRAPH, 1)[1]
        complete_at_left = True
    sentences = split_sentences(window)
    if not sentences or (len(sentences) == 1 and not complete_at_left):
        return ""  # one long sentence cut by the window: better nothing than a fragment
    return sentences[-1]


def sentence_after(text: str, end: int) -> str:
    """The first complete sentence after ``end`` in the same paragraph, or ""."""
    window = text[end : end + WINDOW]
    complete_at_right = end + WINDOW >= len(text)
    if window.lstrip(" \t").startswith("\n"):
        return ""  # the passage ends its paragraph (or line: a heading or list item)
    if PARAGRAPH in window:
        window = window.split(PARAGRAPH, 1)[0]
        complete_at_right = True
    sentences = split_sentences(window)
    if not sentences or (len(sentences) == 1 and not complete_at_right):
        return ""
    return sentences[0]
