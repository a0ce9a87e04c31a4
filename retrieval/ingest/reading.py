"""Read one article file into plain text, whatever its format and encoding.

Formats: ``.txt``, ``.md``/``.markdown``, ``.html``/``.htm`` (main text only, via trafilatura)
and ``.pdf`` (text layer, page by page). Anything that cannot be read raises
:class:`DocumentRejected` with a reason a person can act on; the build reports it and goes on.

PDF page boundaries are kept as form-feed characters (``\\f``) on lines of their own, so that
chunks can cite page numbers after cleaning.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.errors import DocumentRejected

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_TEXT_CHARS = 1_000_000
PAGE_BREAK = "\f"

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class RawDocument:
    """A document's text before cleaning."""

    doc_id: str  # POSIX path relative to the corpus folder
    title: str
    text: str
    kind: str  # "text" | "markdown" | "html" | "pdf"
    raw_sha256: str
    notes: tuple[str, ...] = field(default=())  # e.g. "decoded as windows-1252"


def read_document(path: Path, doc_id: str) -> RawDocument:
    """Read ``path`` into a :class:`RawDocument`; raise DocumentRejected with the reason."""
    return parse_document(read_bytes(path), doc_id, path.name)


def read_bytes(path: Path) -> bytes:
    """The file's bytes, after the checks that need no parsing (type, empty, size)."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentRejected(
            f"unsupported file type {suffix or '(no extension)'}; "
            f"supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    try:
        size = path.stat().st_size
        if size == 0:
            raise DocumentRejected("empty file")
        if size > MAX_FILE_BYTES:
            raise DocumentRejected(
                f"file is {size / 1e6:.1f} MB; the limit is {MAX_FILE_BYTES // (1024 * 1024)} MB"
            )
        return path.read_bytes()
    except OSError as error:
        raise DocumentRejected(f"cannot read file: {error.strerror or error}") from None


def parse_document(data: bytes, doc_id: str, name: str) -> RawDocument:
    """A file's bytes (named ``name``) as a :class:`RawDocument`: what a cluster worker runs."""
    path = Path(name)
    suffix = path.suffix.lower()
    raw_sha256 = hashlib.sha256(data).hexdigest()
    notes: list[str] = []
    if suffix in PDF_SUFFIXES:
        title, text = _read_pdf(data)
        kind = "pdf"
    else:
        if data[:5] == b"%PDF-":
            raise DocumentRejected(f"file is a PDF but is named {path.name}; rename it to .pdf")
        decoded, encoding = decode_bytes(data)
        if encoding not in ("utf-8", "utf-8-sig", "ascii"):
            notes.append(f"decoded as {encoding}")
        if suffix in HTML_SUFFIXES:
            title, text = _read_html(decoded)
            kind = "html"
        elif suffix in MARKDOWN_SUFFIXES:
            title, text = _read_markdown(decoded)
            kind = "markdown"
        else:
            if _looks_like_html(decoded):
                title, text = _read_html(decoded)
                notes.append("HTML content in a text file: read as HTML")
            else:
                title, text = _first_line_title(decoded), decoded
            kind = "text"
    if len(text) > MAX_TEXT_CHARS:
        raise DocumentRejected(
            f"text is {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,} per document "
            "(split it into several files)"
        )
    if not text.strip(PAGE_BREAK + " \n\t\r"):
        raise DocumentRejected("no text in the document")
    title = _tidy_title(title) or _title_from_file_name(path)
    return RawDocument(doc_id, title, text, kind, raw_sha256, tuple(notes))


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode file bytes, UTF-8 first, and return ``(text, encoding)``.

    A byte-order mark wins; then strict UTF-8; then, for text that is mostly ASCII with a few
    accented letters or curly quotes, Windows-1252 (a superset of Latin-1's printable range);
    then charset-normalizer's best guess. Undecodable or binary data raises DocumentRejected:
    we never guess silently into garbled text.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                raise DocumentRejected(f"invalid {encoding} text after its byte-order mark") from None
    if b"\x00" in data[:8192]:
        raise DocumentRejected("binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = ""
    letters = [ch for ch in text if ch.isalpha()]
    accented = sum(1 for ch in letters if not ch.isascii())
    # Western European text is mostly ASCII letters with a few accents; 8-bit Cyrillic or
    # Greek read as cp1252 would be nearly all accented letters, so leave that to detection.
    if text and letters and accented / len(letters) < 0.3 and not any("\x80" <= ch <= "\x9f" for ch in text):
        return text, "windows-1252"
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise DocumentRejected("not valid UTF-8 and the text encoding could not be recognised")
    return str(best), best.encoding


def _read_html(html: str) -> tuple[str, str]:
    import trafilatura

    markdown = trafilatura.extract(
        html,
        output_format="markdown",
        include_comments=False,
        include_tables=True,
        include_links=False,
        include_images=False,
    )
    metadata = trafilatura.extract_metadata(html)
    title = (metadata.title if metadata else None) or _html_heading(html) or ""
    if not markdown:
        text = _strip_tags(html)
    else:
        text = _markdown_to_text(markdown)
    return title, text


def _read_markdown(markdown: str) -> tuple[str, str]:
    heading = re.search(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", markdown, flags=re.MULTILINE)
    text = _markdown_to_text(markdown)
    return (heading.group(1) if heading else _first_line_title(text)), text


_BROKEN_PDF = "this file is damaged or is not really a PDF, so its text cannot be read; open it in a PDF viewer, save or export it again as PDF, and upload that copy"


def _read_pdf(data: bytes) -> tuple[str, str]:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise DocumentRejected("encrypted PDF that needs a password; save an unlocked copy")
            except DocumentRejected:
                raise
            except Exception:
                raise DocumentRejected("encrypted PDF that cannot be opened; save an unlocked copy") from None
        pages = [(page.extract_text() or "") for page in reader.pages]
        title = ""
        if reader.metadata is not None and reader.metadata.title:
            title = str(reader.metadata.title)
    except DocumentRejected:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as error:
        raise DocumentRejected(_BROKEN_PDF + f" (malformed PDF: {str(error)[:120] or type(error).__name__})") from None
    except Exception as error:  # pypdf raises a wide range of errors on broken files
        raise DocumentRejected(_BROKEN_PDF + f" (malformed PDF: {type(error).__name__})") from None
    if not any(page.strip() for page in pages):
        raise DocumentRejected("PDF has no text layer (scanned pages?); run OCR on it first")
    text = f"\n{PAGE_BREAK}\n".join(pages)
    return title or _first_line_title(text), text


def _markdown_to_text(markdown: str) -> str:
    """Turn Markdown into plain text a reader would see: no markup, no raw HTML."""
    text = re.sub(r"<!--.*?-->", "", markdown, flags=re.DOTALL)
    text = re.sub(r"<(script|style|iframe|object|embed|noscript)\b.*?</\1\s*>", "", text, flags=re.I | re.S)
    text = re.sub(r"<(script|style|iframe)\b[^>]*>", "", text, flags=re.I)
    text = re.sub(r"</?[A-Za-z][^>]*>", "", text)  # remaining tags: keep their inner text
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)  # images
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links -> their text
    text = re.sub(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", r"\1", text, flags=re.MULTILINE)
    text = re.sub(r"^\s{0,3}>\s?", "", text, flags=re.MULTILINE)  # block quotes
    text = re.sub(r"^\s*[*+]\s+", "- ", text, flags=re.MULTILINE)  # bullets
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?!\w)", r"\1", text)
    text = re.sub(r"^\s*```.*$", "", text, flags=re.MULTILINE)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"^\s*([-*_]\s*){3,}$", "", text, flags=re.MULTILINE)  # rules
    text = re.sub(r"^\s*\|?\s*:?-{3,}.*$", "", text, flags=re.MULTILINE)  # table separators
    return text


def _strip_tags(html: str) -> str:
    html = re.sub(r"<(script|style|iframe|noscript|head)\b.*?</\1\s*>", " ", html, flags=re.I | re.S)
    html = re.sub(r"<br\s*/?>|</p>|</div>|</h\d>|</li>", "\n", html, flags=re.I)
    import html as html_module

    return html_module.unescape(re.sub(r"<[^>]+>", " ", html))


def _html_heading(html: str) -> str | None:
    match = re.search(r"<h1\b[^>]*>(.*?)</h1>", html, flags=re.I | re.S) or re.search(
        r"<title\b[^>]*>(.*?)</title>", html, flags=re.I | re.S
    )
    return _strip_tags(match.group(1)).strip() if match else None


def _looks_like_html(text: str) -> bool:
    head = text[:2000].lower()
    return "<html" in head or "<!doctype html" in head or ("<body" in head and "</" in head)


def _first_line_title(text: str) -> str:
    """The first line, if it reads like a title. A long line ending with a full stop is the
    first sentence of the text, not its title (it would be cut from the body as the title).

    Example: "Sciatica relief" -> "Sciatica relief"; "Walk daily; it keeps the lower back
    supple and eases sciatica." -> "" (the caller then uses the file name).
    """
    for line in text.splitlines():
        line = line.strip(" \t#" + PAGE_BREAK)
        if line:
            if len(line) > 200:
                return ""
            line = _tidy_title(line)
            sentence = line.endswith(".") and not line.endswith("...") and len(line.split()) > 12
            return "" if sentence else line
    return ""


def _tidy_title(title: str) -> str:
    # Control, zero-width and bidirectional-override characters: a title must read as it shows.
    title = re.sub(r"[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]", "", title)
    return re.sub(r"\s+", " ", title).strip()[:200]


def _title_from_file_name(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip().capitalize() or path.name
