"""What the browser chat shows: chat messages, article panels and the Documents tab, as text.

Everything here returns plain strings and dicts (Gradio's ``{"role", "content", "metadata"}``
messages), so it is tested without a browser. Text that comes from a document or a question
is escaped before it is put into Markdown (:func:`escape_markdown`) or HTML
(:func:`html.escape`): a ``<script>``, an ``<img onerror>`` or a ``javascript:`` link inside an
article is shown as the characters it is made of. The only markup added here is our own.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from retrieval.formatting import escape_markdown

if TYPE_CHECKING:
    from retrieval.answer import Answer
    from retrieval.service import BuildOutcome, BuildStatus, ChatService, DocumentRow, SavedUpload
    from retrieval.store import StoredDocument

Message = dict[str, Any]

TITLE = "Back and leg pain: passages from trusted articles"
EXAMPLE_QUESTIONS = (
    "How should I sleep with low back pain?",
    "Is heat or ice better for a sore back?",
    "What stretches help sciatica?",
    "Why does my lower back hurt after working out my legs?",
)
MAX_ARTICLE_CHARS = 40_000  # longer articles are cut in the chat panel (the index keeps them whole)


def notice_markdown(locale: str = "uk") -> str:
    """The always-visible notice: what the assistant is and is not, and who to call."""
    from retrieval.care import LOCALES, normalise_locale

    place = LOCALES[normalise_locale(locale)]
    return (
        "**What this is:** a search assistant. It finds the passages in its library of health articles "
        "about back and leg pain that best match your question, and shows where each one comes from. "
        "**What it is not:** a doctor. It does not diagnose, prescribe or give personal advice. "
        f"If you are worried, contact {place.advice_line}. "
        f"**In an emergency, call {place.emergency_number}.**"
    )


def question_message(question: str) -> Message:
    """The user's question as typed, shown literally (no Markdown, no HTML)."""
    return {"role": "user", "content": escape_markdown(question.strip())}


def answer_messages(answer: Answer, document: Callable[[str], StoredDocument | None]) -> list[Message]:
    """The reply, then one closed "Read the whole article" panel per article cited.

    The reply is the answer's own Markdown (care card first, passages, disclaimer last), with
    each passage's highlighted sentence(s) marked with ``<mark>`` so they stand out.
    """
    messages: list[Message] = [{"role": "assistant", "content": answer_markdown(answer)}]
    seen: set[str] = set()
    for passage in answer.passages:
        source = passage.chunk.doc_id
        if source in seen:
            continue
        seen.add(source)
        stored = document(source)
        if stored is None:
            continue
        highlights = [p.highlight for p in answer.passages if p.chunk.doc_id == source and p.highlight]
        messages.append(
            {
                "role": "assistant",
                "content": article_markdown(stored, highlights),
                "metadata": {
                    "title": f"Read the whole article: {escape_markdown(stored.title)} ({escape_markdown(source)})",
                    "status": "done",  # closed until clicked
                },
            }
        )
    return messages


def answer_markdown(answer: Answer) -> str:
    """``answer.message`` with highlights in ``<mark>`` and any notes added at the end."""
    message = _tidy_escapes(answer.message)
    for passage in answer.passages:
        if not passage.highlight:
            continue
        escaped = _tidy_escapes(escape_markdown(passage.highlight))
        bold = f"**{escaped}**"
        if bold in message:
            message = message.replace(bold, f"<mark>{escaped}</mark>", 1)
    if answer.notes:
        message += "\n\n" + "\n\n".join(f"_{escape_markdown(note)}_" for note in answer.notes)
    return message


def _tidy_escapes(markdown: str) -> str:
    """Move the backslash of an escaped numbered-list marker to where Markdown honours it.

    ``escape_markdown`` writes "\\7. Cat Stretch", but a backslash before a digit is not an
    escape in CommonMark, so it would show; "7\\. Cat Stretch" renders as "7. Cat Stretch".
    """
    return re.sub(r"\\(\d+)\.", r"\1\\.", markdown)


def article_markdown(document: StoredDocument, highlights: Sequence[str] = ()) -> str:
    """The whole cleaned article, escaped, with the highlighted sentences marked."""
    text = document.text.replace("\f", "\n")
    cut = len(text) > MAX_ARTICLE_CHARS
    if cut:
        text = text[:MAX_ARTICLE_CHARS].rsplit(" ", 1)[0]
    body = _tidy_escapes(escape_markdown(text.strip()))
    for highlight in highlights:
        escaped = _tidy_escapes(escape_markdown(highlight))
        if escaped and escaped in body:
            body = body.replace(escaped, f"<mark>{escaped}</mark>", 1)
    parts = [f"**{escape_markdown(document.title)}**", f"*Source: {escape_markdown(document.doc_id)}*", body]
    if cut:
        parts.append(f"*(The article continues; the first {MAX_ARTICLE_CHARS:,} characters are shown.)*")
    return "\n\n".join(parts)


def problem_message(text: str) -> Message:
    """An error the person can act on (e.g. the index cannot be used), shown as a reply."""
    return {"role": "assistant", "content": f"**Sorry, I cannot search the articles right now.**\n\n{escape_markdown(text)}"}


def reply_messages(service: ChatService, question: str, *, k: int | None = None) -> list[Message]:
    """The user's message and the replies, for one question (errors become a reply too)."""
    from retrieval.service import ServiceUnavailable

    messages = [question_message(question)]
    try:
        answer = service.answer(question, k=k)
    except ServiceUnavailable as problem:
        return [*messages, problem_message(str(problem))]
    return [*messages, *answer_messages(answer, service.document)]


# ------------------------------------------------------------------ Documents tab


def index_summary(service: ChatService) -> str:
    """One Markdown paragraph: what is indexed, or why nothing can be searched."""
    if service.problem:
        return f"**Problem:** {escape_markdown(service.problem)}"
    rows = service.documents()
    chunks = sum(row.chunks for row in rows)
    status = service.status()
    line = f"**{_count(len(rows), 'article')}** indexed in **{_count(chunks, 'passage')}**."
    if status.running:
        line += " An update of the index is running."
    return line


def documents_html(rows: Iterable[DocumentRow]) -> str:
    rows = list(rows)
    if not rows:
        return "<p>No articles are indexed yet.</p>"
    body = "".join(
        "<tr>"
        f"<td>{html.escape(row.title)}</td>"
        f"<td><code>{html.escape(row.doc_id)}</code></td>"
        f"<td>{html.escape(row.kind)}</td>"
        f"<td class='num'>{row.chunks}</td>"
        f"<td>{html.escape(_when(row.indexed_at))}</td>"
        "</tr>"
        for row in rows
    )
    return (
        "<table class='doc-table'><thead><tr><th>Title</th><th>File</th><th>Type</th>"
        f"<th>Passages</th><th>Indexed</th></tr></thead><tbody>{body}</tbody></table>"
    )


def skipped_html(skipped: Iterable[dict[str, str]]) -> str:
    skipped = list(skipped)
    if not skipped:
        return "<p>No files were skipped.</p>"
    body = "".join(
        f"<tr><td><code>{html.escape(item.get('path', ''))}</code></td><td>{html.escape(item.get('reason', ''))}</td></tr>"
        for item in skipped
    )
    return f"<table class='doc-table'><thead><tr><th>File</th><th>Why it was skipped</th></tr></thead><tbody>{body}</tbody></table>"


def _when(stamp: str) -> str:
    """"2025-11-21T02:50:07+0000" -> "2025-11-21 02:50"."""
    return stamp[:16].replace("T", " ") if len(stamp) >= 16 else stamp


def upload_report(saved: Sequence[SavedUpload], rejected: Sequence[str], outcome: BuildOutcome | None) -> str:
    """What happened to an upload, in Markdown: saved (and renamed) files, rejections, rebuild."""
    lines: list[str] = []
    for item in saved:
        name = f"`{_code(item.saved_as)}`"
        if item.versioned:
            lines.append(
                f"- Added {name}: a file named `{_code(item.wanted)}` already exists, so this one was saved as a new version."
            )
        elif item.original != item.saved_as:
            lines.append(f"- Added {name} (renamed from `{_code(item.original)}` to a safe file name).")
        else:
            lines.append(f"- Added {name}.")
    lines.extend(f"- **Not added:** {escape_markdown(reason)}" for reason in rejected)
    if not saved and not rejected:
        lines.append("- Choose one or more .txt, .md, .html, .htm or .pdf files first.")
    lines.append(build_result(outcome))
    return "\n".join(line for line in lines if line)


def removal_report(removed: str | None, problem: str, outcome: BuildOutcome | None) -> str:
    if problem:
        return f"**Not removed:** {escape_markdown(problem)}"
    return f"- Removed `{_code(removed or '')}`.\n{build_result(outcome)}"


def build_result(outcome: BuildOutcome | None) -> str:
    if outcome is None:
        return ""
    if not outcome.ok:
        return (
            f"\n**The index could not be updated**, so the chat keeps using the previous one: "
            f"{escape_markdown(outcome.error)}"
        )
    report = outcome.report
    if report is None or not report.wrote_index:
        return "\nThe index was already up to date."
    return (
        f"\n**Index updated in {outcome.seconds:.1f} s**: {_count(report.documents, 'article')}, "
        f"{_count(report.chunks, 'passage')} ({report.embedded} embedded, {report.reused} reused). The chat uses it now."
    )


def progress_step(status: BuildStatus) -> tuple[tuple[int, int] | float, str]:
    """Arguments for ``gr.Progress``: ((done, total) or 0.0, description)."""
    labels = {
        "waiting": "Waiting for the index",
        "reading": "Reading articles",
        "embedding": "Embedding passages and sentences",
        "loading": "Loading the new index",
    }
    desc = labels.get(status.stage, "Updating the index")
    if status.total:
        return (status.done, status.total), desc
    return 0.0, desc


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _code(text: str) -> str:
    """Text for inside a Markdown code span: backticks cannot end it early."""
    return text.replace("`", "'")
