"""One build at a time per index folder: an exclusive ``flock`` on ``<index>/.lock``, which the
kernel drops if the build dies, with a note of who holds it for the error message."""
from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from retrieval.errors import BuildLockedError
from retrieval.index.store import IndexWriteFailed, write_failure_message

LOCK_FILE = ".lock"


@contextmanager
def index_lock(index_dir: Path, *, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold an exclusive lock on the index folder. The kernel drops it if the build dies."""
    path = index_dir / LOCK_FILE
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
    except OSError as error:  # read-only or full disk, no permission: say so, no traceback
        raise IndexWriteFailed(write_failure_message(index_dir, error)) from None
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                raise BuildLockedError(
                    f"another build is already updating {index_dir}/ ({holder}); "
                    "wait for it to finish and try again"
                ) from None
            time.sleep(0.2)
    try:
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}")
            handle.flush()
        except OSError:
            pass  # the note of who holds the lock is a courtesy; the flock is what counts
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
