"""Turn answers into text people read: the chat/JSON ``message`` (Markdown) and CLI text.

Document and question text is escaped before it goes into Markdown, so that HTML, links or
images inside an article are shown literally and never rendered, loaded or run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from retrieval.answer.in_short import ShortSentence
    from retrieval.search import Passage

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~=^$&])")


@lru_cache(maxsize=4096)  # the same passage texts recur across questions
def escape_markdown(text: str) -> str:
    """Backslash-escape Markdown and HTML syntax so the text renders literally.

    Example: "<img src=x onerror=alert(1)>" -> "\\<img src\\=x onerror\\=alert\\(1\\)\\>"
    """
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    text = re.sub(r"^(\s*)([-+*])(\s)", r"\1\\\2\3", text, flags=re.M)  # "- x" would become a list
    return re.sub(r"^(\s*)(\d+)\.(\s)", r"\1\2\\.\3", text, flags=re.M)  # "7. x" too: escape the dot


def source_label(passage: Passage) -> str:
    chunk = passage.chunk
    pages = chunk.pages
    if not pages:
        return chunk.doc_id
    where = f"p. {pages[0]}" if len(pages) == 1 else f"pp. {pages[0]}–{pages[-1]}"
    return f"{chunk.doc_id}, {where}"


def passage_markdown(number: int, passage: Passage) -> str:
    chunk = passage.chunk
    heading = f"**{number}. {escape_markdown(chunk.title)}**"
    if chunk.section:
        heading += f" · {escape_markdown(chunk.section)}"
    text = escape_markdown(chunk.text)
    if passage.highlight:
        marked = escape_markdown(passage.highlight)
        if marked in text:
            text = text.replace(marked, f"**{marked}**", 1)
    if passage.context_before:
        text = f"*…{escape_markdown(passage.context_before)}* {text}"
    if passage.context_after:
        text = f"{text} *{escape_markdown(passage.context_after)}…*"
    return f"{heading}\n\n{text}\n\n*Source: {escape_markdown(source_label(passage))}*"


def passages_intro(after_card: bool) -> str:
    """The line before the passages (after a care card, it says they come second)."""
    return "What the articles say (after the advice above):" if after_card else "Here is what the articles say:"


IN_SHORT = "In short, from the passages below:"


def in_short_markdown(sentences: Sequence[ShortSentence]) -> str:
    """The "In short" list: each sentence word for word, in quotes, with its passage number."""
    lines = "\n".join(f"- “{escape_markdown(s.text)}” ({s.passage})" for s in sentences)
    return f"**{IN_SHORT}**\n\n{lines}"


def compose_message(
    *, card: str | None, body: str, passages: Sequence[Passage], safety_net: str, disclaimer: str,
    in_short: Sequence[ShortSentence] = (),
) -> str:
    """Care card first, then the reply, "In short" and the passages, the safety net, and the
    disclaimer last."""
    parts: list[str] = []
    if card:
        parts.append(card)
    if body:
        parts.append(body)
    if passages and in_short:
        parts.append(in_short_markdown(in_short))
    if passages:
        parts.append(passages_intro(bool(card)))
        parts.extend(passage_markdown(i, p) for i, p in enumerate(passages, 1))
    if safety_net:
        parts.append(f"**{safety_net}**")
    parts.append(f"*{disclaimer}*")
    return "\n\n".join(parts)


def render_text(answer, *, color: bool = False, scores: bool = True, own_markdown: Callable[[str], str] | None = None) -> str:  # type: ignore[no-untyped-def]
    """Plain-text rendering for the terminal (and the chat's Copy); the highlighted sentence in
    bold when ``color``, else between >> and <<; each passage's score when ``scores``.

    ``own_markdown`` (the chat's Copy) rewrites the text this package wrote in Markdown (care
    card, notes, a decline, the safety net), never the articles' own text, which may hold
    asterisks or backslashes of its own."""
    bold, dim, reset = ("\033[1m", "\033[2m", "\033[0m") if color else ("", "", "")
    own = own_markdown or (lambda text: text)
    out: list[str] = []
    if answer.care_card:
        out.append(own(answer.care_card))
    if answer.notes:
        out.extend(own(note) for note in answer.notes)
    if answer.passages and answer.in_short:
        out.append(f"{bold}{IN_SHORT}{reset}\n" + "\n".join(f"- “{s.text}” ({s.passage})" for s in answer.in_short))
    if not answer.passages:
        body = answer.message
        if answer.care_card:
            body = body.replace(answer.care_card, "", 1)
        out.append(own(body.replace(f"*{answer.disclaimer}*", "").strip()))
    for number, passage in enumerate(answer.passages, 1):
        chunk = passage.chunk
        text = chunk.text
        if passage.highlight and passage.highlight in text:
            marker_open, marker_close = (bold, reset) if color else (">>", "<<")
            text = text.replace(passage.highlight, f"{marker_open}{passage.highlight}{marker_close}", 1)
        if passage.context_before:
            text = f"{dim}…{passage.context_before}{reset} {text}"
        if passage.context_after:
            text = f"{text} {dim}{passage.context_after}…{reset}"
        section = f" · {chunk.section}" if chunk.section else ""
        out.append(f"{bold}{number}. {chunk.title}{section}{reset}\n{text}\n{dim}Source: {source_label(passage)}{f' (score {passage.score:.3f})' if scores else ''}{reset}")
    if answer.passages and answer.safety_net_text:
        out.append(f"{bold}{own(answer.safety_net_text)}{reset}")
    out.append(f"{dim}{answer.disclaimer}{reset}")
    return "\n\n".join(part for part in out if part)
