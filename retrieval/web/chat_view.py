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
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from retrieval.answer import escape_markdown

if TYPE_CHECKING:
    from retrieval.answer import Answer
    from retrieval.web.feedback import Feedback
    from retrieval.web.rebuilds import BuildOutcome, BuildStatus
    from retrieval.web.service import ChatService, DocumentRow
    from retrieval.web.uploads import SavedUpload

Message = dict[str, Any]

TITLE = "Back and leg pain: passages from health articles"
EXAMPLE_QUESTIONS = (
    "How should I sleep with low back pain?",
    "Is heat or ice better for a sore back?",
    "What stretches help sciatica?",
    "Why does my lower back hurt after working out my legs?",
)


def notice_markdown(locale: str = "uk") -> str:
    """The always-visible notice: what the assistant is and is not, and who to call."""
    from retrieval.safety import LOCALES, normalise_locale

    place = LOCALES[normalise_locale(locale)]
    return (
        "**What this is:** a search assistant. It finds the passages in its library of health articles "
        "about back and leg pain that best match your question, and shows where each one comes from. "
        "**What it is not:** a doctor. It does not diagnose, prescribe or give personal advice. "
        f"If you are worried, contact {place.advice_line}. "
        f"**In an emergency, call {place.emergency_number}.**"
    )


def locale_choices() -> list[tuple[str, str]]:
    """(label, code) for the page's "Where you are" setting."""
    from retrieval.safety import LOCALES

    names = {"uk": "United Kingdom", "us": "United States", "eu": "European Union"}
    return [(f"{names.get(code, code.upper())} (emergency: {place.emergency_number})", code) for code, place in LOCALES.items()]


def question_message(question: str) -> Message:
    """The user's question as typed, shown literally (no Markdown, no HTML)."""
    return {"role": "user", "content": escape_markdown(question.strip())}


def answer_messages(answer: Answer, *, asked: str = "") -> list[Message]:
    """The reply as one chat message (see :func:`answer_markdown`)."""
    return [{"role": "assistant", "content": answer_markdown(answer, asked=asked)}]


def answer_markdown(answer: Answer, *, asked: str = "") -> str:
    """The chat's Markdown for one answer, in the order a worried reader needs it.

    A follow-up answered together with the previous question says so first. Then the care
    card in a coloured box (``care-card``), the reply or the passages (each highlighted
    sentence in ``<mark>``, each source linked to the passage in its article), the safety net,
    any notes, and the one-line disclaimer last (the full notice stays at the top of the page).
    """
    from retrieval.answer import passage_markdown, passages_intro
    from retrieval.safety import chat_disclaimer
    from retrieval.web.article_page import article_link

    parts: list[str] = []
    if asked:
        parts.append(f"*Answered as a follow-up to your last question: “{escape_markdown(asked)}”*")
    if answer.care_card:
        parts.append(f'<div class="care-card" role="alert">\n\n{answer.care_card}\n\n</div>')
    if answer.body:
        parts.append(_tidy_escapes(answer.body))
    if answer.passages:
        parts.append(passages_intro(bool(answer.care_card)))
    for number, passage in enumerate(answer.passages, 1):
        text = _tidy_escapes(passage_markdown(number, passage))
        if passage.highlight:
            escaped = _tidy_escapes(escape_markdown(passage.highlight))
            text = text.replace(f"**{escaped}**", f"<mark>{escaped}</mark>", 1)
        parts.append(f"{text} · {match_label(passage.dense_score)} · [Read it in the article]({article_link(passage)})")
    if answer.safety_net_text:
        parts.append(f"**{answer.safety_net_text}**")
    parts.extend(f"_{escape_markdown(note)}_" for note in answer.notes)
    parts.append(f"*{chat_disclaimer(answer.locale)}*")
    return "\n\n".join(parts)


# How closely a passage matches the question, from its cosine similarity. 0.40 is the
# "not covered" threshold (coverage.DENSE_THRESHOLD); at 0.45 it declines 88% of off-topic
# questions (EVALUATION.md, "Not covered"), so a passage well above it is a close match.
MATCH_LEVELS = ((0.55, "close match"), (0.40, "partial match"), (-1.0, "loose match"))


def match_label(similarity: float) -> str:
    """A visible sign of how well a passage matches: "close match", "partial match" or "loose match"."""
    return next(label for floor, label in MATCH_LEVELS if similarity >= floor)


def plain_text(question: str, answer: Answer, *, asked: str = "") -> str:
    """What "Copy" puts on the clipboard: the question, the answer with sources, the disclaimer."""
    from retrieval.answer import render_text

    lines = [f"Question: {question.strip()}"]
    if asked:
        lines.append(f"(answered as: {asked})")
    return "\n".join(lines) + "\n\n" + render_text(answer, color=False, scores=False, own_markdown=markdown_to_plain)


def markdown_to_plain(text: str) -> str:
    """Our own Markdown (cards, declines) as plain text: no ``**``, ``*``/``_`` or escapes.

    >>> markdown_to_plain("**Call 999** if:\\n\\n- you \\*can't\\* pee\\n\\n*Not advice.*")
    "Call 999 if:\\n\\n- you *can't* pee\\n\\nNot advice."
    """
    text = re.sub(r"(?<!\\)\*\*(.+?)\*\*", r"\1", text, flags=re.S)
    text = re.sub(r"(?m)(^|\s)[*_](?=\S)(.+?)(?<=\S)(?<!\\)[*_](?=$|[\s.,;:!?])", r"\1\2", text)
    return re.sub(r"\\([\\`*_{}\[\]()<>#+!|~=^$&.-])", r"\1", text)


def _tidy_escapes(markdown: str) -> str:
    """Move the backslash of an escaped numbered-list marker to where Markdown honours it.

    ``escape_markdown`` writes "\\7. Cat Stretch", but a backslash before a digit is not an
    escape in CommonMark, so it would show; "7\\. Cat Stretch" renders as "7. Cat Stretch".
    """
    return re.sub(r"\\(\d+)\.", r"\1\\.", markdown)


def problem_message(text: str) -> Message:
    """An error the person can act on (e.g. the index cannot be used), shown as a reply."""
    return {"role": "assistant", "content": f"**Sorry, I cannot search the articles right now.**\n\n{escape_markdown(text)}"}


def reply_messages(service: ChatService, question: str, *, k: int | None = None) -> list[Message]:
    """The user's message and the reply, for one question on its own (errors become a reply too)."""
    from retrieval.web.service import ServiceUnavailable

    messages = [question_message(question)]
    try:
        answer = service.answer(question, k=k)
    except ServiceUnavailable as problem:
        return [*messages, problem_message(str(problem))]
    return [*messages, *answer_messages(answer)]


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
        f"<tr><td><code>{html.escape(item.get('path', ''))}</code></td><td>{html.escape(item.get('reason', ''))}</td></tr>"
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
    lines.extend(f"- **Not added:** {escape_markdown(reason)}" for reason in rejected)
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
