"""Serving the chat: Gradio's queue and theme, the article routes beside the page, the corpus
watcher, and what start-up prints on the terminal (``app.py`` calls these)."""
import sys
from typing import Any

from retrieval.web.chat_page import article_routes, asset
from retrieval.web.service import ChatService


def launch(demo: Any, service: ChatService, **kwargs: Any) -> Any:
    """Start serving with the queue sized for several people chatting at once, the article
    pages beside the chat, and the corpus folder watched for new, changed and removed files."""
    import gradio as gr

    app_settings = service.app_settings
    if app_settings.watch:
        service.watch_corpus()

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
        css=asset("chat.css"),
        head=f"<style>{asset('page.css')}</style>",
        # Gradio's API page stays (?view=api: the Documents tab and the README link it), but its "Use via
        # API" footer link is hidden (page.css): a patient does not need it.
        footer_links=["api"],
        app_kwargs={"routes": article_routes(service)},
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
        unit = "passages" if stage == "embedding" else "articles"  # sentences too with RETRIEVAL_SENTENCE_VECTORS=on
        print(f"\r  {stage.capitalize()}: {done}/{total} {unit}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._stage:
            print(file=sys.stderr, flush=True)


def print_start(service: ChatService, outcome: Any) -> None:
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
