"""The chat app's logic without the UI: one model, one retriever, uploads and rebuilds.

:class:`ChatService` is what ``app.py`` wires to Gradio components, and what the tests drive
directly. It loads the embedding model once, builds the index at start-up if it is missing
or stale, answers questions, lists what is indexed and what was skipped, saves uploads under
safe names, removes documents, and runs rebuilds in one background thread so that chatting
goes on meanwhile; when a rebuild commits, the retriever swaps to the new index with
:meth:`Retriever.refresh`.

    service = ChatService(Settings.from_env())
    service.start()                                   # build if needed, load the model once
    answer = service.answer("is heat or ice better for a sore back?")
    saved = service.save_upload(Path("/tmp/zorblax.txt"))
    outcome = service.wait_for_build(service.request_rebuild())
"""

from __future__ import annotations

import dataclasses
import hmac
import logging
import os
import re
import shutil
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval.config import MAX_K, Settings, env_values, on_or_off
from retrieval.errors import RetrievalError

if TYPE_CHECKING:
    from retrieval.answer import Answer
    from retrieval.index import Embedder
    from retrieval.index import BuildReport, Progress
    from retrieval.search import Retriever
    from retrieval.index import StoredDocument
    from retrieval.web.trash import TrashedFile
    from retrieval.web.watcher import CorpusWatcher

log = logging.getLogger(__name__)

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
MAX_NAME_CHARS = 100
REFRESH_EVERY = 5.0  # seconds between checks for an index rebuilt outside the app
RETRY_EVERY = 10.0  # seconds between rebuild attempts while no index can be loaded
BUILD_LOCK_WAIT = 30.0  # seconds a background rebuild waits for another build's lock


class ServiceUnavailable(RetrievalError):
    """No index can be used right now; the message says why and what happens next."""


class AdminDenied(RetrievalError):
    """Uploading or removing documents is not allowed (wrong password, or switched off)."""


class UploadRejected(RetrievalError):
    """One uploaded file cannot be added; the message says why."""


class BadRequest(RetrievalError):
    """A request to ``/ask`` that cannot be answered as asked (e.g. ``k`` out of range)."""


def checked_k(k: Any) -> int | None:
    """``k`` as given to ``/ask``: None (or "") for the default, else a whole number 1..MAX_K.

    >>> checked_k("5"), checked_k(None)
    (5, None)
    """
    if k is None or (isinstance(k, str) and not k.strip()):
        return None
    try:
        number = float(k)
    except (TypeError, ValueError):
        number = float("nan")
    if not number.is_integer() or not 1 <= number <= MAX_K or isinstance(k, bool):
        raise BadRequest(f"k must be a whole number from 1 to {MAX_K} (the number of passages to return); got {k!r}")
    return int(number)


# Environment variable -> (AppSettings field, converter).
_APP_ENV_FIELDS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "RETRIEVAL_HOST": ("host", str),
    "RETRIEVAL_PORT": ("port", int),
    "RETRIEVAL_MAX_UPLOAD_MB": ("max_upload_mb", float),
    "RETRIEVAL_ADMIN_PASSWORD": ("admin_password", str),
    "RETRIEVAL_CONCURRENCY": ("concurrency", int),
    "RETRIEVAL_WATCH": ("watch", on_or_off),
}


@dataclass(frozen=True)
class AppSettings:
    """Server settings (the pipeline's own live in :class:`Settings`).

    Environment: RETRIEVAL_HOST, RETRIEVAL_PORT, RETRIEVAL_MAX_UPLOAD_MB,
    RETRIEVAL_ADMIN_PASSWORD, RETRIEVAL_CONCURRENCY, RETRIEVAL_WATCH.
    """

    host: str = "127.0.0.1"
    port: int = 7860
    max_upload_mb: float = 5.0
    admin_password: str = field(default="", repr=False)
    # Questions answered at once; each is one short CPU-bound encode, so about the core count.
    concurrency: int = 4
    # Watch corpus/ and rebuild on changes. "off" where something else builds the index (a
    # cron job, another replica) or the folder is on storage without change notifications.
    watch: bool = True

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> AppSettings:
        return cls(**env_values(_APP_ENV_FIELDS, environ))

    def with_overrides(self, **overrides: Any) -> AppSettings:
        """A copy with the given fields replaced; ``None`` values are ignored."""
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def is_local(self) -> bool:
        return self.host.strip("[]").lower() in LOCAL_HOSTS

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def admin_mode(self) -> str:
        """"open" on localhost, "password" elsewhere with a password set, otherwise "off"."""
        if self.is_local:
            return "open"
        return "password" if self.admin_password else "off"

    def check_admin(self, password: str | None) -> None:
        """Raise :class:`AdminDenied` unless this caller may upload and remove documents."""
        mode = self.admin_mode
        if mode == "open":
            return
        if mode == "off":
            raise AdminDenied(
                f"Adding and removing documents is switched off because the app listens on {self.host}, "
                "not only on this computer. Set RETRIEVAL_ADMIN_PASSWORD to allow it with a password."
            )
        given = (password or "").encode("utf-8")
        if not hmac.compare_digest(given, self.admin_password.encode("utf-8")):
            raise AdminDenied("Wrong or missing admin password: documents were not changed.")


@dataclass(frozen=True)
class DocumentRow:
    """One indexed document, as the Documents tab lists it."""

    doc_id: str  # file path relative to the corpus folder
    title: str
    kind: str
    chunks: int
    indexed_at: str


@dataclass(frozen=True)
class SavedUpload:
    """An uploaded file added to the corpus. ``saved_as`` differs from ``wanted`` when renamed."""

    original: str  # the name the browser sent
    wanted: str  # the sanitised name
    saved_as: str  # the name in the corpus (versioned as name-2.txt if ``wanted`` existed)

    @property
    def versioned(self) -> bool:
        return self.saved_as != self.wanted


@dataclass(frozen=True)
class BuildStatus:
    """A snapshot of the background rebuild, for progress bars."""

    running: bool = False
    stage: str = ""  # "waiting", "reading", "embedding", "loading"
    done: int = 0
    total: int = 0
    builds_finished: int = 0


@dataclass(frozen=True)
class BuildOutcome:
    """How one background rebuild ended. On failure the previous index keeps serving."""

    ok: bool
    error: str = ""
    report: BuildReport | None = None
    seconds: float = 0.0


def safe_file_name(name: str) -> str:
    """A file name that is safe to create in the corpus folder, or UploadRejected.

    Directories are stripped (both ``/`` and ``\\``), letters are NFKC-normalised, anything
    but letters, digits, ``.``, ``-``, ``_`` and spaces becomes ``-``, leading dots (hidden
    files) go, and the extension must be one we can index.

    Example: safe_file_name("../../etc/Zorblax stretch?.TXT") -> "Zorblax stretch.txt"
    """
    base = re.split(r"[/\\]", name or "")[-1]
    base = unicodedata.normalize("NFKC", base)
    base = re.sub(r"[^\w.\- ]", "-", base, flags=re.UNICODE)
    base = re.sub(r"\s+", " ", base)
    base = re.sub(r"-{2,}", "-", base).strip()
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        raise UploadRejected(f"{name!r} has no file extension; upload {_suffix_list()} files")
    suffix = "." + suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise UploadRejected(f"{name!r}: {suffix} files are not supported; upload {_suffix_list()} files")
    stem = stem.strip(" .-")[: MAX_NAME_CHARS - len(suffix)].rstrip(" .-") or "document"
    return stem + suffix


def _suffix_list() -> str:
    return ", ".join(UPLOAD_SUFFIXES)


class ChatService:
    """One retriever (one model load) shared by every chat, plus document management."""

    def __init__(
        self,
        settings: Settings,
        app_settings: AppSettings | None = None,
        *,
        embedder: Embedder | None = None,
        build_lock_wait: float = BUILD_LOCK_WAIT,
        retry_every: float = RETRY_EVERY,
    ) -> None:
        from retrieval.index import SentenceTransformerEmbedder

        self.settings = settings
        self.app_settings = app_settings or AppSettings()
        self.embedder: Embedder = embedder or SentenceTransformerEmbedder(settings.model, backend=settings.backend)
        self.build_lock_wait = build_lock_wait
        self.retry_every = retry_every
        self._retriever: Retriever | None = None
        self._problem = ""  # why there is no retriever (shown in the chat)
        self._last_report: BuildReport | None = None
        self._last_outcome: BuildOutcome | None = None
        self._last_refresh_check = 0.0
        self._last_retry = 0.0
        self._load_lock = threading.Lock()
        self._corpus_lock = threading.Lock()  # serialises saving and removing files
        # Background rebuilds: tickets are numbered requests; a build covers every ticket
        # requested before it started.
        self._builds = threading.Condition()
        self._requested = 0
        self._started_for = 0
        self._covered = 0
        self._outcomes: list[tuple[int, BuildOutcome]] = []
        self._worker: threading.Thread | None = None
        self._status = BuildStatus()
        self._watcher: CorpusWatcher | None = None

    # ---------------------------------------------------------------- start-up

    def start(self, progress: Progress | None = None) -> BuildOutcome:
        """Load the model, bring the index up to date, open it.

        Raises only when the model or the red-flag head cannot be loaded (ModelNotFoundError,
        SafetyModelError). Index and corpus
        problems do not stop the app: :attr:`problem` says what is wrong, the chat shows it."""
        from retrieval.index import build_index

        started = time.perf_counter()
        self.embedder.embed(["warm up"])  # load the model now, not on the first question
        from retrieval.safety import shipped_head

        shipped_head()  # and the red-flag head: a missing or malformed one stops start-up
        try:
            report = build_index(self.settings, embedder=self.embedder, progress=progress)
            self._last_report = report
        except RetrievalError as error:
            outcome = BuildOutcome(False, str(error), seconds=time.perf_counter() - started)
        else:
            outcome = BuildOutcome(True, report=report, seconds=time.perf_counter() - started)
        self._last_retry = time.monotonic()
        self._last_outcome = outcome
        try:
            self._load_or_refresh()
        except RetrievalError as error:
            self._problem = _problem_text(str(error), outcome)
            return BuildOutcome(False, self._problem, outcome.report, outcome.seconds)
        if not outcome.ok:
            log.warning("index build failed; serving the previous index: %s", outcome.error)
        return outcome

    @property
    def retriever(self) -> Retriever | None:
        return self._retriever

    @property
    def problem(self) -> str:
        """Why questions cannot be answered now ("" when they can)."""
        return "" if self._retriever is not None else self._problem

    def _load_or_refresh(self) -> bool:
        from retrieval.search import Retriever

        with self._load_lock:
            if self._retriever is None:
                self._retriever = Retriever.load(self.settings, embedder=self.embedder)
                self._problem = ""
                changed = True
            else:
                changed = self._retriever.refresh()
            self._last_refresh_check = time.monotonic()
            return changed

    # ---------------------------------------------------------------- asking

    def answer(self, question: str, *, k: int | None = None, locale: str | None = None) -> Answer:
        """Answer one question, or raise ServiceUnavailable saying why not. ``locale`` picks the
        emergency numbers and services named (default: the app's RETRIEVAL_LOCALE)."""
        from retrieval.answer import answer_question

        retriever = self._ready_retriever()
        return answer_question(retriever, question, k=k or self.settings.top_k, locale=locale)

    def ask_json(self, question: str, k: Any = None) -> dict[str, Any]:
        """Exactly what ``python -m retrieval ask --json`` prints for this question.

        Raises BadRequest for a ``k`` outside 1..MAX_K instead of silently clamping it."""
        return self.answer(question, k=checked_k(k)).to_json()

    def document(self, doc_id: str) -> StoredDocument | None:
        retriever = self._retriever
        return retriever.document(doc_id) if retriever is not None else None

    def _ready_retriever(self) -> Retriever:
        retriever = self._retriever
        now = time.monotonic()
        if retriever is not None:
            if now - self._last_refresh_check > REFRESH_EVERY:
                self._last_refresh_check = now
                try:  # pick up an index rebuilt by `python -m retrieval build`
                    self._load_or_refresh()
                except RetrievalError as error:
                    log.warning("keeping the current index: %s", error)
            return retriever
        try:
            self._load_or_refresh()
            return self._retriever  # type: ignore[return-value]
        except RetrievalError as error:
            self._problem = _problem_text(str(error), self._last_outcome)
        if self.status().running:
            raise ServiceUnavailable(f"{self._problem}\n\nThe index is being rebuilt now; please ask again in a moment.")
        if now - self._last_retry > self.retry_every:
            self._last_retry = now
            self.request_rebuild()
            raise ServiceUnavailable(f"{self._problem}\n\nA rebuild has been started; please ask again in a moment.")
        raise ServiceUnavailable(self._problem)

    # ---------------------------------------------------------------- documents

    def documents(self) -> list[DocumentRow]:
        """What the current index holds, sorted by title."""
        retriever = self._retriever
        if retriever is None:
            return []
        rows = [
            DocumentRow(
                doc_id=doc_id,
                title=str(info.get("title", "")),
                kind=str(info.get("kind", "")),
                chunks=int(info.get("chunks", 0)),
                indexed_at=str(info.get("indexed_at", "")),
            )
            for doc_id, info in retriever.data.manifest.get("documents", {}).items()
        ]
        return sorted(rows, key=lambda row: (row.title.lower(), row.doc_id))

    def skipped(self) -> list[dict[str, str]]:
        """Files the last build could not index: [{"path", "reason"}]."""
        report = self._last_report
        return list(report.skipped) if report is not None else []

    def save_upload(self, source: Path, original_name: str | None = None) -> SavedUpload:
        """Copy one uploaded file into the corpus folder under a safe, unused name.

        Checks the name, the size limit and that the file can be read as an article (the same
        reader the build uses), then creates it without ever replacing an existing file: a
        taken name becomes ``name-2.txt``, ``name-3.txt``, ...
        """
        from retrieval.errors import DocumentRejected
        from retrieval.ingest import read_document

        original = original_name or source.name
        wanted = safe_file_name(original)
        try:
            size = source.stat().st_size
        except OSError as error:
            raise UploadRejected(f"{original!r} cannot be read: {error.strerror or error}") from None
        limit = self.app_settings.max_upload_bytes
        if size > limit:
            raise UploadRejected(
                f"{original!r} is {size / 1024 / 1024:.1f} MB; the limit is {self.app_settings.max_upload_mb:g} MB per file"
            )
        corpus = Path(self.settings.corpus_dir)
        corpus.mkdir(parents=True, exist_ok=True)
        suffix = Path(wanted).suffix
        # A hidden staging file (the build skips dot-files) with the right extension for the reader.
        staging = corpus / f".upload-{uuid.uuid4().hex}{suffix}"
        try:
            shutil.copyfile(source, staging)
            try:
                read_document(staging, wanted)
            except DocumentRejected as rejected:
                raise UploadRejected(f"{original!r} cannot be indexed: {rejected.reason}") from None
            with self._corpus_lock:
                twin = _identical_file(staging, corpus)
                if twin is not None:
                    raise UploadRejected(f"{original!r} is already in the library as {twin} (same content)")
                saved_as = self._link_unused(staging, corpus, wanted)
        finally:
            staging.unlink(missing_ok=True)
        return SavedUpload(original, wanted, saved_as)

    @staticmethod
    def _link_unused(staging: Path, corpus: Path, wanted: str) -> str:
        stem, suffix = wanted[: -len(Path(wanted).suffix)], Path(wanted).suffix
        root = corpus.resolve()
        for version in range(1, 1000):
            name = wanted if version == 1 else f"{stem}-{version}{suffix}"
            target = corpus / name
            if target.resolve().parent != root:  # cannot happen after safe_file_name; belt and braces
                raise UploadRejected(f"{wanted!r} is not a plain file name")
            try:
                os.link(staging, target)  # fails if the name exists: never overwrites
            except FileExistsError:
                continue
            return name
        raise UploadRejected(f"too many files named like {wanted!r}; rename it and try again")

    def remove_document(self, doc_id: str) -> str:
        """Move one indexed (or skipped) file from the corpus folder to its trash; returns its name.

        Only names the index or the last build report lists can be removed, and only inside
        the corpus folder. :meth:`restore_document` puts it back. The caller then requests a
        rebuild.
        """
        from retrieval.web.trash import TrashError, move_to_trash

        known = {row.doc_id for row in self.documents()} | {item["path"] for item in self.skipped()}
        if doc_id not in known:
            raise UploadRejected(f"{doc_id!r} is not a document in the library")
        indexed = {row.doc_id for row in self.documents()}
        if doc_id in indexed and len(indexed) == 1:
            raise UploadRejected("this is the only document left; add another before removing it")
        corpus = Path(self.settings.corpus_dir).resolve()
        path = (corpus / doc_id).resolve()
        if not path.is_relative_to(corpus) or path == corpus:
            raise UploadRejected(f"{doc_id!r} is outside the corpus folder")
        with self._corpus_lock:
            try:
                move_to_trash(Path(self.settings.corpus_dir), doc_id)
            except TrashError as error:
                if (Path(self.settings.corpus_dir) / doc_id).exists():
                    raise UploadRejected(str(error)) from None
                # already gone: the rebuild will drop it from the index
        return doc_id

    def trashed(self) -> list[TrashedFile]:
        """Removed files that can be restored, most recent first."""
        from retrieval.web.trash import trashed_files

        return trashed_files(Path(self.settings.corpus_dir))

    def restore_document(self, trashed_as: str) -> str:
        """Put a removed file back in the corpus folder; returns its name. The caller rebuilds."""
        from retrieval.web.trash import TrashError, restore

        with self._corpus_lock:
            try:
                return restore(Path(self.settings.corpus_dir), trashed_as)
            except TrashError as error:
                raise UploadRejected(str(error)) from None

    # ---------------------------------------------------------------- watching and feedback

    def watch_corpus(self) -> CorpusWatcher:
        """Rebuild in the background whenever article files in the corpus folder change."""
        from retrieval.web.watcher import CorpusWatcher

        if self._watcher is None:
            self._watcher = CorpusWatcher(Path(self.settings.corpus_dir), self.request_rebuild).start()
        return self._watcher

    def stop_watching(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    @property
    def feedback_file(self) -> Path:
        from retrieval.web.feedback import feedback_path

        return feedback_path(Path(self.settings.index_dir))

    # ---------------------------------------------------------------- rebuilds

    def request_rebuild(self) -> int:
        """Ask for an incremental rebuild in the background; returns a ticket for
        :meth:`wait_for_build`. Requests made while a build runs share the next build."""
        with self._builds:
            self._requested += 1
            ticket = self._requested
            if self._worker is None:
                self._worker = threading.Thread(target=self._build_loop, name="index-rebuild", daemon=True)
                self._worker.start()
            self._builds.notify_all()
        return ticket

    def wait_for_build(
        self,
        ticket: int,
        *,
        timeout: float | None = None,
        on_status: Callable[[BuildStatus], None] | None = None,
        poll: float = 0.25,
    ) -> BuildOutcome | None:
        """Block until the build covering ``ticket`` ends (None on timeout), calling
        ``on_status`` every ``poll`` seconds meanwhile."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._builds:
            while self._covered < ticket:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._builds.wait(poll if left is None else min(poll, left))
                if on_status is not None and self._covered < ticket:
                    status = self._status
                    self._builds.release()
                    try:
                        on_status(status)
                    finally:
                        self._builds.acquire()
            return next(outcome for covered, outcome in self._outcomes if covered >= ticket)

    def status(self) -> BuildStatus:
        return self._status

    @property
    def latest_ticket(self) -> int:
        """The ticket of the most recent rebuild request (0 if none), e.g. one the chat made."""
        return self._requested

    def _set_status(self, **changes: Any) -> None:
        self._status = dataclasses.replace(self._status, **changes)

    def _build_loop(self) -> None:
        while True:
            with self._builds:
                if self._covered >= self._requested:
                    self._worker = None
                    return
                target = self._requested
                self._set_status(running=True, stage="waiting", done=0, total=0)
            outcome = self._run_build()
            self._last_outcome = outcome
            with self._builds:
                self._covered = target
                self._outcomes = [*self._outcomes[-20:], (target, outcome)]
                self._set_status(running=False, stage="", builds_finished=self._status.builds_finished + 1)
                self._builds.notify_all()

    def _run_build(self) -> BuildOutcome:
        from retrieval.index import build_index

        started = time.perf_counter()

        def progress(stage: str, done: int, total: int) -> None:
            self._set_status(stage=stage, done=done, total=total)

        try:
            report = build_index(self.settings, embedder=self.embedder, progress=progress, wait_seconds=self.build_lock_wait)
            self._last_report = report
            self._set_status(stage="loading")
            self._load_or_refresh()
        except RetrievalError as error:
            return BuildOutcome(False, str(error), seconds=time.perf_counter() - started)
        except Exception as error:  # keep the worker alive and the old index serving
            log.exception("index rebuild failed")
            return BuildOutcome(False, f"unexpected error while rebuilding: {error!r}", seconds=time.perf_counter() - started)
        return BuildOutcome(True, report=report, seconds=time.perf_counter() - started)


def _identical_file(candidate: Path, corpus: Path) -> str | None:
    """The corpus file (relative path) with exactly the bytes of ``candidate``, if any."""
    size = candidate.stat().st_size
    data: bytes | None = None
    for path in corpus.rglob("*"):
        if path.name.startswith(".") or not path.is_file() or path.is_symlink() or path.stat().st_size != size:
            continue
        data = candidate.read_bytes() if data is None else data
        if path.read_bytes() == data:
            return path.relative_to(corpus).as_posix()
    return None


def _problem_text(load_error: str, build: BuildOutcome | None) -> str:
    """Why nothing can be searched: the build's error first (it is the cause), then the index's."""
    if build is None or build.ok or not build.error:
        return f"The article index cannot be used: {load_error}"
    if "no index in" in load_error:
        return f"The articles cannot be searched yet: {build.error}"
    return f"The article index cannot be used: {load_error}\n\nRebuilding it failed too: {build.error}"


__all__ = [
    "AdminDenied",
    "AppSettings",
    "BadRequest",
    "BuildOutcome",
    "BuildStatus",
    "ChatService",
    "DocumentRow",
    "SavedUpload",
    "ServiceUnavailable",
    "UploadRejected",
    "safe_file_name",
]
