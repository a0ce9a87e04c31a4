"""The build's first half: find the corpus files, read and clean them (through the stages, so a
cluster can do it), drop duplicated paragraphs, and hash each document's final text so that an
unchanged one keeps its vectors."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from retrieval.index.report import BuildReport
from retrieval.index.stages import Progress, Stages
from retrieval.ingest import SUPPORTED_SUFFIXES, RawDocument, deduplicate


@dataclass(frozen=True)
class PreparedDocument:
    doc_id: str
    title: str
    text: str
    kind: str
    content_hash: str
    chars_in: int
    chars_removed: int
    removals: dict[str, int]


def discover_files(corpus_dir: Path, report: BuildReport) -> list[tuple[Path, str]]:
    """Files under ``corpus_dir`` as (path, doc id), skipping (with a reason) what we cannot use."""
    root = corpus_dir.resolve()
    found: list[tuple[Path, str]] = []
    for dirpath, dirnames, filenames in os.walk(corpus_dir, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            # os.walk does not follow it; say so rather than ignore it silently.
            dirnames.remove(name)
            link = (Path(dirpath) / name).relative_to(corpus_dir).as_posix()
            report.skipped.append({"path": link, "reason": "symbolic link to a folder: not followed (copy the files into the corpus folder)"})
        for name in sorted(filenames):
            path = Path(dirpath) / name
            doc_id = path.relative_to(corpus_dir).as_posix()
            if name.startswith("."):
                continue
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root):
                    report.skipped.append({"path": doc_id, "reason": "symbolic link to a file outside the corpus folder"})
                    continue
            if not path.is_file():
                report.skipped.append({"path": doc_id, "reason": "not a regular file"})
                continue
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                report.skipped.append(
                    {"path": doc_id, "reason": f"unsupported file type {path.suffix or '(no extension)'}; "
                     f"supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}"}
                )
                continue
            found.append((path, doc_id))
    return found


def prepare_documents(corpus_dir: Path, report: BuildReport, progress: Progress | None, stages: Stages) -> list[PreparedDocument]:
    files = discover_files(corpus_dir, report)
    cleaned: dict[str, tuple[RawDocument, str, int, dict[str, int]]] = {}
    for item in stages.clean(files, progress):
        if item.document is None:
            report.skipped.append({"path": item.doc_id, "reason": item.skipped})
            continue
        report.notes.extend(f"{item.doc_id}: {note}" for note in item.document.notes)
        cleaned[item.doc_id] = (item.document, item.text, item.chars_in, dict(item.removals))
    deduplicated = deduplicate({doc_id: value[1] for doc_id, value in cleaned.items()})
    prepared = []
    for doc_id, (document, _, chars_in, removals) in cleaned.items():
        dedup = deduplicated[doc_id]
        if dedup.removed_paragraphs:
            removals["duplicate of another document"] = len(cleaned[doc_id][1]) - len(dedup.text)
            report.notes.append(
                f"{doc_id}: {dedup.removed_paragraphs} paragraph(s) also in {', '.join(dedup.duplicate_of)} "
                "were indexed there only"
            )
        if dedup.removed_paragraphs and not any(len(line.split()) >= 12 for line in dedup.text.split("\n")):
            # Only headings and fragments are left: the whole document is a copy.
            report.skipped.append({"path": doc_id, "reason": f"duplicate of {', '.join(dedup.duplicate_of)}"})
            continue
        content_hash = hashlib.sha256(f"{document.title}\n{dedup.text}".encode()).hexdigest()
        chars_removed = max(chars_in - len(dedup.text), 0)
        report.cleaning.append(
            {
                "path": doc_id,
                "chars_in": chars_in,
                "chars_removed": chars_removed,
                "percent_removed": round(100 * chars_removed / max(chars_in, 1), 1),
                "removed": removals,
            }
        )
        prepared.append(
            PreparedDocument(doc_id, document.title, dedup.text, document.kind, content_hash, chars_in, chars_removed, removals)
        )
    return prepared


def empty_corpus_message(corpus_dir: Path, report: BuildReport) -> str:
    if not report.skipped:
        return f"corpus folder {corpus_dir}/ has no documents: add .txt, .md, .html or .pdf files"
    reasons = "; ".join(f"{s['path']}: {s['reason']}" for s in report.skipped[:5])
    more = f" (and {len(report.skipped) - 5} more)" if len(report.skipped) > 5 else ""
    return f"no readable documents in {corpus_dir}/: {len(report.skipped)} skipped: {reasons}{more}"
