"""The real Gradio server with the real client: ``/ask`` is the CLI's JSON, ``/chat`` works,
several people can ask at once, and ``python app.py`` starts even with an unusable index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from retrieval.config import Settings
from retrieval.index.build import index_lock
from retrieval.web import AppSettings, ChatService
from tests.apprunner import free_port, wait_for_client

ROOT = Path(__file__).resolve().parents[2]
EMERGENCY = "I can't feel my bum when I wipe and my back is killing me"


@dataclass(frozen=True)
class Server:
    url: str
    service: ChatService
    settings: Settings


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, seed_index: Settings, embedder) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    """The app's Blocks served on a free localhost port, sharing the session's model."""
    base = tmp_path_factory.mktemp("app")
    shutil.copytree(seed_index.corpus_dir, base / "corpus")
    shutil.copytree(seed_index.index_dir, base / "index", ignore=shutil.ignore_patterns(".lock"))
    settings = Settings(corpus_dir=base / "corpus", index_dir=base / "index")
    service = ChatService(settings, AppSettings(port=free_port()), embedder=embedder)
    assert service.start().ok
    from retrieval.web import build_app, launch

    demo = build_app(service)
    launch(demo, service, prevent_thread_lock=True, quiet=True)
    try:
        yield Server(f"http://127.0.0.1:{service.app_settings.port}/", service, settings)
    finally:
        demo.close()
        service.stop_watching()


@pytest.fixture(scope="module")
def client(server: Server):  # type: ignore[no-untyped-def]
    from gradio_client import Client

    return Client(server.url, verbose=False)


def cli_json(settings: Settings, *questions: str) -> list[dict]:
    """What `python -m retrieval ask --json` prints, one object per question (stdin mode)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("RETRIEVAL_")}
    done = subprocess.run(
        [sys.executable, "-m", "retrieval", "ask", "--json", "--index", str(settings.index_dir)],
        input="\n".join(questions) + "\n", capture_output=True, text=True, check=True, env=env, cwd=ROOT,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def test_only_chat_and_ask_are_public_endpoints(client) -> None:  # type: ignore[no-untyped-def]
    assert set(client.view_api(return_format="dict", print_info=False)["named_endpoints"]) == {"/ask", "/chat"}


def test_ask_returns_exactly_the_cli_json(client, server: Server) -> None:  # type: ignore[no-untyped-def]
    questions = ["How should I sleep with low back pain?", "Is heat or ice better for a sore back?", EMERGENCY,
                 "What is the capital of France?", "<script>alert(1)</script> sciatica stretches"]
    expected = cli_json(server.settings, *questions)
    for question, cli in zip(questions, expected, strict=True):
        got = client.predict(question, api_name="/ask")
        assert got == cli, question
        assert list(got) == list(cli)  # same keys, same order


def test_ask_has_passages_sources_and_disclaimer(client) -> None:  # type: ignore[no-untyped-def]
    answer = client.predict("What stretches help sciatica?", api_name="/ask")
    assert {"query", "passages", "disclaimer", "message", "triage", "covered", "care_card"} <= set(answer)
    assert len(answer["passages"]) == 3
    for passage in answer["passages"]:
        assert passage["source"].endswith(".txt") and passage["title"] and passage["text"] and passage["highlight"]
        assert passage["source"] in answer["message"]
    assert "not medical advice" in answer["disclaimer"] and answer["disclaimer"] in answer["message"]
    assert len(client.predict("What stretches help sciatica?", 1, api_name="/ask")["passages"]) == 1


def test_ask_emergency_puts_the_care_card_first(client) -> None:  # type: ignore[no-untyped-def]
    answer = client.predict(EMERGENCY, api_name="/ask")
    assert answer["triage"] == "emergency" and answer["passages"] == []
    assert "999" in answer["care_card"] and answer["message"].startswith(answer["care_card"])


LONG_EMERGENCY = ("My lower back has been sore since I moved house and I have tried stretches and heat. " * 60
                  + "Since this morning I cannot feel my bum when I wipe.")


@pytest.mark.parametrize("endpoint", ["/ask", "/chat"])
def test_an_emergency_at_the_end_of_a_long_message_gets_the_card_first(client, endpoint: str) -> None:  # type: ignore[no-untyped-def]
    assert len(LONG_EMERGENCY) > 5000
    if endpoint == "/ask":
        answer = client.predict(LONG_EMERGENCY, api_name="/ask")
        assert answer["triage"] == "emergency" and answer["passages"] == []
        assert answer["message"].startswith(answer["care_card"])
        assert answer["notes"]  # retrieval's copy was shortened, and the answer says so
    else:
        history, _ = client.predict(LONG_EMERGENCY, [], api_name="/chat")
        reply = history[1]["content"][0]["text"]
        assert reply.startswith('<div class="care-card emergency" role="alert">\n\n**Immediate action required')


def test_chat_endpoint(client) -> None:  # type: ignore[no-untyped-def]
    history, box = client.predict("Is heat or ice better for a sore back? <b>now</b>", [], api_name="/chat")
    assert box == ""
    roles = [m["role"] for m in history]
    assert roles[0] == "user" and set(roles[1:]) == {"assistant"}
    assert history[0]["content"][0]["text"] == r"Is heat or ice better for a sore back? \<b\>now\</b\>"
    reply = history[1]["content"][0]["text"]
    assert "Source: " in reply and "not medical advice" in reply and "<mark>" in reply
    # One reply message: each passage links to itself in its article (no whole articles inline).
    assert len(history) == 2 and reply.count("](article/") == 3
    # The conversation continues from the history it is given.
    longer, _ = client.predict("What stretches help sciatica?", history, api_name="/chat")
    assert longer[: len(history)] == history and len(longer) > len(history)


def test_several_people_ask_at_once(server: Server) -> None:
    from gradio_client import Client

    questions = ["How should I sleep with low back pain?", "What stretches help sciatica?"] * 4
    # One client per request: a gradio_client.Client is not meant to be shared between threads.
    clients = [Client(server.url, verbose=False) for _ in questions]

    def ask(n: int) -> dict:
        return clients[n].predict(questions[n], api_name="/ask")

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(ask, range(len(questions))))
    assert all(len(a["passages"]) == 3 for a in answers)


def test_app_starts_with_an_unusable_index_and_says_why(tmp_path: Path, seed_index: Settings) -> None:
    """`python app.py` with a corrupt index that cannot be rebuilt yet (another build holds the
    lock): it still serves, the chat explains, and once the lock is free it rebuilds by itself."""

    shutil.copytree(seed_index.corpus_dir, tmp_path / "corpus")
    shutil.copytree(seed_index.index_dir, tmp_path / "index", ignore=shutil.ignore_patterns(".lock"))
    (tmp_path / "index" / "manifest.json").write_text("{ not json")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETRIEVAL_")}
    env.update(HF_HUB_OFFLINE="1", RETRIEVAL_PORT=str(port))  # the port from the environment
    log = (tmp_path / "app.log").open("w+")
    with index_lock(tmp_path / "index"):
        process = subprocess.Popen(
            [sys.executable, "app.py", "--corpus", str(tmp_path / "corpus"), "--index", str(tmp_path / "index")],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            client = wait_for_client(f"http://127.0.0.1:{port}/", process, tmp_path / "app.log")
            history, _ = client.predict("Is heat or ice better for a sore back?", [], api_name="/chat")
        except BaseException:
            process.kill()
            raise
    try:
        reply = history[-1]["content"][0]["text"]
        assert "cannot search the articles right now" in reply
        assert "manifest.json is unreadable" in reply and "another build" in reply
        printed = (tmp_path / "app.log").read_text()
        assert "another build" in printed and "The chat will start" in printed
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # asking again starts the rebuild, then answers
            history, _ = client.predict("Is heat or ice better for a sore back?", [], api_name="/chat")
            if "Source: " in history[1]["content"][0]["text"]:
                break
            time.sleep(2)
        assert "Source: " in history[1]["content"][0]["text"], history[1]
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
