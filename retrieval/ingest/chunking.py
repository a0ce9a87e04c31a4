"""Split a cleaned article into sentence-aware chunks that fit the model's input limit.

A chunk never ends mid-sentence (unless one sentence alone is longer than the limit, when it
is cut at word boundaries), never crosses a section heading unless the section so far is tiny,
and repeats the last ``overlap_sentences`` sentences of the previous chunk of its section.

What is embedded is ``"{title}. {section}. {text}"`` (with ``embed_title``); the limit is
checked on exactly that string with the model's own tokenizer, special tokens included, so the
model never silently truncates a chunk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

PAGE_BREAK = "\f"
_MIN_CHUNK_TOKENS = 40  # a smaller section is merged with the next one


@dataclass(frozen=True)
class Chunk:
    """One passage of an article, as stored in the index (row i <-> vector i)."""

    id: str  # f"{doc_id}#{n}"
    doc_id: str
    title: str
    section: str
    text: str  # as a reader sees it
    start: int  # character offsets into the document's cleaned text
    end: int
    tokens: int  # word pieces of the embedded text, special tokens included
    pages: tuple[int, ...] = ()  # PDF pages the passage comes from

    def embedded_text(self, *, embed_title: bool) -> str:
        return compose_embedded_text(self.title, self.section, self.text, embed_title=embed_title)


@dataclass(frozen=True)
class _Sentence:
    start: int
    end: int
    tokens: int  # word pieces without special tokens
    section: str
    glued: bool = False  # continues the previous piece of a word cut in two (no space between)


TokenCounter = Callable[[Sequence[str]], list[int]]  # texts -> word pieces, no special tokens


def compose_embedded_text(title: str, section: str, text: str, *, embed_title: bool) -> str:
    if not embed_title:
        return text
    parts = [title] if title else []
    if section and section.lower() != title.lower():
        parts.append(section)
    prefix = ". ".join(p.rstrip(".?!:") for p in parts)
    return f"{prefix}. {text}" if prefix else text


def chunk_text(
    doc_id: str,
    title: str,
    text: str,
    *,
    count_tokens: TokenCounter,
    max_tokens: int,
    overlap_sentences: int = 1,
    embed_title: bool = True,
) -> list[Chunk]:
    """Chunk ``text`` (a document's cleaned text). ``max_tokens`` includes special tokens.

    The title and section prefix never takes more than about half the budget: a section
    heading longer than a quarter of it is read as text, and a title longer than a third is
    shortened (with "…") in the chunks, so that every chunk has room for its passage.
    """
    if embed_title and title and count_tokens([title])[0] > max_tokens // 3:
        title = _shorten(title, count_tokens, max_tokens // 3)
    sentences = _sentences_with_sections(text, count_tokens, max_heading_tokens=max_tokens // 4)
    if not sentences:
        return []
    page_starts = [m.start() for m in re.finditer(PAGE_BREAK, text)]
    budget_cache: dict[str, int] = {}

    def budget(section: str) -> int:
        # Room left for the passage once the title/section prefix and [CLS]/[SEP] are counted.
        if section not in budget_cache:
            prefix = compose_embedded_text(title, section, "x", embed_title=embed_title)[:-1]
            budget_cache[section] = max_tokens - 2 - (count_tokens([prefix])[0] if prefix.strip() else 0)
        return budget_cache[section]

    groups: list[list[_Sentence]] = []
    current: list[_Sentence] = []
    used = 0
    for sentence in _split_long(sentences, text, count_tokens, budget):
        limit = budget(current[0].section if current else sentence.section)
        new_section = bool(current) and sentence.section != current[0].section
        # Pieces of one over-long word touch (no space between them): their word pieces do not
        # add up, so each starts a chunk of its own and nothing is carried over into it.
        glued = bool(current) and sentence.glued
        extra = _gap_tokens(text, current, sentence, count_tokens)
        if current and (glued or used + extra + sentence.tokens > limit or (new_section and used >= _MIN_CHUNK_TOKENS)):
            groups.append(current)
            carried = _overlap(current, overlap_sentences, limit) if not (new_section or glued) else []
            current, used = list(carried), sum(s.tokens for s in carried)
            extra = _gap_tokens(text, current, sentence, count_tokens)
            if used + extra + sentence.tokens > budget(sentence.section):
                current, used, extra = [], 0, 0
        current.append(sentence)
        used += extra + sentence.tokens
    if current:
        groups.append(current)

    chunks = []
    for group in groups:
        start, end = group[0].start, group[-1].end
        passage = text[start:end].replace(PAGE_BREAK, "").strip()
        passage = re.sub(r"\n{2,}", "\n", passage)
        section = group[0].section
        embedded = compose_embedded_text(title, section, passage, embed_title=embed_title)
        tokens = count_tokens([embedded])[0] + 2
        while tokens > max_tokens and len(passage.split()) > 1:  # safety net; should not happen
            passage = passage.rsplit(" ", 1)[0]
            embedded = compose_embedded_text(title, section, passage, embed_title=embed_title)
            tokens = count_tokens([embedded])[0] + 2
        pages = _pages(page_starts, start, end) if page_starts else ()
        chunks.append(Chunk(f"{doc_id}#{len(chunks)}", doc_id, title, section, passage, start, end, tokens, pages))
    return chunks


def _gap_tokens(text: str, current: list[_Sentence], sentence: _Sentence, count_tokens: TokenCounter) -> int:
    """Word pieces of what lies between the chunk so far and ``sentence``: nothing but spaces,
    except when a tiny section is merged into the next and that section's heading is inside."""
    if not current:
        return 0
    gap = text[current[-1].end : sentence.start]
    return count_tokens([gap])[0] if gap.strip(PAGE_BREAK + " \n") else 0


def _overlap(group: list[_Sentence], n: int, limit: int) -> list[_Sentence]:
    carried = group[-n:] if n > 0 and len(group) > n else []
    return carried if sum(s.tokens for s in carried) <= limit // 3 else []


def _pages(page_starts: list[int], start: int, end: int) -> tuple[int, ...]:
    first = 1 + sum(1 for p in page_starts if p < start)
    last = 1 + sum(1 for p in page_starts if p < end)
    return tuple(range(first, last + 1))


@lru_cache(maxsize=1)
def _segmenter():  # type: ignore[no-untyped-def]
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def is_heading(line: str) -> bool:
    """A short line without closing punctuation (or a short question) that titles what follows.

    Example: "4. Wall Sits" -> True; "Hold for 30 seconds." -> False; "- Walk daily" -> False.
    """
    words = line.split()
    if not words or len(words) > 12 or line.startswith("- "):
        return False
    return not line.endswith((".", ",", ";", ":", "!")) and not line.endswith(")")


def _shorten(title: str, count_tokens: TokenCounter, limit: int) -> str:
    """The longest start of ``title`` that fits ``limit`` word pieces with a closing "…"."""
    low, high = 0, len(title)
    while low < high:
        middle = (low + high + 1) // 2
        if count_tokens([title[:middle].rstrip() + "…"])[0] <= limit:
            low = middle
        else:
            high = middle - 1
    return title[:low].rstrip() + "…"


def _sentences_with_sections(text: str, count_tokens: TokenCounter, *, max_heading_tokens: int = 64) -> list[_Sentence]:
    spans: list[tuple[int, int, str]] = []
    section = ""
    offset = 0
    lines = text.split("\n")
    for index, line in enumerate(lines):
        start = offset
        offset += len(line) + 1
        stripped = line.strip()
        if not stripped or stripped == PAGE_BREAK:
            continue
        next_line = next((l.strip() for l in lines[index + 1 :] if l.strip() and l.strip() != PAGE_BREAK), "")
        if is_heading(stripped) and next_line and not is_heading(next_line):
            if count_tokens([stripped])[0] <= max_heading_tokens:
                section = stripped
                continue
        lead = len(line) - len(line.lstrip())
        if stripped.startswith("- ") or len(stripped) < 40:
            spans.append((start + lead, start + lead + len(stripped), section))
            continue
        for block_start, block in _blocks(stripped):
            for piece in _segmenter().segment(block):
                piece_text = piece.sent.strip()
                if piece_text:
                    first = start + lead + block_start + piece.start + (len(piece.sent) - len(piece.sent.lstrip()))
                    spans.append((first, first + len(piece_text), section))
    counts = count_tokens([text[s:e] for s, e, _ in spans]) if spans else []
    return [_Sentence(s, e, c, sec) for (s, e, sec), c in zip(spans, counts)]


def _blocks(line: str, size: int = 2000) -> Iterator[tuple[int, str]]:
    """``line`` in blocks of about ``size`` characters, cut after a sentence end (else at a
    space), as (offset, block). pysbd takes quadratic time on a long paragraph (100,000
    characters: 11 s), so it is given one block at a time.
    """
    start = 0
    while len(line) - start > size:
        window = line[start : start + size]
        cut = max(window.rfind(". "), window.rfind("? "), window.rfind("! "))
        if cut < size // 2:
            cut = window.rfind(" ")
        if cut <= 0:  # no space at all: one huge word, cut later by _split_word
            following = line.find(" ", start + size)
            cut = (following if following != -1 else len(line)) - start
        yield start, line[start : start + cut + 1]
        start += cut + 1
    if start < len(line):
        yield start, line[start:]


def _split_long(
    sentences: list[_Sentence], text: str, count_tokens: TokenCounter, budget: Callable[[str], int]
) -> list[_Sentence]:
    """Cut any sentence longer than the budget into word windows that fit."""
    out: list[_Sentence] = []
    for sentence in sentences:
        limit = budget(sentence.section)
        if sentence.tokens <= limit:
            out.append(sentence)
            continue
        words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text[sentence.start : sentence.end])]
        counts = count_tokens([text[sentence.start + s : sentence.start + e] for s, e in words])
        window_start, used = 0, 0
        for i, count in enumerate(counts):
            if count > limit:  # one "word" over the limit: a long URL, or text without spaces (CJK)
                if i > window_start:
                    out.append(_window(sentence, words, counts, window_start, i))
                start, end = sentence.start + words[i][0], sentence.start + words[i][1]
                out.extend(_split_word(start, end, sentence.section, text, count_tokens, limit))
                window_start, used = i + 1, 0
                continue
            if used + count > limit and i > window_start:
                out.append(_window(sentence, words, counts, window_start, i))
                window_start, used = i, 0
            used += count
        if window_start < len(words):
            out.append(_window(sentence, words, counts, window_start, len(words)))
    return out


def _split_word(start: int, end: int, section: str, text: str, count_tokens: TokenCounter, limit: int) -> list[_Sentence]:
    """Cut ``text[start:end]``, one word longer than ``limit`` word pieces, into pieces that
    fit, each as long as it can be (binary search on the length; every piece is counted).

    Example: 600 Chinese characters (one word piece each) with limit 250 -> 250, 250, 100.
    """
    pieces = []
    while start < end:
        longest = min(end, start + limit * 24)  # no word piece is longer than 24 characters
        if count_tokens([text[start:longest]])[0] <= limit:
            cut = longest
        else:
            low, high = start + 1, longest - 1
            while low < high:
                middle = (low + high + 1) // 2
                if count_tokens([text[start:middle]])[0] <= limit:
                    low = middle
                else:
                    high = middle - 1
            cut = low
        pieces.append(_Sentence(start, cut, count_tokens([text[start:cut]])[0], section, glued=bool(pieces)))
        start = cut
    return pieces


def _window(sentence: _Sentence, words: list[tuple[int, int]], counts: list[int], i: int, j: int) -> _Sentence:
    start = sentence.start + words[i][0]
    end = sentence.start + words[j - 1][1]
    return _Sentence(start, end, sum(counts[i:j]), sentence.section)
