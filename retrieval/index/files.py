"""Durable file writes for the index: each file fsynced before the manifest that names it, JSON
replaced atomically, and the size and SHA-256 records the manifest checks a load against."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np


def write_npy(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as handle:
        np.save(handle, array)
        sync(handle)


def write_jsonl(path: Path, rows) -> None:  # type: ignore[no-untyped-def]
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        sync(handle)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def write_json_atomically(path: Path, value: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(value, handle, ensure_ascii=False, indent=1)
            sync(handle)
        os.replace(tmp, path)
        sync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def file_record(path: Path) -> dict[str, Any]:
    return {"bytes": total_size(path), "sha256": sha256_of(path)}


def _files_in(path: Path) -> list[Path]:
    """``path`` itself, or for a folder (BM25) the files in it, in a fixed order."""
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]


def total_size(path: Path) -> int:
    return sum(file.stat().st_size for file in _files_in(path))


def sha256_of(path: Path) -> str:
    """Of the file, or of a folder's file names and contents."""
    digest = hashlib.sha256()
    for file in _files_in(path):
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def sync(handle) -> None:  # type: ignore[no-untyped-def]
    handle.flush()
    os.fsync(handle.fileno())


def sync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
