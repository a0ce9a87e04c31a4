"""What the browser chat shows: the notice, the question and the answer, as text.

Everything here returns plain strings and dicts (Gradio's ``{"role", "content", "metadata"}``
messages), so it is tested without a browser. Text that comes from a document or a question
is escaped before it is put into Markdown (:func:`escape_markdown`) or HTML
(:func:`html.escape`): a ``<script>``, an ``<img onerror>`` or a ``javascript:`` link inside an
article is shown as the characters it is made of. The only markup added here is our own: the
care card's box, ``tel:`` links on the numbers to call, and each passage as a ``<details>`` that
shows its title, highlighted sentence and source, and opens in place.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from retrieval.answer import escape_markdown

if TYPE_CHECKING:
    from retrieval.answer import Answer
    from retrieval.search import Passage
    from retrieval.web.service import ChatService

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
    ).replace(place.advice_line, tel_links(place.advice_line)).replace(
        f"call {place.emergency_number}.", f"call {tel_links(place.emergency_number)}."
    )


# The numbers a person may need to call, wherever our own wording names them: emergency (999,
# 911, 112), same-day advice (NHS 111), crisis lines (Samaritans 116 123, US 988). As tel: links,
# a phone dials them with one tap (the NHS care-card pattern).
_PHONE_NUMBER = re.compile(r"(?<![\w-])(999|911|112|111|116 123|988)(?![\w-])")


def tel_links(markdown: str) -> str:
    """Our own Markdown with each number to call as a ``tel:`` link.

    >>> tel_links("call **999** or NHS 111")
    'call **[999](tel:999)** or NHS [111](tel:111)'
    """
    return _PHONE_NUMBER.sub(lambda m: f"[{m[1]}](tel:{m[1].replace(' ', '')})", markdown)


def locale_choices() -> list[tuple[str, str]]:
    """(label, code) for the page's "Where you are" setting."""
    from retrieval.safety import LOCALES

    names = {"uk": "United Kingdom", "us": "United States", "eu": "European Union"}
    return [(f"{names.get(code, code.upper())} (emergency: {place.emergency_number})", code) for code, place in LOCALES.items()]


def question_message(question: str) -> Message:
    """The user's question as typed, shown literally (no Markdown, no HTML)."""
    return {"role": "user", "content": escape_markdown(question.strip())}


def answer_messages(answer: Answer, *, joined_to: str = "") -> list[Message]:
    """The reply as one chat message (see :func:`answer_markdown`)."""
    return [{"role": "assistant", "content": answer_markdown(answer, joined_to=joined_to)}]


def card_kind(answer: Answer) -> str:
    """"emergency" (emergencies and crises: no passages, no feedback buttons), "urgent" or ""."""
    if not answer.care_card:
        return ""
    return "emergency" if answer.triage.level == "emergency" or answer.triage.crisis else "urgent"


def answer_markdown(answer: Answer, *, joined_to: str = "") -> str:
    """The chat's Markdown for one answer, in the order a worried reader needs it.

    A follow-up answered together with an earlier question says which. Then the care card in
    a coloured box (``care-card``, its numbers as ``tel:`` links, no other link), the reply,
    "In short" (the best sentences, word for word, with their passage numbers), the passages
    (each folded to its title, highlighted sentence and source; loose matches behind "More
    passages"), the safety net, any notes, and the one-line disclaimer last (the full notice
    stays at the top of the page).
    """
    from retrieval.answer import in_short_markdown, passages_intro
    from retrieval.safety import chat_disclaimer

    parts: list[str] = []
    if joined_to:
        parts.append(f"*Answered as a follow-up to your question “{escape_markdown(joined_to)}”*")
    if answer.care_card:
        parts.append(f'<div class="care-card {card_kind(answer)}" role="alert">\n\n{tel_links(answer.care_card)}\n\n</div>')
    if answer.body:
        parts.append(_tidy_escapes(answer.body))
    if answer.passages:
        if answer.in_short:
            parts.append(_tidy_escapes(in_short_markdown(answer.in_short)))
        parts.append(passages_intro(bool(answer.care_card)))
        close = [(n, p) for n, p in enumerate(answer.passages, 1) if n not in answer.loose]
        loose = [(n, p) for n, p in enumerate(answer.passages, 1) if n in answer.loose]
        parts.extend(passage_details(n, p) for n, p in close)
        if loose:
            inner = "\n\n".join(passage_details(n, p) for n, p in loose)
            label = f"More passages: {len(loose)} that match your question only loosely"
            parts.append(f'<details class="more-passages"><summary>{label}</summary>\n\n{inner}\n\n</details>')
    if answer.safety_net_text:
        parts.append(f"**{tel_links(answer.safety_net_text)}**")
    parts.extend(f"_{escape_markdown(note)}_" for note in answer.notes)
    parts.append(f"*{tel_links(chat_disclaimer(answer.locale))}*")
    return "\n\n".join(parts)


def passage_details(number: int, passage: Passage) -> str:
    """One passage, folded: its number and title, the highlighted sentence and the source show;
    the whole passage (highlight marked), how closely it matches and the link to it in its
    article open in place. The summary is HTML (escaped), the body Markdown (escaped)."""
    from retrieval.answer import passage_markdown, source_label
    from retrieval.web.article_page import article_link

    chunk = passage.chunk
    title = f"{number}. {chunk.title}" + (f" · {chunk.section}" if chunk.section else "")
    sentence = f'<span class="folded"><br><mark>{html.escape(passage.highlight)}</mark></span>' if passage.highlight else ""
    summary = (
        f'<strong class="passage-title">{html.escape(title)}</strong>{sentence}'
        f'<br><span class="source">Source: {html.escape(source_label(passage))}</span>'
    )
    body = _tidy_escapes(passage_markdown(number, passage)).split("\n\n", 1)[1]  # without its heading line
    if passage.highlight:
        escaped = _tidy_escapes(escape_markdown(passage.highlight))
        body = body.replace(f"**{escaped}**", f"<mark>{escaped}</mark>", 1)
    body = body.rsplit("\n\n", 1)[0]  # the source is in the summary
    link = f"{match_label(passage.dense_score).capitalize()} · [Read it in the article]({article_link(passage)})"
    return f'<details class="passage"><summary>{summary}</summary>\n\n{body}\n\n{link}\n\n</details>'


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
