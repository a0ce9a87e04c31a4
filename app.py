"""The browser chat: ``python app.py [--host H] [--port P] [--corpus DIR] [--index DIR]``.

Start-up only: load the model, bring the index up to date, then serve the page that
:mod:`retrieval.web.chat_page` builds (the chat, the Documents tab, ``/ask``, ``/chat`` and the
article pages), with the corpus folder watched.
"""

import argparse
import os
import sys
from pathlib import Path

from retrieval.config import Settings
from retrieval.errors import RetrievalError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Chat with the back and leg pain articles in your browser.")
    parser.add_argument("--host", help="interface to listen on [env RETRIEVAL_HOST; default 127.0.0.1]")
    parser.add_argument("--port", type=int, help="port [env RETRIEVAL_PORT; default 7860]")
    parser.add_argument("--corpus", type=Path, help="articles folder [env RETRIEVAL_CORPUS; default corpus/]")
    parser.add_argument("--index", type=Path, help="index folder [env RETRIEVAL_INDEX; default index/]")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    args = parse_args(argv)
    try:  # the web stage reads the safety data files as it loads: a malformed one is a message
        from retrieval.web import AppSettings, ChatService, TerminalProgress, build_app, launch, print_start
    except RetrievalError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
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
    print_start(service, outcome)
    launch(build_app(service), service)
    return 0


if __name__ == "__main__":
    sys.exit(main())
