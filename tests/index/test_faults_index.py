"""Faults in the index and the disk: an index whose manifest disagrees with its vectors (CLI and
app), one built with another model, a model folder that cannot load, a full or read-only disk,
and leftovers of killed builds. Each ends in one clear message, the previous index keeps serving,
and no stray files are left (tests/index/faults.py, tests/index/conftest.py)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrieval.config import Settings
from retrieval.errors import IndexCorruptError, IndexWriteFailed
from retrieval.index.build import build_index, index_lock
from retrieval.index.store import load_index
from tests.index.faults import ADDED, ADDED_TEXT, Library, Reference, answers, change_corpus, cli, one_line_error, stray_entries


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

    source = resolve_model_path("bundled")
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
    one_line_error(refused, "the index was built with model back-pain-relevance-minilm", str(other_model), "build --full")
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
