"""ChatService without a browser: start-up, answering, uploads, removal, background rebuilds.

Real model, real index: every service starts from a private copy of the seed corpus and its
index (copied from the session's ``seed_index``, so nothing is re-embedded unless a test
changes the corpus).
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from retrieval.config import Settings
from retrieval.index.build import index_lock
from retrieval.web.service import ChatService, ServiceUnavailable
from retrieval.web.settings import AdminDenied, AppSettings
from retrieval.web.uploads import UploadRejected, safe_file_name

ZORBLAX = (
    "The Zorblax stretch for stiff hamstrings\n\n"
    "The Zorblax stretch was first described by the physiotherapist Quilla Marrowby in 1987. "
    "To do the Zorblax stretch, lie on your back, hook a towel around one foot and hold the leg up for "
    "exactly forty-three seconds while humming. Marrowby reported that the Zorblax stretch eased "
    "hamstring tightness in most of her patients within nine days.\n"
)


@pytest.fixture
def library(tmp_path: Path, seed_index: Settings) -> Settings:
    """A private copy of the seed corpus and its already-built index."""
    shutil.copytree(seed_index.corpus_dir, tmp_path / "corpus")
    shutil.copytree(seed_index.index_dir, tmp_path / "index", ignore=shutil.ignore_patterns(".lock"))
    return Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")


@pytest.fixture
def service(library: Settings, embedder) -> ChatService:  # type: ignore[no-untyped-def]
    service = ChatService(library, embedder=embedder, build_lock_wait=0.0)
    outcome = service.start()
    assert outcome.ok, outcome.error
    return service


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- file names and settings


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("notes.txt", "notes.txt"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\Windows\\evil.md", "evil.md"),
        ("/abs/path/Report.PDF", "Report.pdf"),
        (".hidden.txt", "hidden.txt"),
        ("Zorblax stretch?.TXT", "Zorblax stretch.txt"),
        ("a<script>b.html", "a-script-b.html"),
        ("ｆｕｌｌｗｉｄｔｈ.htm", "fullwidth.htm"),
        ("rücken schmerz.md", "rücken schmerz.md"),
        ("..txt.txt", "txt.txt"),
        ("x" * 300 + ".txt", "x" * 96 + ".txt"),
        ("???.txt", "document.txt"),
    ],
)
def test_safe_file_name(given: str, expected: str) -> None:
    assert safe_file_name(given) == expected


@pytest.mark.parametrize("given", ["run.exe", "archive.tar.gz", "noextension", "", "../", "page.html.exe", "..."])
def test_safe_file_name_rejects_what_cannot_be_indexed(given: str) -> None:
    with pytest.raises(UploadRejected, match="upload .txt, .md"):
        safe_file_name(given)


def test_app_settings_from_env() -> None:
    settings = AppSettings.from_env(
        {"RETRIEVAL_HOST": "0.0.0.0", "RETRIEVAL_PORT": "8000", "RETRIEVAL_MAX_UPLOAD_MB": "0.5", "RETRIEVAL_ADMIN_PASSWORD": "s3cret"}
    )
    assert (settings.host, settings.port, settings.max_upload_bytes) == ("0.0.0.0", 8000, 512 * 1024)
    assert "s3cret" not in repr(settings)
    assert settings.with_overrides(port=None, host="::1").host == "::1"
    with pytest.raises(ValueError, match="RETRIEVAL_PORT"):
        AppSettings.from_env({"RETRIEVAL_PORT": "eighty"})


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]"])
def test_admin_is_open_on_localhost(host: str) -> None:
    settings = AppSettings(host=host)
    assert settings.admin_mode == "open"
    settings.check_admin(None)


def test_admin_needs_the_password_elsewhere() -> None:
    settings = AppSettings(host="0.0.0.0", admin_password="correct horse")
    assert settings.admin_mode == "password"
    settings.check_admin("correct horse")
    for wrong in (None, "", "correct hors", "correct horse "):
        with pytest.raises(AdminDenied, match="password"):
            settings.check_admin(wrong)


def test_admin_is_off_elsewhere_without_a_password() -> None:
    settings = AppSettings(host="0.0.0.0")
    assert settings.admin_mode == "off"
    with pytest.raises(AdminDenied, match="RETRIEVAL_ADMIN_PASSWORD"):
        settings.check_admin("anything")


# ---------------------------------------------------------------- asking


def test_ask_json_is_the_answer_contract(service: ChatService) -> None:
    from retrieval.answer.assemble import answer_question

    question = "Is heat or ice better for a sore back?"
    assert service.ask_json(question) == answer_question(service.retriever, question).to_json()
    assert len(service.ask_json(question, k=1)["passages"]) == 1


def test_answer_has_passages_sources_and_disclaimer(service: ChatService) -> None:
    answer = service.answer("How should I sleep with low back pain?")
    assert answer.passages and all(p.chunk.doc_id for p in answer.passages)
    assert answer.disclaimer and answer.disclaimer in answer.message
    assert service.document(answer.passages[0].chunk.doc_id) is not None


def test_documents_lists_the_index(service: ChatService, library: Settings) -> None:
    rows = service.documents()
    assert {row.doc_id for row in rows} == {p.name for p in Path(library.corpus_dir).iterdir()}
    assert all(row.title and row.chunks > 0 and row.indexed_at for row in rows)
    assert service.skipped() == []


def test_skipped_files_are_listed_with_reasons(library: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    (Path(library.corpus_dir) / "empty.txt").write_text("")
    (Path(library.corpus_dir) / "slides.pptx").write_bytes(b"PK\x03\x04")
    service = ChatService(library, embedder=embedder)
    assert service.start().ok
    reasons = {item["path"]: item["reason"] for item in service.skipped()}
    assert reasons["empty.txt"] == "empty file"
    assert "unsupported file type .pptx" in reasons["slides.pptx"]


# ---------------------------------------------------------------- uploads and removal


def test_upload_then_rebuild_is_searchable_at_once(service: ChatService, tmp_path: Path) -> None:
    upload = write(tmp_path, "zorblax.txt", ZORBLAX)
    before = service.answer("Who first described the Zorblax stretch?")
    assert all(p.chunk.doc_id != "zorblax.txt" for p in before.passages)

    saved = service.save_upload(upload, "zorblax.txt")
    assert (saved.saved_as, saved.versioned) == ("zorblax.txt", False)
    outcome = service.wait_for_build(service.request_rebuild(), timeout=120)
    assert outcome is not None and outcome.ok, outcome
    assert outcome.report.added_documents == ["zorblax.txt"]
    assert outcome.report.reused > 0 and outcome.report.embedded < 10  # incremental

    after = service.answer("Who first described the Zorblax stretch?")
    assert after.passages[0].chunk.doc_id == "zorblax.txt"
    assert "Marrowby" in after.passages[0].chunk.text
    assert "zorblax.txt" in {row.doc_id for row in service.documents()}


def test_same_name_upload_is_versioned_not_replaced(service: ChatService, library: Settings, tmp_path: Path) -> None:
    existing = Path(library.corpus_dir) / "waist-and-leg-soreness.txt"
    original = existing.read_bytes()
    first = service.save_upload(write(tmp_path, "waist-and-leg-soreness.txt", ZORBLAX))
    second = service.save_upload(write(tmp_path, "waist-and-leg-soreness.txt", ZORBLAX + "Updated.\n"))
    assert (first.saved_as, first.versioned) == ("waist-and-leg-soreness-2.txt", True)
    assert second.saved_as == "waist-and-leg-soreness-3.txt"
    assert existing.read_bytes() == original
    assert (Path(library.corpus_dir) / "waist-and-leg-soreness-2.txt").read_text() == ZORBLAX


def test_identical_upload_is_refused(service: ChatService, library: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "renamed copy.txt"
    shutil.copyfile(Path(library.corpus_dir) / "waist-and-leg-soreness.txt", copy)
    with pytest.raises(UploadRejected, match="already in the library as waist-and-leg-soreness.txt"):
        service.save_upload(copy)
    assert not (Path(library.corpus_dir) / "renamed copy.txt").exists()


def test_upload_with_a_hostile_name_stays_in_the_corpus(service: ChatService, library: Settings, tmp_path: Path) -> None:
    upload = write(tmp_path, "up.txt", ZORBLAX)
    saved = service.save_upload(upload, "../../../outside.txt")
    assert saved.saved_as == "outside.txt"
    assert (Path(library.corpus_dir) / "outside.txt").exists()
    assert not (Path(library.corpus_dir).parent / "outside.txt").exists()
    assert not any(p.name.startswith(".upload-") for p in Path(library.corpus_dir).iterdir())


def test_upload_limits(library: Settings, embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service = ChatService(library, AppSettings(max_upload_mb=0.01), embedder=embedder)
    big = write(tmp_path, "big.txt", "back pain " * 2000)
    with pytest.raises(UploadRejected, match="limit is 0.01 MB"):
        service.save_upload(big)
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x00\x01\x02 not text")
    with pytest.raises(UploadRejected, match="binary"):
        service.save_upload(binary)
    fake_pdf = write(tmp_path, "fake.pdf", "this is not a PDF")
    with pytest.raises(UploadRejected, match="PDF"):
        service.save_upload(fake_pdf)
    with pytest.raises(UploadRejected, match="not supported"):
        service.save_upload(write(tmp_path, "tool.sh", "echo hi"))
    assert sorted(p.name for p in Path(library.corpus_dir).iterdir()) == sorted(
        p.name for p in Path(library.corpus_dir).iterdir() if not p.name.startswith(".")
    )
    assert not (Path(library.corpus_dir) / "big.txt").exists()


def test_remove_document_then_rebuild(service: ChatService, library: Settings) -> None:
    removed = service.remove_document("waist-and-leg-soreness.txt")
    assert removed == "waist-and-leg-soreness.txt"
    assert not (Path(library.corpus_dir) / removed).exists()
    outcome = service.wait_for_build(service.request_rebuild(), timeout=120)
    assert outcome is not None and outcome.ok and outcome.report.removed == 1
    assert "waist-and-leg-soreness.txt" not in {row.doc_id for row in service.documents()}


@pytest.mark.parametrize("doc_id", ["../outside.txt", "nope.txt", "", "/etc/passwd", "."])
def test_remove_refuses_unknown_or_outside_names(service: ChatService, library: Settings, doc_id: str) -> None:
    (Path(library.corpus_dir).parent / "outside.txt").write_text("keep me")
    with pytest.raises(UploadRejected):
        service.remove_document(doc_id)
    assert (Path(library.corpus_dir).parent / "outside.txt").exists()


# ---------------------------------------------------------------- rebuilds and failures


def test_failed_rebuild_keeps_the_previous_index_serving(service: ChatService, library: Settings, tmp_path: Path) -> None:
    service.save_upload(write(tmp_path, "zorblax.txt", ZORBLAX))
    with index_lock(Path(library.index_dir)):  # another build holds the lock
        outcome = service.wait_for_build(service.request_rebuild(), timeout=60)
    assert outcome is not None and not outcome.ok
    assert "another build" in outcome.error
    answer = service.answer("How should I sleep with low back pain?")
    assert answer.passages  # still serving the previous index
    assert "zorblax.txt" not in {row.doc_id for row in service.documents()}


def test_chatting_continues_while_a_rebuild_runs(service: ChatService, tmp_path: Path) -> None:
    for n in range(3):
        service.save_upload(write(tmp_path, f"zorblax-{n}.txt", ZORBLAX.replace("forty-three", f"{n + 40}")))
    ticket = service.request_rebuild()
    answers, errors = [], []

    def chat() -> None:
        try:
            for _ in range(5):
                answers.append(service.answer("What stretches help sciatica?"))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=chat) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome = service.wait_for_build(ticket, timeout=120)
    assert not errors and len(answers) == 15 and all(a.passages for a in answers)
    assert outcome is not None and outcome.ok


def test_requests_during_a_build_share_the_next_build(service: ChatService, tmp_path: Path) -> None:
    seen = []
    service.save_upload(write(tmp_path, "a.txt", ZORBLAX))
    first = service.request_rebuild()
    second = service.request_rebuild()
    third = service.request_rebuild()
    outcomes = [service.wait_for_build(t, timeout=120, on_status=seen.append) for t in (first, second, third)]
    assert all(o is not None and o.ok for o in outcomes)
    assert outcomes[1] is outcomes[2]
    assert service.status().running is False and service.status().builds_finished <= 2


def test_corrupt_index_is_rebuilt_at_start(library: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    (Path(library.index_dir) / "manifest.json").write_text("{ this is not json")
    service = ChatService(library, embedder=embedder)
    outcome = service.start()
    assert outcome.ok and outcome.report.full_rebuild
    assert service.problem == ""
    assert service.answer("Is heat or ice better for a sore back?").passages


def test_unusable_index_is_reported_then_recovered(library: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    (Path(library.index_dir) / "manifest.json").write_text("{ this is not json")
    service = ChatService(library, embedder=embedder, build_lock_wait=0.0)
    with index_lock(Path(library.index_dir)):  # a CLI build holds the lock: no rebuild possible now
        outcome = service.start()
    assert not outcome.ok
    assert "manifest.json is unreadable" in service.problem and "another build" in service.problem
    with pytest.raises(ServiceUnavailable, match="cannot be used"):
        service.answer("Is heat or ice better for a sore back?")  # too soon to retry: says why
    assert service.documents() == []
    recovered = service.wait_for_build(service.request_rebuild(), timeout=120)
    assert recovered is not None and recovered.ok
    assert service.problem == ""
    assert service.answer("Is heat or ice better for a sore back?").passages


def test_empty_corpus_starts_with_a_readable_problem(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "corpus").mkdir()
    service = ChatService(Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index"), embedder=embedder)
    assert not service.start().ok
    assert "has no documents" in service.problem
    with pytest.raises(ServiceUnavailable, match="has no documents"):
        service.answer("sciatica")
    service.save_upload(write(tmp_path, "zorblax.txt", ZORBLAX))
    assert service.wait_for_build(service.request_rebuild(), timeout=120).ok
    assert service.answer("Who described the Zorblax stretch?").passages[0].chunk.doc_id == "zorblax.txt"


def test_asking_retries_the_rebuild_by_itself(library: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    (Path(library.index_dir) / "manifest.json").write_text("garbage")
    service = ChatService(library, embedder=embedder, build_lock_wait=0.0, retry_every=0.0)
    with index_lock(Path(library.index_dir)):
        assert not service.start().ok
    with pytest.raises(ServiceUnavailable, match="rebuild has been started"):
        service.answer("Is heat or ice better for a sore back?")
    outcome = service.wait_for_build(service.latest_ticket, timeout=120)
    assert outcome is not None and outcome.ok
    assert service.answer("Is heat or ice better for a sore back?").passages


def test_a_bad_environment_value_names_the_variable() -> None:
    from retrieval.web.settings import AppSettings

    with pytest.raises(ValueError, match=r"RETRIEVAL_PORT='eighty' is not a valid int"):
        AppSettings.from_env({"RETRIEVAL_PORT": "eighty"})
    with pytest.raises(ValueError, match=r"RETRIEVAL_TOP_K='3.5' is not a valid int"):
        Settings.from_env({"RETRIEVAL_TOP_K": "3.5"})
    assert AppSettings.from_env({"RETRIEVAL_PORT": "8080", "RETRIEVAL_HOST": ""}).port == 8080
    assert Settings.from_env({"RETRIEVAL_TOP_K": "5"}).top_k == 5
