"""Cluster builds on a real local Ray cluster, and several app replicas over one index.

A module fixture starts a head and one worker with ``ray start`` on this machine (one CPU
each) and stops them afterwards. They listen on this machine's own address: Ray maps 127.0.0.1
to it anyway, and token authentication is off (``RAY_AUTH_MODE=disabled``) as on a private
network. Builds run as real ``python -m retrieval build --cluster ray``
processes with RAY_ADDRESS pointing at the head; they are compared with local builds of the
same corpus. Skipped when Ray is not installed (``pip install -e '.[cluster]'``; CI installs it).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from retrieval.answer.assemble import answer_question
from retrieval.config import Settings
from retrieval.index.build import build_index
from retrieval.index.store import load_index
from retrieval.search.retriever import Retriever
from tests.apprunner import app_process, clean_environment, free_port

pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[cluster]'")

ROOT = Path(__file__).resolve().parents[2]
MEDQUAD = ROOT / "tests" / "data" / "medquad_subset"
RAY = Path(sys.executable).parent / "ray"
QUESTIONS = [json.loads(line)["query"] for line in (ROOT / "tests" / "eval" / "seed_questions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]

pytestmark = pytest.mark.slow


def ray_env(**extra: str) -> dict[str, str]:
    return clean_environment(RAY_AUTH_MODE="disabled", **extra)


def ray_cli(*args: str, **kwargs) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    return subprocess.run([str(RAY), *args], capture_output=True, text=True, timeout=180, env=ray_env(), **kwargs)


def start_worker(address: str) -> subprocess.Popen:
    """A worker node in the foreground (``--block``): killing this process removes the node."""
    return subprocess.Popen(
        [str(RAY), "start", f"--address={address}", "--num-cpus=1", "--block", "--disable-usage-stats"],
        env=ray_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


def wait_for_nodes(address: str, count: int, timeout: float = 60) -> None:
    code = f"import ray; ray.init(address='{address}', logging_level='ERROR'); print(len([n for n in ray.nodes() if n['Alive']]))"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ray_env(), timeout=120)
        if done.stdout.strip().splitlines()[-1:] == [str(count)]:
            return
        time.sleep(1)
    raise AssertionError(f"the Ray cluster at {address} did not reach {count} nodes")


def embedding_actors() -> list[str]:
    """The embedding actors' processes on this machine (Ray names them MapWorker(...EmbedActor))."""
    listing = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if "EmbedActor" in line]


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A head and one worker on this machine; yields RAY_ADDRESS."""
    from ray._private.services import get_node_ip_address

    port = free_port()
    address = f"{get_node_ip_address()}:{port}"
    started = ray_cli("start", "--head", f"--port={port}", "--num-cpus=1", "--include-dashboard=false", "--disable-usage-stats")
    assert started.returncode == 0, started.stderr
    worker = start_worker(address)
    try:
        wait_for_nodes(address, 2)
        yield address
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
        ray_cli("stop", "--force")


def cluster_build(corpus: Path, index: Path, address: str, *extra: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "retrieval", "build", "--corpus", str(corpus), "--index", str(index), "--cluster", "ray", "--json", *extra],
        cwd=ROOT, env=ray_env(RAY_ADDRESS=address), capture_output=True, text=True, timeout=timeout,
    )


def same_index(local_dir: Path, cluster_dir: Path) -> None:
    local, remote = load_index(local_dir), load_index(cluster_dir)
    assert [c.id for c in local.chunks] == [c.id for c in remote.chunks]
    assert [c.text for c in local.chunks] == [c.text for c in remote.chunks]
    assert float((local.vectors * remote.vectors).sum(axis=1).min()) >= 0.9999
    assert (local.sentence_vectors is None) == (remote.sentence_vectors is None)  # off by default
    if local.sentence_vectors is not None:
        assert local.sentence_vectors.shape == remote.sentence_vectors.shape
        cosines = (local.sentence_vectors.astype(np.float32) * remote.sentence_vectors.astype(np.float32)).sum(axis=1)
        assert float(cosines.min()) >= 0.999  # stored as float16
    assert local.manifest["documents"].keys() == remote.manifest["documents"].keys()


@pytest.fixture
def corpus(tmp_path: Path, seed_index: Settings) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(seed_index.corpus_dir, folder)
    for path in sorted(MEDQUAD.glob("*.txt"))[:20]:
        shutil.copy(path, folder / path.name)
    return folder


def test_a_cluster_build_writes_the_same_index_and_answers(cluster: str, corpus: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    local = Settings(corpus_dir=corpus, index_dir=tmp_path / "local")
    build_index(local, embedder=embedder)
    done = cluster_build(corpus, tmp_path / "cluster", cluster)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["wrote_index"] and report["documents"] == 25 and report["embedded"] == report["chunks"]
    same_index(tmp_path / "local", tmp_path / "cluster")
    retrievers = [Retriever.load(Settings(corpus_dir=corpus, index_dir=folder), embedder=embedder) for folder in (tmp_path / "local", tmp_path / "cluster")]
    for question in QUESTIONS:
        answers = [answer_question(retriever, question) for retriever in retrievers]
        assert [p.chunk.id for p in answers[0].passages] == [p.chunk.id for p in answers[1].passages], question
        assert answers[0].covered == answers[1].covered and answers[0].triage.level == answers[1].triage.level

    # Incremental: only the new article goes to the cluster.
    shutil.copy(sorted(MEDQUAD.glob("*.txt"))[30], corpus)
    again = cluster_build(corpus, tmp_path / "cluster", cluster)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["added_documents"] == [sorted(MEDQUAD.glob("*.txt"))[30].name]
    assert report["reused"] > 0 and report["embedded"] == report["chunks"] - report["reused"]
    build_index(local, embedder=embedder)
    same_index(tmp_path / "local", tmp_path / "cluster")
    # Nothing changed: nothing is sent anywhere.
    idle = cluster_build(corpus, tmp_path / "cluster", cluster)
    assert idle.returncode == 0 and not json.loads(idle.stdout)["wrote_index"]


def test_a_worker_killed_mid_build_is_retried_and_the_index_is_complete(cluster: str, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in sorted(MEDQUAD.glob("*.txt")):
        shutil.copy(path, corpus / path.name)
    extra = start_worker(cluster)  # a third node, killed while the build runs
    try:
        wait_for_nodes(cluster, 3)
        build = subprocess.Popen(
            [sys.executable, "-m", "retrieval", "build", "--corpus", str(corpus), "--index", str(tmp_path / "cluster"), "--cluster", "ray", "--json"],
            cwd=ROOT, env=ray_env(RAY_ADDRESS=cluster), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 120
        while not embedding_actors():  # kill the node once the actors are up and embedding
            assert build.poll() is None and time.monotonic() < deadline, "the build ended (or hung) before embedding started"
            time.sleep(0.2)
        time.sleep(1)
        assert build.poll() is None, "the build ended before the worker could be killed; give it more work"
        os.killpg(extra.pid, signal.SIGKILL)
        stdout, stderr = build.communicate(timeout=900)
    finally:
        if extra.poll() is None:
            os.killpg(extra.pid, signal.SIGKILL)
    assert build.returncode == 0, stderr[-3000:]
    assert json.loads(stdout)["documents"] == 60  # stdout is the report alone, retries or not
    build_index(Settings(corpus_dir=corpus, index_dir=tmp_path / "local"), embedder=embedder)
    same_index(tmp_path / "local", tmp_path / "cluster")


def test_an_unreachable_cluster_fails_fast_and_the_previous_index_serves(corpus: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    build_index(settings, embedder=embedder)
    before = load_index(settings.index_dir).manifest["generation"]
    shutil.copy(sorted(MEDQUAD.glob("*.txt"))[30], corpus)
    started = time.monotonic()
    done = cluster_build(corpus, settings.index_dir, f"127.0.0.1:{free_port()}", timeout=120)
    assert done.returncode == 1 and time.monotonic() - started < 60
    assert "cannot reach the Ray cluster" in done.stderr and "ray start --head" in done.stderr and "Traceback" not in done.stderr
    assert load_index(settings.index_dir).manifest["generation"] == before


def test_without_ray_the_cluster_flag_says_how_to_install(tmp_path: Path) -> None:
    code = "import sys; sys.modules['ray'] = None; from retrieval.cli import main; main()"  # as if Ray were not installed
    done = subprocess.run(
        [sys.executable, "-c", code, "build", "--cluster", "ray", "--corpus", str(tmp_path), "--index", str(tmp_path / "i")],
        cwd=ROOT, env=clean_environment(), capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1 and "pip install -e '.[cluster]'" in done.stderr
    unknown = subprocess.run([sys.executable, "-m", "retrieval", "build", "--cluster", "spark", "--corpus", str(tmp_path)],
                             cwd=ROOT, env=clean_environment(), capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 1 and "unknown cluster 'spark'" in unknown.stderr


def test_two_replicas_serve_one_index_and_both_pick_up_a_rebuild(corpus: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    from gradio_client import Client

    index = tmp_path / "index"
    build_index(Settings(corpus_dir=corpus, index_dir=index), embedder=embedder)
    zorblax = "The Zorblax stretch for stiff hamstrings\n\nThe Zorblax stretch was first described by the physiotherapist Quilla Marrowby in 1987.\n"
    with app_process(corpus, index, tmp_path / "a.log") as first, app_process(corpus, index, tmp_path / "b.log") as second:
        clients = [Client(url, verbose=False) for url in (first, second)]
        for client in clients:
            assert client.predict("What stretches help sciatica?", api_name="/ask")["passages"]
        (corpus / "zorblax.txt").write_text(zorblax, encoding="utf-8")  # both watch the folder; one builds, under the lock
        deadline = time.monotonic() + 120
        pending = set(range(len(clients)))
        while pending:
            for n in sorted(pending):
                answer = clients[n].predict("Who first described the Zorblax stretch?", api_name="/ask")
                assert answer["disclaimer"]  # every answer complete while the rebuild runs
                if answer["passages"] and answer["passages"][0]["source"] == "zorblax.txt":
                    pending.discard(n)
            assert time.monotonic() < deadline, f"replicas {sorted(pending)} did not serve the new generation within 120 s"
            time.sleep(1)
    generations = [path.name for path in index.iterdir() if path.name.startswith("gen-")]
    assert len(generations) >= 1
