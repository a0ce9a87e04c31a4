"""One browser conversation as plain JSON: what the chat shows and what each answer was.

The page keeps it server-side for the session (``gr.State``), so a turn sends only the new
question, never the history; and in the browser's local storage (``gr.BrowserState``), so the
chat survives a reload. Shape::

    {"messages": [chat messages], "turns": [{"question", "asked", "joined_to", "reply", "sources", "text"}]}

``turns[i]["reply"]`` is the index in ``messages`` of turn i's answer (what a like refers to),
``text`` its plain-text form (what Copy copies), ``card`` "emergency" when it was an emergency
or crisis card (no feedback is taken on those).

Past conversations are kept in the browser's local storage too, newest first, as a list of
``{"id", "title", "saved", "chat"}`` (:func:`archived`): the page lists them, opens one, deletes
one, or deletes them all at once.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval.answer import Turn, answer_turn
from retrieval.web import chat_view

if TYPE_CHECKING:
    from retrieval.web.service import ChatService

Conversation = dict[str, Any]
SHOWN_TURNS = 5  # the chat shows the latest questions (Gradio re-draws every shown message on each update)
HIDDEN_NOTE = {
    "role": "assistant",
    "content": "*Earlier questions in this conversation are not shown, to keep the chat quick. "
    "Press “New conversation” to start afresh.*",
}


MAX_SAVED = 20  # past conversations kept in the browser (each is a few kB per question)


def new() -> Conversation:
    return {"messages": [], "turns": [], "id": uuid.uuid4().hex[:12]}


def valid(saved: Any) -> Conversation:
    """A conversation read back from the browser, or a new one if it is not one of ours."""
    if not isinstance(saved, dict) or not isinstance(saved.get("messages"), list) or not isinstance(saved.get("turns"), list):
        return new()
    messages = [m for m in saved["messages"] if isinstance(m, dict) and m.get("role") in ("user", "assistant")]
    if len(messages) != len(saved["messages"]):
        return new()
    chat_id = saved.get("id") if isinstance(saved.get("id"), str) and saved.get("id") else uuid.uuid4().hex[:12]
    return {"messages": messages, "turns": [t for t in saved["turns"] if isinstance(t, dict)], "id": chat_id}


def with_question(conversation: Conversation, question: str) -> Conversation:
    """The conversation with the user's message shown (before the answer arrives)."""
    return {**conversation, "messages": [*conversation["messages"], chat_view.question_message(question)]}


def with_answer(
    service: ChatService, conversation: Conversation, question: str, *, k: int | None = None, locale: str | None = None
) -> Conversation:
    """Answer ``question`` (already shown by :func:`with_question`) as the next turn."""
    from retrieval.web.service import ServiceUnavailable

    turns = conversation["turns"]
    previous = previous_turn(turns[-1]) if turns else None
    messages = list(conversation["messages"])
    try:
        turn, answer = answer_turn(lambda text: service.answer(text, k=k, locale=locale), question, previous)
    except ServiceUnavailable as problem:
        return {**conversation, "messages": [*messages, chat_view.problem_message(str(problem))]}
    asked = turn.asked if turn.is_follow_up else ""
    messages.extend(chat_view.answer_messages(answer, joined_to=turn.joined_to))
    record = {
        "question": turn.question,
        "asked": turn.asked,
        "joined_to": turn.joined_to,
        "card": chat_view.card_kind(answer),  # "emergency": no feedback is asked for or stored
        "reply": len(messages) - 1,
        "sources": sorted({p.chunk.doc_id for p in answer.passages}),
        "text": chat_view.plain_text(question, answer, asked=asked),
    }
    return {**conversation, "messages": messages, "turns": [*turns, record]}


def previous_turn(record: dict[str, Any]) -> Turn:
    """A saved turn as the follow-up rule reads it. A turn saved before ``joined_to`` was kept
    (issue #28) and answered joined has its subject at the start of ``asked``."""
    question, asked = str(record.get("question", "")), str(record.get("asked", ""))
    joined_to = str(record.get("joined_to", ""))
    if not joined_to and asked != question and asked.endswith(question):
        joined_to = asked[: -len(question)].strip()
    return Turn(question, asked, joined_to)


def shown_messages(conversation: Conversation, limit: int = SHOWN_TURNS) -> list[dict[str, Any]]:
    """What the chat shows: the messages of the latest ``limit`` questions, after a note when
    earlier ones are hidden. The page re-draws every shown message on each turn, so showing a
    bounded number keeps turn 30 as quick as turn 1."""
    start = _first_shown(conversation, limit)
    messages = conversation["messages"][start:]
    return [HIDDEN_NOTE, *messages] if start else list(messages)


def _first_shown(conversation: Conversation, limit: int) -> int:
    questions = [i for i, m in enumerate(conversation["messages"]) if m.get("role") == "user"]
    return questions[-limit] if len(questions) > limit else 0


def turn_of_reply(conversation: Conversation, shown_index: int, limit: int = SHOWN_TURNS) -> dict[str, Any] | None:
    """The turn whose answer is ``shown_messages(conversation)[shown_index]`` (for feedback on it)."""
    start = _first_shown(conversation, limit)
    if start and shown_index == 0:
        return None  # the "earlier questions are not shown" note
    index = shown_index + start - (1 if start else 0)
    return next((t for t in conversation["turns"] if t.get("reply") == index), None)


def last_text(conversation: Conversation) -> str:
    turns = conversation["turns"]
    return str(turns[-1]["text"]) if turns else ""


# ---------------------------------------------------------------- past conversations

History = list[dict[str, Any]]


def valid_history(saved: Any) -> History:
    """The past conversations read back from the browser (anything not ours is left out)."""
    if not isinstance(saved, list):
        return []
    entries = [e for e in saved if isinstance(e, dict) and isinstance(e.get("id"), str) and isinstance(e.get("chat"), dict)]
    return [{**e, "chat": valid(e["chat"])} for e in entries][:MAX_SAVED]


def archived(history: History, chat: Conversation) -> History:
    """``history`` with ``chat`` at the front (replacing an older copy of it); an empty chat is not kept."""
    rest = [e for e in history if e["id"] != chat.get("id")]
    if not chat.get("turns"):
        return rest
    title = str(chat["turns"][0].get("question", "")).strip()
    entry = {"id": chat["id"], "title": title[:80] + ("…" if len(title) > 80 else ""),
             "saved": time.strftime("%Y-%m-%d %H:%M", time.localtime()), "chat": chat}
    return [entry, *rest][:MAX_SAVED]


def history_choices(history: History) -> list[tuple[str, str]]:
    """(label, id) for the list of past conversations: the first question, how many, when."""
    return [(f"{e['title']} ({len(e['chat']['turns'])} question{'s' if len(e['chat']['turns']) != 1 else ''}, {e['saved']})", e["id"])
            for e in history]


def opened(history: History, chat_id: str | None, current: Conversation) -> tuple[History, Conversation]:
    """Open past conversation ``chat_id``: the one on screen goes into the list, the chosen one
    comes out of it (unchanged when ``chat_id`` is not in the list)."""
    chosen = next((e["chat"] for e in history if e["id"] == chat_id), None)
    if chosen is None:
        return history, current
    return [e for e in archived(history, current) if e["id"] != chat_id], chosen


def deleted(history: History, chat_id: str | None) -> History:
    return [e for e in history if e["id"] != chat_id]


def storage_secret(index_dir: Path) -> str:
    """The key that encrypts the chat saved in the browser, kept in ``index/app-data/`` so a
    saved chat can still be read after the app restarts (a new random key if it cannot be kept)."""
    import secrets

    path = Path(index_dir) / "app-data" / "browser-key"
    try:
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 16:
            return key
    except (OSError, UnicodeDecodeError):
        pass
    key = secrets.token_urlsafe(24)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(key, encoding="ascii")
    except OSError:
        pass  # the chat is still saved, but only until the app restarts
    return key
