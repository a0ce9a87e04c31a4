"""The exceptions this package raises. Only the edges (cli.py, app.py) turn them into messages.

    RetrievalError
    ├── CorpusError            the corpus folder is missing, empty or unreadable
    ├── IndexProblem           the index cannot be used as it is
    │   ├── IndexNotFoundError     no index has been built yet
    │   ├── IndexCorruptError      files are missing, truncated or disagree with the manifest
    │   └── IndexMismatchError     built with another model or format
    ├── IndexWriteFailed       the new index could not be written (disk full, read-only); old one stands
    ├── BuildLockedError       another build holds the index lock
    ├── ModelNotFoundError     the embedding model cannot be loaded offline
    │   └── SafetyModelError       the learned red-flag head is missing or malformed
    ├── DocumentRejected       one document cannot be read (reported and skipped)
    └── DataFileError          a lexicon, bank or wording file is malformed (names file and line)

Every message says what to do next.
"""

from __future__ import annotations

REBUILD_HINT = "run `python -m retrieval build --full` to rebuild it"


class RetrievalError(Exception):
    """Base class: a problem the user can act on; its message says how."""


class CorpusError(RetrievalError):
    """The corpus folder is missing, empty, or has no readable document."""


class IndexProblem(RetrievalError):
    """The index cannot be used as it is."""


class IndexNotFoundError(IndexProblem):
    """No index exists in the index folder yet."""


class IndexCorruptError(IndexProblem):
    """Index files are missing, truncated, or disagree with the manifest."""


class IndexMismatchError(IndexProblem):
    """The index was built with another model or an unknown format version."""


class IndexWriteFailed(RetrievalError):
    """The new index could not be written (disk full, read-only folder); the old one stands."""


class BuildLockedError(RetrievalError):
    """Another build is running on the same index folder."""


class ModelNotFoundError(RetrievalError):
    """The embedding model cannot be found or loaded without the network."""


class SafetyModelError(ModelNotFoundError):
    """The red-flag classifier (models/redflag-classifier/: int8 ONNX and head.npz) is missing or damaged."""


class DocumentRejected(RetrievalError):
    """One document cannot be indexed; ``reason`` is shown in the build report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DataFileError(RetrievalError):
    """A data file the code reads at start-up (red-flag lexicon, care wording, body-part words)
    is malformed. The message names the file and the line, and what is wrong there."""

    def __init__(self, path: object, line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line else f"{path}"
        hint = "" if str(path).startswith("/") else f" (fix the file, or restore it with `git checkout -- {path}`)"
        super().__init__(f"{where}: {problem}{hint}")
        self.path, self.line, self.problem = path, line, problem

