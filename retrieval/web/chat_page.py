"""The browser chat page: Gradio Blocks with a Chat tab, a Documents tab, the ``/ask`` and
``/chat`` API endpoints, and the article pages (``/article/<file>``).

No ``from __future__ import annotations`` here: Gradio reads the event handlers' annotations
(``gr.LikeData``) at run time to pass event data.

Wiring only: :class:`retrieval.web.service.ChatService` does the work, :mod:`retrieval.web.chat_view`
decides what is shown, :mod:`retrieval.web.conversation` keeps the conversation (and the past ones,
in the browser), :mod:`retrieval.web.documents_tab` is the Documents tab. The page's CSS and
JavaScript are files in ``retrieval/web/assets/`` (``page.css`` goes into ``<head>`` as written).
"""


from functools import cache
from pathlib import Path
from typing import Any

from retrieval.errors import RetrievalError
from retrieval.safety import care
from retrieval.web import chat_view, conversation, feedback
from retrieval.web.documents_tab import documents_tab
from retrieval.web.service import ChatService

ASSETS = Path(__file__).resolve().parent / "assets"
PRIVATE = {"api_visibility": "private"}  # events the page uses, not part of the API


@cache
def asset(name: str) -> str:
    """A file from retrieval/assets/ (the page's CSS and small scripts)."""
    return (ASSETS / name).read_text(encoding="utf-8")


def build_app(service: ChatService) -> Any:
    """The Gradio Blocks for ``service``: a Chat tab, a Documents tab and the ``/ask`` and ``/chat`` API."""
    import gradio as gr

    with gr.Blocks(title="Back and leg pain articles", analytics_enabled=False) as demo:
        gr.Markdown(f"# {chat_view.TITLE}", elem_id="title")
        notice = gr.Markdown(chat_view.notice_markdown(service.settings.locale), elem_classes="notice")
        _chat_tab(service, demo, notice)
        documents_tab(service, demo)
        _api(service)
    return demo


def _chat_tab(service: ChatService, demo: Any, notice: Any) -> None:
    """The conversation: chatbot, question box, and below it (folded away on a phone once a
    question is asked) examples, New conversation, Copy, Settings and past conversations."""
    import gradio as gr

    secret = conversation.storage_secret(service.settings.index_dir)
    conversation_state = gr.State(conversation.new())
    saved_chat = gr.BrowserState(None, storage_key="back-pain-articles-chat", secret=secret)
    saved_history = gr.BrowserState([], storage_key="back-pain-articles-history", secret=secret)
    pending = gr.State("")
    rated = gr.State(0)  # the id of the last rating, for its optional note
    with gr.Tab("Chat"):
        chatbot = gr.Chatbot(
            label="Chat",
            show_label=False,
            height="62vh",
            min_height=360,
            placeholder="**Ask a question about back or leg pain.** Answers are passages from the articles, with their sources.",
            sanitize_html=True,
            allow_tags=False,
            latex_delimiters=[],
            autoscroll=False,
            feedback_options=("Like", "Dislike"),
            buttons=[],
            elem_id="chatbot",
        )
        with gr.Row(visible=False, elem_id="feedback-note") as note_row:
            note = gr.Textbox(label="Thanks. Anything to add? (optional, stays on this computer)", scale=4, max_lines=4)
            send_note = gr.Button("Send note", size="sm", scale=1)
        question = gr.Textbox(
            label="Your question",
            placeholder="Type your question and press Enter",
            show_label=False,
            submit_btn="Ask",
            # No max_length: the browser must not cut a message before triage reads it
            # (an emergency may come at the end of a long one). Only retrieval's copy is
            # shortened, to RETRIEVAL_MAX_QUESTION_CHARS, with a note in the answer.
            elem_id="question",
        )
        options = gr.Button("Examples, settings and past conversations", size="sm", elem_id="options-toggle")
        with gr.Column(elem_id="chat-options"):
            with gr.Row(elem_id="examples"):
                examples = [gr.Button(text, size="sm", variant="secondary") for text in chat_view.EXAMPLE_QUESTIONS]
            with gr.Row(elem_id="chat-buttons"):
                clear = gr.Button("New conversation", size="sm", elem_id="new-conversation")
                copy = gr.Button("Copy the last answer as text", size="sm", elem_id="copy-answer")
                last_text = gr.Textbox(visible=False)
            with gr.Accordion("Settings", open=False, elem_id="settings"):
                with gr.Row():
                    passages = gr.Slider(1, 10, value=service.settings.top_k, step=1, label="Passages per answer", elem_id="passages")
                    region = gr.Dropdown(
                        chat_view.locale_choices(), value=care.normalise_locale(service.settings.locale),
                        label="Where you are (for emergency numbers)", elem_id="region",
                    )
            with gr.Accordion("Your conversations (kept in this browser only)", open=False, elem_id="conversations"):
                past = gr.Radio([], label="Past conversations", elem_id="past-list")
                with gr.Row():
                    open_past = gr.Button("Open", size="sm", elem_id="open-conversation")
                    delete_past = gr.Button("Delete", size="sm", elem_id="delete-conversation")
                    delete_all = gr.Button("Delete all conversations", size="sm", variant="stop", elem_id="delete-all")
        api_trigger = gr.Button(visible=False)  # carries the /chat API (history in, history out)

    # ---------------------------------------------------------------- chat

    def show_question(text: str, chat: conversation.Conversation) -> tuple[Any, ...]:
        if not text or not text.strip():
            return gr.skip(), "", "", chat
        chat = conversation.with_question(chat, text)
        return conversation.shown_messages(chat), "", text, chat

    def show_answer(text: str, chat: conversation.Conversation, k: float, locale: str) -> tuple[Any, ...]:
        if not text:
            return gr.skip(), chat, gr.skip()
        chat = conversation.with_answer(service, chat, text, k=int(k), locale=locale)
        return conversation.shown_messages(chat), chat, conversation.last_text(chat)

    def restore_chat(saved: Any, history: Any) -> tuple[Any, ...]:
        chat = conversation.valid(saved)
        history = conversation.valid_history(history)
        return conversation.shown_messages(chat), chat, conversation.last_text(chat), gr.Radio(conversation.history_choices(history))

    def shown(chat: conversation.Conversation, history: conversation.History) -> tuple[Any, ...]:
        """Outputs after the conversation on screen or the list changed (``chat_outputs``)."""
        choices = gr.Radio(choices=conversation.history_choices(history), value=None)
        return conversation.shown_messages(chat), chat, chat, conversation.last_text(chat), gr.Row(visible=False), history, choices

    def new_chat(chat: conversation.Conversation, history: Any) -> tuple[Any, ...]:
        return shown(conversation.new(), conversation.archived(conversation.valid_history(history), chat))

    def open_chat(chat: conversation.Conversation, history: Any, chat_id: str | None) -> tuple[Any, ...]:
        history, chat = conversation.opened(conversation.valid_history(history), chat_id, chat)
        return shown(chat, history)

    def delete_chat(chat: conversation.Conversation, history: Any, chat_id: str | None) -> tuple[Any, ...]:
        return shown(chat, conversation.deleted(conversation.valid_history(history), chat_id))

    def delete_everything() -> tuple[Any, ...]:
        return shown(conversation.new(), [])

    def rate(chat: conversation.Conversation, data: gr.LikeData) -> tuple[Any, ...]:
        turn = conversation.turn_of_reply(chat, data.index if isinstance(data.index, int) else data.index[0])
        if turn is None or not isinstance(data.liked, bool) or turn.get("card") == "emergency":
            return gr.Row(visible=False), 0  # no feedback on an emergency or crisis card
        item = feedback.Feedback(
            question=turn["question"],
            answered_as=turn["asked"],
            rating="helpful" if data.liked else "not helpful",
            sources=", ".join(turn["sources"]),
        )
        return gr.Row(visible=True), feedback.record(service.feedback_file, item)

    def save_note(text: str, feedback_id: int) -> tuple[Any, ...]:
        if feedback_id and text.strip():
            feedback.add_note(service.feedback_file, feedback_id, text)
        return "", gr.Row(visible=False), 0

    def respond(text: str, history: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
        if not text or not text.strip():
            return history, ""
        return [*(history or []), *chat_view.reply_messages(service, text)], ""

    def wire_turn(trigger: Any, text: Any) -> None:
        """Show the question at once, then the answer, then scroll to it and save the chat
        in the browser (after the answer is on screen, so saving never delays it)."""
        trigger(
            show_question, [text, conversation_state], [chatbot, question, pending, conversation_state], queue=False, **PRIVATE
        ).then(
            show_answer, [pending, conversation_state, passages, region], [chatbot, conversation_state, last_text], **PRIVATE
        ).then(None, js=asset("scroll_to_answer.js")).then(lambda chat: chat, [conversation_state], [saved_chat], queue=False, **PRIVATE)

    wire_turn(question.submit, question)
    region.change(chat_view.notice_markdown, [region], [notice], queue=False, **PRIVATE)
    for button in examples:
        wire_turn(button.click, button)
    chat_outputs = [chatbot, conversation_state, saved_chat, last_text, note_row, saved_history, past]
    restart = "() => { document.body.classList.remove('asked', 'show-options'); }"
    clear.click(new_chat, [conversation_state, saved_history], chat_outputs, queue=False, **PRIVATE).then(None, js=restart)
    chatbot.clear(new_chat, [conversation_state, saved_history], chat_outputs, queue=False, **PRIVATE).then(None, js=restart)
    open_past.click(open_chat, [conversation_state, saved_history, past], chat_outputs, queue=False, **PRIVATE).then(
        None, js=asset("scroll_to_answer.js")
    )
    delete_past.click(delete_chat, [conversation_state, saved_history, past], chat_outputs, queue=False, **PRIVATE)
    delete_all.click(delete_everything, None, chat_outputs, queue=False, **PRIVATE).then(None, js=restart)
    options.click(None, js="() => { document.body.classList.toggle('show-options'); }")
    copy.click(None, [last_text], [last_text], js=asset("copy_last.js"))
    chatbot.like(rate, [conversation_state], [note_row, rated], **PRIVATE)
    send_note.click(save_note, [note, rated], [note, note_row, rated], **PRIVATE)
    note.submit(save_note, [note, rated], [note, note_row, rated], **PRIVATE)
    api_trigger.click(respond, [question, chatbot], [chatbot, question], api_name="chat")
    demo.load(restore_chat, [saved_chat, saved_history], [chatbot, conversation_state, last_text, past], **PRIVATE).then(
        None, js="() => { if (document.querySelector('#chatbot .bot-row')) document.body.classList.add('asked'); }"
    )


def _api(service: ChatService) -> None:
    import gradio as gr

    def ask(question: str, k: int | None = None) -> dict[str, Any]:
        """Answer a question with passages from the articles: the same JSON as
        `python -m retrieval ask --json` (query, passages, disclaimer, message, triage, ...).
        k is the number of passages, a whole number from 1 to 20 (default 3)."""
        try:
            return service.ask_json(question, k=k)
        except RetrievalError as error:
            raise gr.Error(str(error)) from None

    gr.api(ask, api_name="ask")


def article_routes(service: ChatService) -> list[Any]:
    """``GET /article/<file>?passage=<n>&hl=<sentence>``: an article as a page, open at a passage."""
    from fastapi.responses import HTMLResponse
    from fastapi.routing import APIRoute

    from retrieval.web import article_page

    def article(doc_id: str, passage: str = "", hl: str = "") -> HTMLResponse:
        document = service.document(doc_id)
        if document is None:
            return HTMLResponse(article_page.not_found_html(doc_id), status_code=404)
        retriever = service.retriever
        chunk = retriever.chunk(f"{doc_id}#{passage}") if retriever is not None and passage else None
        from retrieval.safety import disclaimer

        return HTMLResponse(article_page.article_html(document, chunk, hl[:2000], disclaimer=disclaimer(service.settings.locale)))

    return [APIRoute(article_page.ROUTE, article, methods=["GET"], response_class=HTMLResponse)]
