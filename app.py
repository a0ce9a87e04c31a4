"""The browser chat: ``python app.py [--host H] [--port P] [--corpus DIR] [--index DIR]``.

Start-up only: load the model, bring the index up to date, then serve the page that
:mod:`retrieval.chat_page` builds (the chat, the Documents tab, ``/ask``, ``/chat`` and the
article pages), with the corpus folder watched.
"""

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from retrieval.chat_page import article_routes, asset, build_app
from retrieval.config import Settings
from retrieval.errors import RetrievalError
from retrieval.service import AppSettings, ChatService

__all__ = ["build_app", "launch", "main"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Chat with the back and leg pain articles in your browser.")
    parser.add_argument("--host", help="interface to listen on [env RETRIEVAL_HOST; default 127.0.0.1]")
    parser.add_argument("--port", type=int, help="port [env RETRIEVAL_PORT; default 7860]")
    parser.add_argument("--corpus", type=Path, help="articles folder [env RETRIEVAL_CORPUS; default corpus/]")
    parser.add_argument("--index", type=Path, help="index folder [env RETRIEVAL_INDEX; default index/]")
    return parser.parse_args(argv)


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
    launch(build_app(service), service)
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
