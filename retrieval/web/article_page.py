"""The "read it in the article" page: one article as a readable HTML page that opens at a passage.

The chat links each passage to ``article/<doc_id>?passage=<n>&hl=<sentence>#passage``. The page
shows a link back to the chat and the disclaimer, then the whole cleaned article with its
headings (the same :func:`chunking.is_heading` rule the chunker uses) and lists, the paragraphs
of passage ``n`` shaded, and the highlighted sentence marked. ``#passage`` makes the browser open
at it: at the heading just above the passage when there is one, so the reader sees what the
passage is under; otherwise the passage opens with a line naming its section.

Every piece of article text is HTML-escaped: a ``<script>`` inside an article is shown as text.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from retrieval.ingest import is_heading

if TYPE_CHECKING:
    from retrieval.index import StoredDocument
    from retrieval.ingest import Chunk
    from retrieval.search import Passage

ROUTE = "/article/{doc_id:path}"

STYLE = """
:root { color-scheme: light dark; --text: #212b32; --bg: #ffffff; --muted: #4c6272; --shade: #eef7ff;
        --edge: #005eb8; --mark: #fff0a0; --mark-text: #212b32; --link: #005eb8; }
@media (prefers-color-scheme: dark) {
  :root { --text: #f0f4f5; --bg: #111820; --muted: #aeb7bd; --shade: #1d2a33; --edge: #41b6e6; --link: #7cc4f0; }
}
body { margin: 0; background: var(--bg); color: var(--text);
       font: 18px/1.6 system-ui, "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 42rem; margin: 0 auto; padding: 1rem 1.25rem 4rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0.5rem 0; }
h2 { font-size: 1.25rem; margin: 1.6rem 0 0.4rem; }
.source { color: var(--muted); font-size: 0.9rem; margin: 0 0 1.5rem; }
.passage { background: var(--shade); border-left: 4px solid var(--edge); padding: 0.2rem 0.8rem;
           margin-left: -0.8rem; scroll-margin-top: 1rem; }
mark { background: var(--mark); color: var(--mark-text); padding: 0 2px; border-radius: 2px; }
.note { color: var(--muted); font-style: italic; }
#passage { scroll-margin-top: 0.75rem; }
.back { display: inline-block; margin: 0.25rem 0 0.5rem; color: var(--link); font-weight: 600; }
.disclaimer { border-left: 4px solid var(--edge); background: var(--shade); padding: 0.4rem 0.8rem; font-size: 1rem; }
.section-name { color: var(--muted); font-size: 0.95rem; margin: 0.4rem 0 0; }
a:focus-visible { outline: 3px solid var(--edge); outline-offset: 2px; }
"""


@dataclass(frozen=True)
class Block:
    """One paragraph, heading or list of the article, with its character span in the text."""

    kind: str  # "h2", "p" or "ul"
    lines: tuple[str, ...]
    start: int
    end: int


def article_link(passage: Passage) -> str:
    """The relative link from the chat to this passage in its article."""
    chunk = passage.chunk
    number = chunk.id.rsplit("#", 1)[-1]
    query = f"passage={quote(number)}"
    if passage.highlight:
        query += f"&hl={quote(passage.highlight)}"
    return f"article/{quote(chunk.doc_id)}?{query}#passage"


def blocks(text: str) -> Iterator[Block]:
    """The article split at blank lines into headings, paragraphs and "- " lists."""
    position = 0
    for raw in text.replace("\f", "\n").split("\n\n"):
        start = position
        position += len(raw) + 2
        lines = tuple(line.strip() for line in raw.split("\n") if line.strip())
        if not lines:
            continue
        if len(lines) == 1 and is_heading(lines[0]):
            kind = "h2"
        elif all(line.startswith(("- ", "* ", "• ")) for line in lines):
            kind, lines = "ul", tuple(line[2:].strip() for line in lines)
        else:
            kind = "p"
        yield Block(kind, lines, start, start + len(raw))


def article_html(document: StoredDocument, chunk: Chunk | None = None, highlight: str = "", *, disclaimer: str = "") -> str:
    """The whole page for ``document``; ``chunk`` is shaded and ``highlight`` marked in it; the
    ``disclaimer`` (plain text) and a link back to the chat come first."""
    parts: list[str] = []
    anchored = False
    for block in blocks(document.text):
        inside = chunk is not None and block.start < chunk.end and block.end > chunk.start
        body = _block_html(block, highlight if inside else "")
        if inside:
            anchor = ""
            if not anchored:
                if parts and parts[-1].startswith("<h2>"):  # the passage's heading: open there
                    parts[-1] = parts[-1].replace("<h2>", '<h2 id="passage">', 1)
                else:
                    anchor = ' id="passage"'
                    if chunk is not None and chunk.section:
                        body = f'<p class="section-name">From the section “{html.escape(chunk.section)}”</p>{body}'
            anchored = True
            body = f'<div class="passage"{anchor}>{body}</div>'
        parts.append(body)
    if chunk is not None and not anchored:
        parts.insert(0, '<p class="note" id="passage">The passage could not be found in this version of the article.</p>')
    title = html.escape(document.title)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{title}</title><style>{STYLE}</style></head><body><main>"
        f"<a class='back' href='{html.escape(chat_link(document.doc_id))}'>← Back to the chat</a>"
        + (f"<p class='disclaimer' role='note'>{html.escape(disclaimer)}</p>" if disclaimer else "")
        + f"<h1>{title}</h1><p class='source'>Source: {html.escape(document.doc_id)}</p>"
        f"{''.join(parts)}</main></body></html>"
    )


def chat_link(doc_id: str) -> str:
    """The relative link from ``article/<doc_id>`` back to the chat (works behind a proxy path).

    >>> chat_link("a.txt"), chat_link("sub/b.txt")
    ('../', '../../')
    """
    return "../" * (doc_id.count("/") + 1)


def not_found_html(doc_id: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Article not found</title>"
        f"<style>{STYLE}</style></head><body><main><a class='back' href='{html.escape(chat_link(doc_id))}'>← Back to the chat</a>"
        "<h1>Article not found</h1>"
        f"<p>No article called <code>{html.escape(doc_id)}</code> is in the library now. "
        "It may have been removed; ask your question again to get current passages.</p></main></body></html>"
    )


def _block_html(block: Block, highlight: str) -> str:
    lines = [_marked(line, highlight) for line in block.lines]
    if block.kind == "h2":
        return f"<h2>{lines[0]}</h2>"
    if block.kind == "ul":
        return "<ul>" + "".join(f"<li>{line}</li>" for line in lines) + "</ul>"
    return "<p>" + "<br>".join(lines) + "</p>"


def _marked(line: str, highlight: str) -> str:
    escaped = html.escape(line)
    needle = html.escape(highlight.strip())
    if needle and needle in escaped:
        return escaped.replace(needle, f"<mark>{needle}</mark>", 1)
    return escaped
