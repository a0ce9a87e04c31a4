"""Keyword stuffing: SEO pages repeat their title's phrases through the body, glued to words or
tacked onto lines. Those copies go, and so does the title's part that holds the stuffed phrase
("Back Pain: Get Relief For why do my back hurt" -> "Back Pain")."""
from __future__ import annotations

import re

# A word: letters and digits, with inner apostrophes ("don't"); shared with cleaning.
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def _title_phrases(title: str) -> list[list[str]]:
    """Sub-phrases of the title (4+ words), longest first."""
    words = WORD.findall(title)
    spans = [words[i:j] for i in range(len(words)) for j in range(i + 4, len(words) + 1)]
    return sorted(spans, key=len, reverse=True)


def remove_stuffed_title_phrases(body: str, title: str) -> tuple[str, list[re.Pattern[str]], list[str]]:
    """Remove a title phrase the body repeats out of place (keyword stuffing); return the body,
    the patterns of the phrases removed, and the text of each occurrence removed.

    An occurrence is out of place when it is glued to a neighbouring word
    ("fu<phrase>ture"), stands alone as a sentence (". <phrase>. Next"), or is tacked onto
    the end of a line with no punctuation ("Chill it <phrase>"). A phrase is stuffing when it
    occurs 3+ times and most occurrences are out of place; then every body occurrence goes.
    """
    taken: list[re.Pattern[str]] = []
    removed: list[str] = []
    if not title:
        return body, taken, removed
    pair_counts: dict[tuple[str, str], int] = {}
    for words in _title_phrases(title):
        if any(p.search(" ".join(words)) for p in taken):
            continue
        # A phrase can occur 3+ times only if each pair of adjacent words does: counting pairs
        # (n - 1 patterns) spares compiling most of the title's n^2 / 2 phrase patterns, which
        # took 0.5 s of a 0.7 s no-change rebuild of the seed corpus.
        if any(_pair_count(body, pair, pair_counts) < 3 for pair in zip(words, words[1:])):
            continue
        pattern = _phrase_pattern(words)
        matches = list(pattern.finditer(body))
        if len(matches) < 3:
            continue
        misplaced = sum(_is_out_of_place(body, m.start(), m.end()) for m in matches)
        if misplaced / len(matches) >= 0.6:
            taken.append(pattern)
            removed.extend(m.group(0) for m in matches)
            body = pattern.sub("\u0000", body)
            pair_counts.clear()  # counted on the body before this removal
    if not taken:
        return body, taken, removed
    # Tidy what the removals left: "solutions…and \0" -> "solutions", ". \0." -> ".".
    body = re.sub(r"[ ]*(?:…|\.\.\.)?\s*\b(?:and|or|for|on|of|to|with)\s*\u0000(?=[ ]*$)", "", body, flags=re.M | re.I)
    body = re.sub(r"(?<=\w)\u0000(?=\w)", "", body)  # glued inside a word
    body = re.sub(r"([.!?])[ ]*\u0000[ ]*[.!?]*", r"\1", body)
    body = re.sub(r"[ ]*\u0000[ ]*([.!?])", r"\1", body)
    return body.replace("\u0000", ""), taken, removed


# Where a title's parts meet: "Main title: subtitle", "Title | Site", "Title - keyword".
_TITLE_SEPARATOR = re.compile(r"\s*(?:[:|•·]|\s[-–—]\s)\s*")


def title_without_stuffing(title: str, stuffed: list[re.Pattern[str]]) -> str:
    """The title without the part that holds a phrase the body was stuffed with (``stuffed``:
    the phrases' patterns, from :func:`remove_stuffed_title_phrases`).

    SEO pages append their target search to the title ("Back Pain: Get Relief For why do my back
    hurt afyer legs massage") and repeat it through the body; the body's copies are removed as
    keyword stuffing, and here the title's part that holds one goes too when the rest of that
    part is a few words at most ("Get Relief For"). A part with more words around the phrase is
    a sentence and stays whole, as does a title that *is* the stuffed phrase ("Lower Back Pain
    After Working Out Legs" repeated through its own article) or would be left empty.

        >>> keyword = _phrase_pattern(["why", "do", "my", "back", "hurt"])
        >>> title_without_stuffing("Back Pain Relief: Get Relief For why do my back hurt", [keyword])
        'Back Pain Relief'
    """
    if not title or not stuffed:
        return title
    parts = _TITLE_SEPARATOR.split(title)
    separators = _TITLE_SEPARATOR.findall(title)
    kept: list[str] = []
    for index, part in enumerate(parts):
        rest = part
        for pattern in stuffed:
            rest = pattern.sub(" ", rest)
        if rest != part and len(WORD.findall(rest)) <= 3:
            continue  # the keyword, with at most a short call to action around it
        kept.append((separators[index - 1] if kept else "") + part)
    result = "".join(kept).strip()
    return result if WORD.search(result) else title


def _phrase_pattern(words: list[str]) -> re.Pattern[str]:
    """The words in order, separated by spaces, dashes, colons or commas, in any case."""
    return re.compile(r"[\s\-–:,]+".join(re.escape(word) for word in words), re.IGNORECASE)


def _pair_count(body: str, pair: tuple[str, str], counts: dict[tuple[str, str], int]) -> int:
    key = (pair[0].lower(), pair[1].lower())
    if key not in counts:
        counts[key] = sum(1 for _ in _phrase_pattern(list(pair)).finditer(body))
    return counts[key]


def _is_out_of_place(text: str, start: int, end: int) -> bool:
    before, after = text[max(0, start - 3) : start], text[end : end + 3]
    glued = bool(before) and before[-1].isalnum() or bool(after) and after[0].isalnum()
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    head = text[line_start:start].rstrip()
    tail = text[end:line_end].strip()
    alone = (not head or head[-1] in ".!?…") and (not tail or tail[0] in ".!?" or tail[:1].isupper())
    tacked_on = bool(head) and not tail
    return glued or alone and bool(head or tail) or tacked_on
