"""Run the real app for tests: a free localhost port, `python app.py` in a subprocess, and a
wait until it answers (or a clear failure with the app's log)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without RETRIEVAL_* settings, offline, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETRIEVAL_")}
    env["HF_HUB_OFFLINE"] = "1"
    env.update(extra)
    return env


def wait_for_client(url: str, process: subprocess.Popen, log: Path, timeout: float = 180):  # type: ignore[no-untyped-def]
    """A gradio_client.Client for ``url`` once the app answers; fails with the app's log."""
    from gradio_client import Client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"app.py exited with {process.returncode}:\n{log.read_text()}")
        try:
            return Client(url, verbose=False)
        except Exception:  # noqa: BLE001 - not listening yet
            time.sleep(0.5)
    raise AssertionError(f"app.py did not start within {timeout} s:\n{log.read_text()}")


@contextmanager
def app_process(
    corpus: Path, index: Path, log: Path, *, args: Sequence[str] = (), env: dict[str, str] | None = None, timeout: float = 180
) -> Iterator[str]:
    """`python app.py --port <free> --corpus C --index I` until the block ends; yields its URL."""
    port = free_port()
    with log.open("w+") as handle:
        process = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(port), "--corpus", str(corpus), "--index", str(index), *args],
            cwd=ROOT, env=env or clean_environment(), stdout=handle, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            wait_for_client(url, process, log, timeout)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
