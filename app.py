"""The browser chat: ``python app.py [--host H] [--port P] [--corpus DIR] [--index DIR]``.

Thin wiring only: :class:`retrieval.service.ChatService` does the work and
:mod:`retrieval.chat_view` decides what is shown; this file connects them to Gradio.
Besides the page it serves the named API endpoint ``/ask`` (the same JSON as
``python -m retrieval ask --json``) and ``/chat``.
"""

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from retrieval import chat_view
from retrieval.config import Settings
from retrieval.errors import RetrievalError
from retrieval.service import AdminDenied, AppSettings, ChatService, UploadRejected

# Colours are set in pairs (text and background together), so a dark operating-system theme,
# which Gradio follows, never puts light text on these light boxes (it read 1.01:1 before).
# One selector per rule: Gradio scopes custom CSS and mangles the second selector of a
# ".dark a, .dark b" list.
CSS = """
.notice { border-left: 4px solid #005eb8; padding: 4px 12px; background: #f0f4f5; color: #212b32; }
.notice p { margin: 0; font-size: 0.92em; color: #212b32; }
.notice strong { color: #212b32; }
.dark .notice { background: #1d2a33; color: #f0f4f5; border-left-color: #41b6e6; }
.dark .notice p { color: #f0f4f5; }
.dark .notice strong { color: #f0f4f5; }
mark { background: #fff0a0; color: #212b32; padding: 0 2px; border-radius: 2px; }
.doc-table { width: 100%; border-collapse: collapse; font-size: 0.92em; }
.doc-table th, .doc-table td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #ddd; vertical-align: top; }
.doc-table td.num { text-align: right; }
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Chat with the back and leg pain articles in your browser.")
    parser.add_argument("--host", help="interface to listen on [env RETRIEVAL_HOST; default 127.0.0.1]")
    parser.add_argument("--port", type=int, help="port [env RETRIEVAL_PORT; default 7860]")
    parser.add_argument("--corpus", type=Path, help="articles folder [env RETRIEVAL_CORPUS; default corpus/]")
    parser.add_argument("--index", type=Path, help="index folder [env RETRIEVAL_INDEX; default index/]")
    return parser.parse_args(argv)


def build_app(service: ChatService) -> Any:
    """The Gradio Blocks for ``service``: a Chat tab, a Documents tab and the ``/ask`` API."""
    import gradio as gr

    admin = service.app_settings
    with gr.Blocks(title="Back and leg pain articles", analytics_enabled=False) as demo:
        gr.Markdown(f"# {chat_view.TITLE}")
        gr.Markdown(chat_view.notice_markdown(service.settings.locale), elem_classes="notice")
        with gr.Tab("Chat"):
            chatbot = gr.Chatbot(
                label="Chat",
                show_label=False,
                height="68vh",
                min_height=420,
                placeholder="**Ask a question about back or leg pain.** Answers are passages from the articles, with their sources.",
                examples=[{"text": q} for q in chat_view.EXAMPLE_QUESTIONS],
                sanitize_html=True,
                allow_tags=False,
                latex_delimiters=[],
                feedback_options=None,
                buttons=["copy"],
                elem_id="chatbot",
            )
            question = gr.Textbox(
                placeholder="Type your question and press Enter",
                show_label=False,
                submit_btn="Ask",
                # No max_length: the browser must not cut a message before triage reads it
                # (an emergency may come at the end of a long one). Only retrieval's copy is
                # shortened, to RETRIEVAL_MAX_QUESTION_CHARS, with a note in the answer.
                elem_id="question",
            )
            gr.ClearButton([question, chatbot], value="New conversation", size="sm")
        with gr.Tab("Documents") as documents_tab:
            summary = gr.Markdown()
            gr.Markdown("### Articles in the library")
            table = gr.HTML()
            gr.Markdown("### Files that were skipped")
            skipped = gr.HTML()
            gr.Markdown("### Add or remove articles")
            if admin.admin_mode == "off":
                gr.Markdown(f"**Locked:** {_admin_denied(admin)}")
            uploads = gr.File(
                label=f"Upload articles (.txt, .md, .html, .htm, .pdf; up to {admin.max_upload_mb:g} MB each)",
                file_count="multiple",
                file_types=[".txt", ".md", ".html", ".htm", ".pdf"],
                interactive=admin.admin_mode != "off",
                elem_id="uploads",
            )
            password = gr.Textbox(label="Admin password", type="password", visible=admin.admin_mode == "password")
            add = gr.Button("Add to the library", variant="primary", interactive=admin.admin_mode != "off", elem_id="add-documents")
            with gr.Row():
                to_remove = gr.Dropdown(label="Article to remove", choices=[], interactive=admin.admin_mode != "off", scale=3)
                remove = gr.Button("Remove", variant="stop", interactive=admin.admin_mode != "off", scale=1)
            result = gr.Markdown(elem_id="upload-result")

        def respond(text: str, history: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
            if not text or not text.strip():
                return history, ""
            return [*(history or []), *chat_view.reply_messages(service, text)], ""

        def respond_example(history: list[dict[str, Any]], event: gr.SelectData) -> list[dict[str, Any]]:
            return [*(history or []), *chat_view.reply_messages(service, str(event.value["text"]))]

        def library() -> tuple[str, str, str, Any]:
            ids = [row.doc_id for row in service.documents()] + [item["path"] for item in service.skipped()]
            return (
                chat_view.index_summary(service),
                chat_view.documents_html(service.documents()),
                chat_view.skipped_html(service.skipped()),
                gr.Dropdown(choices=ids, value=None),
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

        def remove_document(doc_id: str | None, secret: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
            try:
                admin.check_admin(secret)
                if not doc_id:
                    raise UploadRejected("choose an article to remove first")
                removed = service.remove_document(doc_id)
            except (AdminDenied, UploadRejected) as problem:
                return (chat_view.removal_report(None, str(problem), None), *library())
            return (chat_view.removal_report(removed, "", rebuild(progress)), *library())

        library_outputs = [summary, table, skipped, to_remove]
        question.submit(respond, [question, chatbot], [chatbot, question], api_name="chat")
        chatbot.example_select(respond_example, [chatbot], [chatbot], api_visibility="private")
        admin_events = {"concurrency_limit": 1, "concurrency_id": "library"}
        add.click(add_documents, [uploads, password], [result, *library_outputs, uploads], api_visibility="private", **admin_events)
        remove.click(remove_document, [to_remove, password], [result, *library_outputs], api_visibility="private", **admin_events)
        documents_tab.select(library, None, library_outputs, api_visibility="private")
        demo.load(library, None, library_outputs, api_visibility="private")

        def ask(question: str, k: int | None = None) -> dict[str, Any]:
            """Answer a question with passages from the articles: the same JSON as
            `python -m retrieval ask --json` (query, passages, disclaimer, message, triage, ...)."""
            try:
                return service.ask_json(question, k=int(k) if k else None)
            except RetrievalError as error:
                raise gr.Error(str(error)) from None

        gr.api(ask, api_name="ask")
    return demo


def _show(progress: Any, status: Any) -> None:
    value, desc = chat_view.progress_step(status)
    progress(value, desc=desc)


def _admin_denied(admin: AppSettings) -> AdminDenied:
    try:
        admin.check_admin(None)
    except AdminDenied as denied:
        return denied
    return AdminDenied("")


def launch(demo: Any, app_settings: AppSettings, **kwargs: Any) -> Any:
    """Start serving with the queue sized for several people chatting at once."""
    import gradio as gr

    # System fonts only: the page loads nothing from the internet.
    theme = gr.themes.Default(
        primary_hue="blue",
        font=["system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"],
        font_mono=["ui-monospace", "DejaVu Sans Mono", "monospace"],
    )
    demo.queue(default_concurrency_limit=app_settings.concurrency)
    return demo.launch(
        theme=theme,
        server_name=app_settings.host,
        server_port=app_settings.port,
        max_file_size=app_settings.max_upload_bytes,
        show_error=True,
        css=CSS,
        footer_links=["api"],
        **kwargs,
    )


class TerminalProgress:
    """Build progress on the terminal: one line per stage, updated in place."""

    def __init__(self) -> None:
        self._stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self._stage and self._stage:
            print(file=sys.stderr)
        self._stage = stage
        unit = "passages and sentences" if stage == "embedding" else "articles"
        print(f"\r  {stage.capitalize()}: {done}/{total} {unit}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._stage:
            print(file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    args = parse_args(argv)
    try:
        settings = Settings.from_env().with_overrides(corpus_dir=args.corpus, index_dir=args.index)
        app_settings = AppSettings.from_env().with_overrides(host=args.host, port=args.port)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    service = ChatService(settings, app_settings)
    print(f"Loading the model and updating the index of {settings.corpus_dir}/ ...", file=sys.stderr, flush=True)
    progress = TerminalProgress()
    try:
        outcome = service.start(progress=progress)
    except RetrievalError as error:  # e.g. the model cannot be loaded: nothing can work
        progress.close()
        print(f"error: {error}", file=sys.stderr)
        return 1
    progress.close()
    _print_start(service, outcome)
    launch(build_app(service), app_settings)
    return 0


def _print_start(service: ChatService, outcome: Any) -> None:
    report = outcome.report
    if report is not None:
        if report.full_rebuild and report.full_rebuild_reason != "no previous index":
            print(f"Full rebuild: {report.full_rebuild_reason}", file=sys.stderr)
        what = "updated" if report.wrote_index else "up to date"
        print(f"Index {what}: {report.documents} articles, {report.chunks} passages ({outcome.seconds:.1f} s).", file=sys.stderr)
        for item in report.skipped:
            print(f"  skipped {item['path']}: {item['reason']}", file=sys.stderr)
    if not outcome.ok:
        print(f"warning: {outcome.error}", file=sys.stderr)
    if service.problem:
        print("The chat will start and show this problem until the index can be used.", file=sys.stderr)
    if service.app_settings.admin_mode == "off":
        print("Adding and removing documents is off: set RETRIEVAL_ADMIN_PASSWORD to allow it.", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
