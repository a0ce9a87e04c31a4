"""What the Documents tab shows, as text: the library, skipped files, feedback, and the result of
adding, removing or restoring articles, in plain words (no library jargon).

Everything returns plain strings (Markdown or HTML), so it is tested without a browser. File
names, titles and reasons are escaped (:func:`html.escape`, :func:`escape_markdown`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from retrieval.answer import escape_markdown

if TYPE_CHECKING:
    from retrieval.web.feedback import Feedback
    from retrieval.web.rebuilds import BuildOutcome, BuildStatus
    from retrieval.web.service import ChatService, DocumentRow
    from retrieval.web.uploads import SavedUpload

def index_summary(service: ChatService) -> str:
    """One Markdown paragraph: what is indexed, or why nothing can be searched."""
    if service.problem:
        return f"**Problem:** {escape_markdown(service.problem)}"
    rows = service.documents()
    chunks = sum(row.chunks for row in rows)
    # Counts only: whether an update runs, and how it ended, is said in one place, the status
    # beside the upload box (it once said "running" here while the result below said "finished").
    return f"**{_count(len(rows), 'article')}** indexed in **{_count(chunks, 'passage')}**."


API_NOTE = (
    "**For developers:** every answer is also available as JSON from this app's `/ask` API, the same as "
    "`python -m retrieval ask --json`. The README has examples; [the list of endpoints](gradio_api/info) "
    "describes their inputs, and the button below shows how to call them."
)
# Opens Gradio's API page: its footer button is hidden from patients (page.css), not removed.
SHOW_API_PAGE = "() => { const b = document.querySelector('footer .show-api'); if (b) b.click(); }"


# Library words in a reason, and what a person needs to hear instead ("" drops them).
_PLAIN_WORDS = (
    (re.compile(r"\s*\((?:malformed PDF|[A-Za-z]*Error)\b[^)]*\)"), ""),
    (re.compile(r"binary file \(contains NUL bytes\), not text"), "it is not a text file"),
    (re.compile(r"not valid UTF-8 and the text encoding could not be recognised"),
     "its characters could not be read; save it again as UTF-8 text and upload that copy"),
    (re.compile(r"invalid [\w-]+ text after its byte-order mark"),
     "its characters could not be read; save it again as UTF-8 text and upload that copy"),
    (re.compile(r"PDF has no text layer \(scanned pages\?\); run OCR on it first"),
     "this PDF holds pictures of pages, not text (a scan?); make a PDF with text in it and upload that"),
    (re.compile(r"encrypted PDF that (?:needs a password|cannot be opened); save an unlocked copy"),
     "this PDF is locked; save a copy without a password and upload that"),
)


def plain_reason(reason: str) -> str:
    """A reason a file was not added, in plain words.

    >>> plain_reason("'a.pdf' cannot be indexed: this file is damaged (malformed PDF: Stream has ended unexpectedly)")
    "'a.pdf' cannot be indexed: this file is damaged"
    """
    for pattern, plain in _PLAIN_WORDS:
        reason = pattern.sub(plain, reason)
    return reason.strip()


def documents_html(rows: Iterable[DocumentRow]) -> str:
    """The library as a table; on a phone only Title and Indexed show (the ``wide`` columns hide)."""
    rows = list(rows)
    if not rows:
        return "<p>No articles are indexed yet.</p>"
    body = "".join(
        "<tr>"
        f"<td>{html.escape(row.title)}</td>"
        f"<td class='wide'><code>{html.escape(row.doc_id)}</code></td>"
        f"<td class='wide'>{html.escape(row.kind)}</td>"
        f"<td class='num wide'>{row.chunks}</td>"
        f"<td>{html.escape(_when(row.indexed_at))}</td>"
        "</tr>"
        for row in rows
    )
    return (
        "<div class='doc-wrap'><table class='doc-table'><thead><tr><th>Title</th><th class='wide'>File</th>"
        f"<th class='wide'>Type</th><th class='wide'>Passages</th><th>Indexed</th></tr></thead><tbody>{body}</tbody></table></div>"
    )


def feedback_html(items: Iterable[Feedback], limit: int = 50) -> str:
    """The latest ratings people gave answers (stored on this machine only)."""
    items = list(items)
    if not items:
        return "<p>No feedback yet. People rate answers with the thumbs under each one.</p>"
    helpful = sum(item.rating == "helpful" for item in items)
    body = "".join(
        "<tr>"
        f"<td>{html.escape(_when(item.created_at.replace('Z', '')))}</td>"
        f"<td>{html.escape(item.rating)}</td>"
        f"<td>{html.escape(item.question)}</td>"
        f"<td class='wide'>{html.escape(item.note)}</td>"
        "</tr>"
        for item in items[:limit]
    )
    return (
        f"<p>{helpful} of {len(items)} answers rated helpful. Export it all with "
        "<code>python -m retrieval feedback</code>.</p>"
        "<div class='doc-wrap'><table class='doc-table'><thead><tr><th>When (UTC)</th><th>Rating</th><th>Question</th>"
        f"<th class='wide'>Note</th></tr></thead><tbody>{body}</tbody></table></div>"
    )


def skipped_html(skipped: Iterable[dict[str, str]]) -> str:
    skipped = list(skipped)
    if not skipped:
        return "<p>No files were skipped.</p>"
    body = "".join(
        f"<tr><td><code>{html.escape(item.get('path', ''))}</code></td><td>{html.escape(plain_reason(item.get('reason', '')))}</td></tr>"
        for item in skipped
    )
    return f"<div class='doc-wrap'><table class='doc-table'><thead><tr><th>File</th><th>Why it was skipped</th></tr></thead><tbody>{body}</tbody></table></div>"


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
    lines.extend(f"- **Not added:** {escape_markdown(plain_reason(reason))}" for reason in rejected)
    if not saved and not rejected:
        lines.append("- Choose one or more .txt, .md, .html, .htm or .pdf files first.")
    lines.append(build_result(outcome))
    return "\n".join(line for line in lines if line)


def removal_report(removed: str | None, problem: str, outcome: BuildOutcome | None) -> str:
    if problem:
        return f"**Not removed:** {escape_markdown(problem)}"
    return f"- Moved `{_code(removed or '')}` to the trash (restore it below if that was a mistake).\n{build_result(outcome)}"


def restore_report(restored: str | None, problem: str, outcome: BuildOutcome | None) -> str:
    if problem:
        return f"**Not restored:** {escape_markdown(problem)}"
    return f"- Restored `{_code(restored or '')}`.\n{build_result(outcome)}"


def build_result(outcome: BuildOutcome | None, *, changed: bool = True) -> str:
    """How the update of the index ended. ``changed``: the action changed the articles folder, so
    an update that found nothing to do means another one (the folder watcher's) already did it."""
    if outcome is None:
        return ""
    if not outcome.ok:
        return (
            f"\n**The index could not be updated**, so the chat keeps using the previous one: "
            f"{escape_markdown(plain_reason(outcome.error))}"
        )
    report = outcome.report
    if report is None:
        return "\nThe index was already up to date."
    totals = f"{_count(report.documents, 'article')}, {_count(report.chunks, 'passage')}"
    if not report.wrote_index:
        return f"\n**Index updated**: {totals}. The chat uses it now." if changed else "\nThe index was already up to date."
    return (
        f"\n**Index updated in {outcome.seconds:.1f} s**: {totals} "
        f"({report.embedded} new, {report.reused} unchanged). The chat uses it now."
    )


def progress_step(status: BuildStatus) -> tuple[tuple[int, int] | float, str]:
    """Arguments for ``gr.Progress``: ((done, total) or 0.0, description)."""
    labels = {
        "waiting": "Waiting for the index",
        "reading": "Reading articles",
        "embedding": "Embedding passages",
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
