"""Faults: builds killed at every step, concurrent builds, damaged or mismatched indexes, a full
or read-only disk. After each, the previous index answers exactly as before (or the new one,
once committed), the next build completes, and no stray files are left.

Builds run as real `python -m retrieval build` processes (SIGKILL needs a process of its own).
Answers are compared as the full `ask --json` objects: the CLI's for the reference answers,
the same function in-process (with the session's model) after each fault, which is cheaper
and prints the identical JSON (tests/web/test_app.py holds the CLI and the app to that too).
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from retrieval.answer.assemble import answer_question
from retrieval.config import Settings
from retrieval.errors import IndexCorruptError
from retrieval.index.build import build_index, index_lock
from retrieval.search.retriever import Retriever
from retrieval.errors import IndexWriteFailed
from retrieval.index.store import load_index

ROOT = Path(__file__).resolve().parents[2]
MEDQUAD = Path(__file__).resolve().parents[1] / "data" / "medquad_subset"
SEED = ["back-pain-relief-sleep-posture.txt", "low-back-pain-and-exercise.txt", "waist-and-leg-soreness.txt"]
REMOVED = "waist-and-leg-soreness.txt"
ADDED = "cycling-and-stenosis.md"
ADDED_TEXT = """# Cycling with spinal stenosis

Cycling with a slight forward lean often suits people with lumbar spinal stenosis, because bending
forward opens the spinal canal and eases the leg pain that walking brings on.

A stationary bike lets you build up slowly: start with ten minutes at an easy pace and add a few
minutes each week while the leg symptoms stay settled.

Stop and see your doctor if cycling brings on numbness that does not fade after you rest.
"""
QUESTIONS = [
    "How should I sleep with low back pain?",
    "Is lack of exercise a cause of low back pain?",
    "What is waist and leg soreness?",
    "Does cycling help spinal stenosis leg pain?",
]
STEPS = ["read", "embed", "write:chunks", "write:vectors", "write:faiss", "write:bm25", "write:sentences", "before-manifest", "after-manifest"]
# For this one the checks after the kill use the CLI itself; the others use the same code
# in-process, which prints the same JSON and saves a model load per check.
CLI_CHECKED = {"before-manifest"}


def cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RETRIEVAL_")}
    environment.update(HF_HUB_OFFLINE="1", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "retrieval", *args], input=stdin, capture_output=True, text=True, cwd=ROOT, env=environment, timeout=timeout
    )


def cli_answers(index: Path, env: dict[str, str] | None = None) -> list[dict]:
    result = cli("ask", "--json", "--index", str(index), stdin="\n".join(QUESTIONS) + "\n", env=env)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def answers(index: Path, embedder) -> list[dict]:  # type: ignore[no-untyped-def]
    retriever = Retriever.load(Settings(index_dir=index), embedder=embedder)
    return [answer_question(retriever, question).to_json() for question in QUESTIONS]


def one_line_error(result: subprocess.CompletedProcess[str], *phrases: str) -> str:
    """Assert a failed command printed one friendly line (no traceback) holding ``phrases``."""
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for phrase in phrases:
        assert phrase in lines[0], (phrase, lines[0])
    return lines[0]


def change_corpus(corpus: Path) -> None:
    (corpus / ADDED).write_text(ADDED_TEXT, encoding="utf-8")
    (corpus / REMOVED).unlink()


def stray_entries(index: Path) -> list[str]:
    """Anything in the index folder that is neither the manifest, the lock, nor a generation
    the manifest names (current or previous)."""
    manifest = json.loads((index / "manifest.json").read_text())
    wanted = {"manifest.json", ".lock", manifest["generation"], manifest.get("previous_generation", "")}
    return sorted(entry.name for entry in index.iterdir() if entry.name not in wanted)


@dataclass(frozen=True)
class Library:
    corpus: Path
    index: Path

    def copy_to(self, target: Path) -> Library:
        shutil.copytree(self.corpus, target / "corpus", symlinks=True)
        shutil.copytree(self.index, target / "index", ignore=shutil.ignore_patterns(".lock"))
        return Library(target / "corpus", target / "index")


@dataclass(frozen=True)
class Reference:
    old: Library
    old_answers: list[dict]  # the CLI's answers from the old index
    new_answers: list[dict]  # the CLI's answers after a normal incremental build of the change


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, embedder) -> Reference:  # type: ignore[no-untyped-def]
    """The old index (built by the CLI) and the answers before and after the change."""
    base = tmp_path_factory.mktemp("faults")
    (base / "old" / "corpus").mkdir(parents=True)
    for name in SEED:
        shutil.copy(ROOT / "corpus" / name, base / "old" / "corpus" / name)
    old = Library(base / "old" / "corpus", base / "old" / "index")
    assert cli("build", "--corpus", str(old.corpus), "--index", str(old.index)).returncode == 0
    new = old.copy_to(base / "new")
    change_corpus(new.corpus)
    report = build_index(Settings(corpus_dir=new.corpus, index_dir=new.index), embedder=embedder)
    assert report.reused > 0
    return Reference(old, cli_answers(old.index), answers(new.index, embedder))


def test_the_reference_answers_differ_and_match_in_process(reference: Reference, embedder) -> None:  # type: ignore[no-untyped-def]
    assert reference.old_answers != reference.new_answers  # so "as before" means something
    assert answers(reference.old.index, embedder) == reference.old_answers
    new_sources = {p["source"] for a in reference.new_answers for p in a["passages"]}
    assert ADDED in new_sources and REMOVED not in new_sources
    assert REMOVED in {p["source"] for a in reference.old_answers for p in a["passages"]}


@pytest.mark.slow
@pytest.mark.parametrize("step", STEPS)
def test_a_build_killed_at_any_step_leaves_a_working_index(step: str, reference: Reference, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    work = reference.old.copy_to(tmp_path)
    change_corpus(work.corpus)
    manifest_before = (work.index / "manifest.json").read_bytes()

    killed = cli("build", "--corpus", str(work.corpus), "--index", str(work.index), "--json", env={"RETRIEVAL_FAULT_AT": step})
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr)

    committed = step == "after-manifest"
    expected = reference.new_answers if committed else reference.old_answers
    assert ((work.index / "manifest.json").read_bytes() == manifest_before) is not committed
    load_index(work.index)  # every file checks out against the manifest
    assert answers(work.index, embedder) == expected
    if step in CLI_CHECKED:
        assert cli_answers(work.index) == expected

    # The kernel dropped the dead build's lock: the next build starts at once.
    with index_lock(work.index):
        pass
    if step in CLI_CHECKED:
        rebuilt = cli("build", "--corpus", str(work.corpus), "--index", str(work.index), "--json")
        assert rebuilt.returncode == 0, rebuilt.stderr
        report = json.loads(rebuilt.stdout)
    else:
        report = build_index(Settings(corpus_dir=work.corpus, index_dir=work.index), embedder=embedder).to_json()
    if committed:
        assert report["wrote_index"] is False  # the killed build had finished its work
    else:
        assert report["wrote_index"] and report["added_documents"] == [ADDED] and report["removed"] == 1
        assert report["reused"] > 0 and not report["full_rebuild"]  # still incremental after a crash
    assert answers(work.index, embedder) == reference.new_answers
    assert stray_entries(work.index) == []


@pytest.mark.slow
def test_a_build_killed_at_a_random_moment_while_embedding(reference: Reference, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL from outside while a bigger corpus is being embedded; then build again at once."""
    work = reference.old.copy_to(tmp_path)
    added = sorted(MEDQUAD.glob("*.txt"))
    for path in added:
        shutil.copy(path, work.corpus / path.name)
    manifest_before = (work.index / "manifest.json").read_bytes()
    driver = (
        "import sys\n"
        "from retrieval.config import Settings\n"
        "from retrieval.index.build import build_index\n"
        "build_index(Settings(corpus_dir=sys.argv[1], index_dir=sys.argv[2]),\n"
        "            progress=lambda stage, done, total: print(stage, done, total, flush=True))\n"
        "print('finished', flush=True)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETRIEVAL_")}
    process = subprocess.Popen(
        [sys.executable, "-c", driver, str(work.corpus), str(work.index)],
        cwd=ROOT, env={**env, "HF_HUB_OFFLINE": "1"}, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert process.stdout is not None
        # A random point in the embedding, by progress rather than by clock, so the test means
        # the same thing with a fast backend: kill once that many chunks are done.
        target = total = None
        for line in process.stdout:
            if not line.startswith("embedding "):
                continue
            done, total = (int(n) for n in line.split()[1:3])
            target = random.randint(0, total // 2) if target is None else target
            if done >= target:
                break
        else:
            raise AssertionError("the build never started embedding")
        print(f"killing the build at {done} of {total} chunks embedded (target {target})")
        assert process.poll() is None, "the build finished before it could be killed"
        process.kill()
        rest = process.stdout.read()
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "finished" not in rest and process.returncode == -signal.SIGKILL
    assert (work.index / "manifest.json").read_bytes() == manifest_before
    assert answers(work.index, embedder) == reference.old_answers

    # Immediately build again (a smaller change, to keep the test short): no lock left stuck.
    for path in added[3:]:
        (work.corpus / path.name).unlink()
    report = build_index(Settings(corpus_dir=work.corpus, index_dir=work.index), embedder=embedder)
    assert sorted(report.added_documents) == [p.name for p in added[:3]]
    assert report.reused > 0
    data = load_index(work.index)
    assert set(data.documents) == {p.name for p in work.corpus.iterdir()}
    assert stray_entries(work.index) == []


# ---------------------------------------------------------------- two builds at once


def wait_for_lock_holder(index: Path, pid: int, timeout: float = 120) -> None:
    """Wait until process ``pid`` holds the build lock (it writes its pid into .lock)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if f"pid {pid}," in (index / ".lock").read_text():
                return
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never took the build lock")


@pytest.mark.slow
def test_a_second_build_refuses_or_waits_while_the_first_runs(reference: Reference, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    work = reference.old.copy_to(tmp_path)
    change_corpus(work.corpus)
    args = ("build", "--corpus", str(work.corpus), "--index", str(work.index), "--json")
    environment = {**{k: v for k, v in os.environ.items() if not k.startswith("RETRIEVAL_")}, "HF_HUB_OFFLINE": "1"}
    first = subprocess.Popen([sys.executable, "-m", "retrieval", *args], cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    waiting = None
    try:
        wait_for_lock_holder(work.index, first.pid)
        os.kill(first.pid, signal.SIGSTOP)  # hold it there, lock taken, for as long as we need
        refused = cli(*args)
        one_line_error(refused, f"another build is already updating {work.index}/", f"pid {first.pid}", "wait for it to finish")
        waiting = subprocess.Popen([sys.executable, "-m", "retrieval", *args, "--wait", "120"], cwd=ROOT, env=environment,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        assert waiting.poll() is None  # it waits instead of failing
        assert answers(work.index, embedder) == reference.old_answers  # readers are not blocked
    finally:
        os.kill(first.pid, signal.SIGCONT)
        first_out, first_err = first.communicate(timeout=300)
        if waiting is not None:
            waiting_out, waiting_err = waiting.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert json.loads(first_out)["wrote_index"] is True
    assert waiting.returncode == 0, waiting_err
    assert json.loads(waiting_out)["wrote_index"] is False  # it saw the first build's result
    assert answers(work.index, embedder) == reference.new_answers
    assert stray_entries(work.index) == []


@pytest.mark.slow
def test_two_builds_started_together_never_mix(reference: Reference, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    work = reference.old.copy_to(tmp_path)
    change_corpus(work.corpus)
    args = [sys.executable, "-m", "retrieval", "build", "--corpus", str(work.corpus), "--index", str(work.index), "--json"]
    environment = {**{k: v for k, v in os.environ.items() if not k.startswith("RETRIEVAL_")}, "HF_HUB_OFFLINE": "1"}
    processes = [subprocess.Popen(args, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in processes]
    wrote = 0
    for code, out, err in results:
        if code == 0:
            wrote += json.loads(out)["wrote_index"]
        else:
            assert code == 1 and "another build is already updating" in err and "Traceback" not in err, err
    assert wrote == 1
    assert answers(work.index, embedder) == reference.new_answers
    assert stray_entries(work.index) == []


# ---------------------------------------------------------------- damaged and mismatched indexes


@pytest.fixture
def mismatched(reference: Reference, tmp_path: Path) -> Library:
    """A copy whose manifest promises more chunks than the vectors hold."""
    work = reference.old.copy_to(tmp_path)
    path = work.index / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["counts"]["chunks"] += 5
    path.write_text(json.dumps(manifest))
    return work


@pytest.mark.slow
def test_manifest_that_disagrees_with_the_vectors_via_the_cli(mismatched: Library, reference: Reference, embedder) -> None:  # type: ignore[no-untyped-def]
    for command in (("ask", "how should I sleep?"), ("status",), ("chunks",)):
        result = cli(*command, "--index", str(mismatched.index), "--json")
        one_line_error(result, "is inconsistent", "chunks but the manifest says", "build --full")
        assert result.stdout == ""  # no answer at all rather than a wrong one
    rebuilt = cli("build", "--corpus", str(mismatched.corpus), "--index", str(mismatched.index), "--json")
    report = json.loads(rebuilt.stdout)
    assert report["full_rebuild"] and "could not be used" in report["full_rebuild_reason"]
    assert answers(mismatched.index, embedder) == reference.old_answers


@pytest.mark.slow
def test_manifest_that_disagrees_with_the_vectors_via_the_app(mismatched: Library, embedder) -> None:  # type: ignore[no-untyped-def]
    """The real Gradio server and client. While another build holds the lock the app cannot
    repair the index: /ask says why (no traceback, no answer); once free it rebuilds and answers."""
    from gradio_client import Client

    from retrieval.web import AppSettings, ChatService
    from tests.apprunner import free_port

    settings = Settings(corpus_dir=mismatched.corpus, index_dir=mismatched.index)
    with index_lock(mismatched.index):
        service = ChatService(settings, AppSettings(port=free_port()), embedder=embedder, build_lock_wait=0.0, retry_every=0.5)
        assert not service.start().ok
        from retrieval.web import build_app, launch

        demo = build_app(service)
        launch(demo, service, prevent_thread_lock=True, quiet=True)
        try:
            client = Client(f"http://127.0.0.1:{service.app_settings.port}/", verbose=False)
            with pytest.raises(Exception) as error:
                client.predict("How should I sleep with low back pain?", api_name="/ask")
            message = str(error.value)
            assert "is inconsistent" in message and "build --full" in message and "Traceback" not in message
            history, _ = client.predict("How should I sleep with low back pain?", [], api_name="/chat")
            assert "is inconsistent" in history[-1]["content"][0]["text"]
        except BaseException:
            demo.close()
            service.stop_watching()
            raise
    try:
        deadline = time.monotonic() + 120
        while True:  # the lock is free: asking starts the rebuild, then answers
            try:
                answer = client.predict("How should I sleep with low back pain?", api_name="/ask")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        assert answer["covered"] and answer["passages"] and "not medical advice" in answer["disclaimer"]
    finally:
        demo.close()
        service.stop_watching()


@pytest.fixture(scope="module")
def other_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the model folder (weights linked, not copied) whose config.json differs."""
    from retrieval.index.embeddings import resolve_model_path

    source = resolve_model_path("default")
    target = tmp_path_factory.mktemp("model") / "all-MiniLM-L6-v2-changed"
    for path in source.rglob("*"):
        relative = path.relative_to(source)
        if path.is_dir():
            (target / relative).mkdir(parents=True, exist_ok=True)
        elif path.suffix in (".json", ".txt"):
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target / relative)
        else:
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            (target / relative).symlink_to(path)
    config = json.loads((target / "config.json").read_text())
    config["layer_norm_eps"] = 1e-11  # a different model, as far as the index can tell
    (target / "config.json").write_text(json.dumps(config))
    return target


@pytest.mark.slow
def test_an_index_built_with_another_model(reference: Reference, other_model: Path, tmp_path: Path) -> None:
    work = reference.old.copy_to(tmp_path)
    other = {"RETRIEVAL_MODEL": str(other_model)}
    refused = cli("ask", "how should I sleep?", "--index", str(work.index), "--json", env=other)
    one_line_error(refused, "the index was built with model sentence-transformers/all-MiniLM-L6-v2", str(other_model), "build --full")
    assert refused.stdout == ""
    rebuilt = cli("build", "--corpus", str(work.corpus), "--index", str(work.index), "--json", env=other)
    assert rebuilt.returncode == 0, rebuilt.stderr
    report = json.loads(rebuilt.stdout)
    assert report["full_rebuild"] and "the model changed" in report["full_rebuild_reason"] and report["reused"] == 0
    # Now the default model is the stranger.
    one_line_error(cli("ask", "how should I sleep?", "--index", str(work.index)), f"built with model {other_model}", "build --full")
    status = json.loads(cli("status", "--index", str(work.index), "--json").stdout)
    assert status["model"]["name"] == str(other_model)


@pytest.mark.slow
def test_a_model_folder_that_cannot_load_is_a_clear_error(reference: Reference, other_model: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken-model"
    shutil.copytree(other_model, broken, symlinks=True)
    (broken / "config.json").write_text("{ this is not json")
    work = reference.old.copy_to(tmp_path / "lib")
    result = cli("build", "--corpus", str(work.corpus), "--index", str(work.index), "--full", env={"RETRIEVAL_MODEL": str(broken)})
    one_line_error(result, "cannot load the model from", str(broken))
    assert stray_entries(work.index) == []
    load_index(work.index)  # the old index is untouched


# ---------------------------------------------------------------- full or read-only disk


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real tmpfs of 1 MB (root only; skipped elsewhere, see RELIABILITY.md)."""
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    if os.geteuid() != 0 or not _mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)):
        pytest.skip("cannot mount a small tmpfs here (needs root); the in-process ENOSPC test still runs")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


@pytest.mark.slow
def test_disk_full_during_a_build(small_disk: Path, reference: Reference, embedder) -> None:  # type: ignore[no-untyped-def]
    work = reference.old.copy_to(small_disk)
    change_corpus(work.corpus)
    manifest_before = (work.index / "manifest.json").read_bytes()
    filler = small_disk / "filler"
    free = shutil.disk_usage(small_disk).free
    filler.write_bytes(b"\0" * max(free - 150_000, 0))  # room for part of a generation only
    result = cli("build", "--corpus", str(work.corpus), "--index", str(work.index))
    one_line_error(result, f"cannot write the index in {work.index}/: no space left on device", "unchanged", "free some disk space")
    assert (work.index / "manifest.json").read_bytes() == manifest_before
    assert stray_entries(work.index) == []  # the partial generation was removed
    assert answers(work.index, embedder) == reference.old_answers
    filler.unlink()
    build_index(Settings(corpus_dir=work.corpus, index_dir=work.index), embedder=embedder)
    assert answers(work.index, embedder) == reference.new_answers


@pytest.mark.slow
def test_read_only_index_folder(reference: Reference, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """A read-only bind mount (root ignores chmod 0o555, so chmod proves nothing here)."""
    work = reference.old.copy_to(tmp_path)
    change_corpus(work.corpus)
    if os.geteuid() == 0:
        if not _mount("--bind", "-o", "ro", str(work.index), str(work.index)):
            pytest.skip("cannot make a read-only bind mount here")
    else:
        work.index.chmod(0o555)
    try:
        result = cli("build", "--corpus", str(work.corpus), "--index", str(work.index))
        line = one_line_error(result, f"cannot write the index in {work.index}/", "make the folder writable")
        assert "read-only file system" in line or "permission denied" in line
        assert answers(work.index, embedder) == reference.old_answers  # reading needs no write access
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(work.index)], check=False)
        else:
            work.index.chmod(0o755)


@pytest.mark.parametrize("fail_at", ["write_jsonl", "write_json_atomically"])
def test_disk_full_in_process_keeps_the_old_index(fail_at: str, settings: Settings, fake_embedder, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """ENOSPC simulated at the first file and at the manifest (the real tmpfs test above
    cannot pick the exact moment): a friendly error, no generation left behind."""
    import retrieval.index.store as store

    build_index(settings, embedder=fake_embedder)
    manifest_before = (settings.index_dir / "manifest.json").read_bytes()
    (settings.corpus_dir / ADDED).write_text(ADDED_TEXT, encoding="utf-8")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store, fail_at, full)
    with pytest.raises(IndexWriteFailed, match="no space left on device.*unchanged.*free some disk space"):
        build_index(settings, embedder=fake_embedder)
    assert (settings.index_dir / "manifest.json").read_bytes() == manifest_before
    assert stray_entries(settings.index_dir) == []
    monkeypatch.undo()
    assert build_index(settings, embedder=fake_embedder).wrote_index


def test_a_stale_temp_generation_is_invisible_and_cleaned(settings: Settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    """What a build killed mid-write leaves behind: readers ignore it, the next build removes it."""
    build_index(settings, embedder=fake_embedder)
    stale = settings.index_dir / ".gen-20000101T000000-1-1.tmp"
    stale.mkdir()
    (stale / "chunks.jsonl").write_text("{half a line")
    orphan = settings.index_dir / "gen-20000101T000000-1-2"  # written but never committed
    orphan.mkdir()
    assert len(load_index(settings.index_dir).chunks) > 0
    (settings.corpus_dir / ADDED).write_text(ADDED_TEXT, encoding="utf-8")
    build_index(settings, embedder=fake_embedder)
    assert stray_entries(settings.index_dir) == []


def test_a_missing_generation_folder_names_the_fix(settings: Settings, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    build_index(settings, embedder=fake_embedder)
    manifest = json.loads((settings.index_dir / "manifest.json").read_text())
    shutil.rmtree(settings.index_dir / manifest["generation"])
    with pytest.raises(IndexCorruptError, match="missing.*build --full"):
        load_index(settings.index_dir)
