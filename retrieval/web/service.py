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

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from retrieval.config import MAX_K, Settings
from retrieval.errors import RetrievalError
from retrieval.web.rebuilds import BuildOutcome, BuildStatus, RebuildQueue
from retrieval.web.settings import AppSettings
from retrieval.web.uploads import SavedUpload, UploadRejected, save_upload

if TYPE_CHECKING:
    from retrieval.answer import Answer
    from retrieval.index import BuildReport, Embedder, Progress, StoredDocument
    from retrieval.search import Retriever
    from retrieval.web.trash import TrashedFile
    from retrieval.web.watcher import CorpusWatcher

log = logging.getLogger(__name__)

REFRESH_EVERY = 5.0  # seconds between checks for an index rebuilt outside the app
RETRY_EVERY = 10.0  # seconds between rebuild attempts while no index can be loaded
BUILD_LOCK_WAIT = 30.0  # seconds a background rebuild waits for another build's lock


class ServiceUnavailable(RetrievalError):
    """No index can be used right now; the message says why and what happens next."""


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


@dataclass(frozen=True)
class DocumentRow:
    """One indexed document, as the Documents tab lists it."""

    doc_id: str  # file path relative to the corpus folder
    title: str
    kind: str
    chunks: int
    indexed_at: str


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
        self._rebuilds = RebuildQueue(self._run_build)  # one background build at a time
        self._watcher: CorpusWatcher | None = None

    # ---------------------------------------------------------------- start-up

    def start(self, progress: Progress | None = None) -> BuildOutcome:
        """Load the model, bring the index up to date, open it.

        Raises only when the model, the red-flag head or a safety data file cannot be loaded
        (ModelNotFoundError, SafetyModelError, DataFileError). Index and corpus
        problems do not stop the app: :attr:`problem` says what is wrong, the chat shows it."""
        from retrieval.index import build_index

        started = time.perf_counter()
        self.embedder.embed(["warm up"])  # load the model now, not on the first question
        from retrieval.safety import load_safety_layer
        from retrieval.search import body_parts

        load_safety_layer()  # the red-flag data files and head: a malformed one stops start-up
        body_parts("back")  # and the body-part words (search/data/body_parts.yaml)
        from retrieval.answer import load_followup_words

        load_followup_words()  # and the follow-up words (answer/data/followups.yaml)
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
        """Copy one uploaded file into the corpus folder under a safe, unused name (see
        :func:`retrieval.web.uploads.save_upload`); the caller then requests a rebuild."""
        return save_upload(
            source, Path(self.settings.corpus_dir), max_mb=self.app_settings.max_upload_mb,
            lock=self._corpus_lock, original_name=original_name,
        )

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
        return self._rebuilds.request()

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
        return self._rebuilds.wait(ticket, timeout=timeout, on_status=on_status, poll=poll)

    def status(self) -> BuildStatus:
        return self._rebuilds.status

    @property
    def latest_ticket(self) -> int:
        """The ticket of the most recent rebuild request (0 if none), e.g. one the chat made."""
        return self._rebuilds.latest_ticket

    def _run_build(self, progress: Progress) -> BuildOutcome:
        """One incremental build, then the retriever swaps to it (the queue's worker runs this)."""
        outcome = self._build_and_load(progress)
        self._last_outcome = outcome
        return outcome

    def _build_and_load(self, progress: Progress) -> BuildOutcome:
        from retrieval.index import build_index

        started = time.perf_counter()
        try:
            report = build_index(self.settings, embedder=self.embedder, progress=progress, wait_seconds=self.build_lock_wait)
            self._last_report = report
            self._rebuilds.set_stage("loading")
            self._load_or_refresh()
        except RetrievalError as error:
            return BuildOutcome(False, str(error), seconds=time.perf_counter() - started)
        except Exception as error:  # keep the worker alive and the old index serving
            log.exception("index rebuild failed")
            return BuildOutcome(False, f"unexpected error while rebuilding: {error!r}", seconds=time.perf_counter() - started)
        return BuildOutcome(True, report=report, seconds=time.perf_counter() - started)


def _problem_text(load_error: str, build: BuildOutcome | None) -> str:
    """Why nothing can be searched: the build's error first (it is the cause), then the index's."""
    if build is None or build.ok or not build.error:
        return f"The article index cannot be used: {load_error}"
    if "no index in" in load_error:
        return f"The articles cannot be searched yet: {build.error}"
    return f"The article index cannot be used: {load_error}\n\nRebuilding it failed too: {build.error}"


__all__ = [
    "AppSettings",
    "BadRequest",
    "BuildOutcome",
    "BuildStatus",
    "ChatService",
    "DocumentRow",
    "SavedUpload",
    "ServiceUnavailable",
    "UploadRejected",
]
