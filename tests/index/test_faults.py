"""Faults in builds: builds killed at every step and at a random moment, and two builds at once
(damaged or mismatched indexes and full or read-only disks are in test_faults_index.py). After each, the previous index answers exactly as before (or the new one,
once committed), the next build completes, and no stray files are left.

Builds run as real `python -m retrieval build` processes (SIGKILL needs a process of its own).
Answers are compared as the full `ask --json` objects: the CLI's for the reference answers,
the same function in-process (with the session's model) after each fault, which is cheaper
and prints the identical JSON (tests/web/test_app.py holds the CLI and the app to that too).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retrieval.config import Settings
from retrieval.index.build import build_index, index_lock
from retrieval.index.store import load_index
from tests.index.faults import ADDED, CLI_CHECKED, MEDQUAD, REMOVED, ROOT, Reference, STEPS, answers, change_corpus, cli, cli_answers, one_line_error, stray_entries


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
