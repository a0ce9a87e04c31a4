"""The browser chat page: Gradio Blocks with a Chat tab, a Documents tab, the ``/ask`` and
``/chat`` API endpoints, and the article pages (``/article/<file>``).

No ``from __future__ import annotations`` here: Gradio reads the event handlers' annotations
(``gr.LikeData``) at run time to pass event data.

Wiring only: :class:`retrieval.web.service.ChatService` does the work, :mod:`retrieval.web.chat_view`
decides what is shown, :mod:`retrieval.web.conversation` keeps the conversation. The page's CSS and
JavaScript are files in ``retrieval/assets/``.
"""


from functools import cache
from pathlib import Path
from typing import Any

from retrieval.errors import RetrievalError
from retrieval.safety import care
from retrieval.web import chat_view, conversation, feedback
from retrieval.web.service import ChatService
from retrieval.web.settings import AdminDenied, AppSettings
from retrieval.web.uploads import UploadRejected

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
        _documents_tab(service, demo)
        _api(service)
    return demo


def _chat_tab(service: ChatService, demo: Any, notice: Any) -> None:
    """The conversation: chatbot, question box, examples, copy, feedback, settings."""
    import gradio as gr

    conversation_state = gr.State(conversation.new())
    saved_chat = gr.BrowserState(
        None, storage_key="back-pain-articles-chat", secret=conversation.storage_secret(service.settings.index_dir)
    )
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
        with gr.Row(elem_id="examples"):
            examples = [gr.Button(text, size="sm", variant="secondary") for text in chat_view.EXAMPLE_QUESTIONS]
        with gr.Row():
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

    def restore_chat(saved: Any) -> tuple[Any, ...]:
        chat = conversation.valid(saved)
        return conversation.shown_messages(chat), chat, conversation.last_text(chat)

    def clear_chat() -> tuple[Any, ...]:
        chat = conversation.new()
        return chat["messages"], chat, chat, "", gr.Row(visible=False)

    def rate(chat: conversation.Conversation, data: gr.LikeData) -> tuple[Any, ...]:
        turn = conversation.turn_of_reply(chat, data.index if isinstance(data.index, int) else data.index[0])
        if turn is None or not isinstance(data.liked, bool):
            return gr.Row(visible=False), 0
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
    clear_outputs = [chatbot, conversation_state, saved_chat, last_text, note_row]
    clear.click(clear_chat, None, clear_outputs, queue=False, **PRIVATE)
    chatbot.clear(clear_chat, None, clear_outputs, queue=False, **PRIVATE)  # its own bin icon
    copy.click(None, [last_text], [last_text], js=asset("copy_last.js"))
    chatbot.like(rate, [conversation_state], [note_row, rated], **PRIVATE)
    send_note.click(save_note, [note, rated], [note, note_row, rated], **PRIVATE)
    note.submit(save_note, [note, rated], [note, note_row, rated], **PRIVATE)
    api_trigger.click(respond, [question, chatbot], [chatbot, question], api_name="chat")
    demo.load(restore_chat, [saved_chat], [chatbot, conversation_state, last_text], **PRIVATE)



def _documents_tab(service: ChatService, demo: Any) -> None:
    """The library: what is indexed and skipped, uploads, remove (to the trash) and restore, feedback."""
    import gradio as gr

    admin = service.app_settings
    locked = admin.admin_mode == "off"
    with gr.Tab("Documents") as documents_tab:
        summary = gr.Markdown()
        gr.Markdown("### Articles in the library")
        table = gr.HTML()
        gr.Markdown("### Files that were skipped")
        skipped = gr.HTML()
        gr.Markdown("### Add or remove articles")
        if locked:
            gr.Markdown(f"**Locked:** {_admin_denied(admin)}")
        uploads = gr.File(
            label=f"Upload articles (.txt, .md, .html, .htm, .pdf; up to {admin.max_upload_mb:g} MB each)",
            file_count="multiple",
            file_types=[".txt", ".md", ".html", ".htm", ".pdf"],
            interactive=not locked,
            elem_id="uploads",
        )
        password = gr.Textbox(label="Admin password", type="password", visible=admin.admin_mode == "password")
        add = gr.Button("Add to the library", variant="primary", interactive=not locked, elem_id="add-documents")
        with gr.Row():
            to_remove = gr.Dropdown(label="Article to remove", choices=[], interactive=not locked, scale=3, elem_id="to-remove")
            remove = gr.Button("Remove…", variant="stop", interactive=not locked, scale=1, elem_id="remove")
        with gr.Row(visible=False, elem_id="confirm-remove") as confirm_row:
            confirm_text = gr.Markdown()
            confirm = gr.Button("Yes, move it to the trash", variant="stop", size="sm", elem_id="confirm")
            cancel = gr.Button("Cancel", size="sm")
        with gr.Row():
            to_restore = gr.Dropdown(label="Removed articles (in the trash)", choices=[], interactive=not locked, scale=3, elem_id="to-restore")
            restore = gr.Button("Restore", interactive=not locked, scale=1, elem_id="restore")
        result = gr.Markdown(elem_id="upload-result")
        gr.Markdown("### Feedback on answers")
        feedback_table = gr.HTML(elem_id="feedback-table")

    # ---------------------------------------------------------------- documents

    def library() -> tuple[Any, ...]:
        rows = service.documents()
        removable = [(f"{row.title} ({row.doc_id})", row.doc_id) for row in rows]
        removable += [(f"{item['path']} (skipped)", item["path"]) for item in service.skipped()]
        trashed = [(f"{item.doc_id} (removed {item.removed_at} UTC)", item.trashed_as) for item in service.trashed()]
        return (
            chat_view.index_summary(service),
            chat_view.documents_html(rows),
            chat_view.skipped_html(service.skipped()),
            gr.Dropdown(choices=removable, value=None),
            gr.Dropdown(choices=trashed, value=None),
            chat_view.feedback_html(feedback.all_feedback(service.feedback_file)),
        )

    def rebuild(progress: gr.Progress) -> Any:
        ticket = service.request_rebuild()
        progress(0.0, desc="Updating the index")
        return service.wait_for_build(ticket, on_status=lambda status: _show(progress, status))

    def add_documents(files: list[str] | None, secret: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        try:
            admin.check_admin(secret)
        except AdminDenied as denied:
            return (f"**Locked:** {denied}", *library(), gr.File())
        saved, rejected = [], []
        for file in files or []:
            path = Path(file)
            try:
                saved.append(service.save_upload(path, path.name))
            except UploadRejected as problem:
                rejected.append(str(problem))
        outcome = rebuild(progress) if saved else None
        return (chat_view.upload_report(saved, rejected, outcome), *library(), None)

    def ask_to_remove(doc_id: str | None) -> tuple[Any, ...]:
        if not doc_id:
            return gr.Row(visible=False), "", chat_view.removal_report(None, "choose an article to remove first", None)
        text = f"Move **{chat_view.escape_markdown(doc_id)}** to the trash? You can restore it below."
        return gr.Row(visible=True), text, ""

    def remove_document(doc_id: str | None, secret: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        try:
            admin.check_admin(secret)
            if not doc_id:
                raise UploadRejected("choose an article to remove first")
            removed = service.remove_document(doc_id)
        except (AdminDenied, UploadRejected) as problem:
            return (chat_view.removal_report(None, str(problem), None), *library(), gr.Row(visible=False))
        return (chat_view.removal_report(removed, "", rebuild(progress)), *library(), gr.Row(visible=False))

    def restore_document(trashed_as: str | None, secret: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        try:
            admin.check_admin(secret)
            if not trashed_as:
                raise UploadRejected("choose a removed article to restore first")
            restored = service.restore_document(trashed_as)
        except (AdminDenied, UploadRejected) as problem:
            return (chat_view.restore_report(None, str(problem), None), *library())
        return (chat_view.restore_report(restored, "", rebuild(progress)), *library())

    library_outputs = [summary, table, skipped, to_remove, to_restore, feedback_table]
    admin_events = {"concurrency_limit": 1, "concurrency_id": "library", "show_progress_on": [result], **PRIVATE}
    add.click(add_documents, [uploads, password], [result, *library_outputs, uploads], **admin_events)
    remove.click(ask_to_remove, [to_remove], [confirm_row, confirm_text, result], queue=False, **PRIVATE)
    cancel.click(lambda: gr.Row(visible=False), None, [confirm_row], queue=False, **PRIVATE)
    confirm.click(remove_document, [to_remove, password], [result, *library_outputs, confirm_row], **admin_events)
    restore.click(restore_document, [to_restore, password], [result, *library_outputs], **admin_events)
    documents_tab.select(library, None, library_outputs, **PRIVATE)
    demo.load(library, None, library_outputs, **PRIVATE)



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
        return HTMLResponse(article_page.article_html(document, chunk, hl[:2000]))

    return [APIRoute(article_page.ROUTE, article, methods=["GET"], response_class=HTMLResponse)]


def _show(progress: Any, status: Any) -> None:
    value, desc = chat_view.progress_step(status)
    progress(value, desc=desc)


def _admin_denied(admin: AppSettings) -> AdminDenied:
    try:
        admin.check_admin(None)
    except AdminDenied as denied:
        return denied
    return AdminDenied("")
