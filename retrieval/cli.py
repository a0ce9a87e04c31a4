"""Command line: ``python -m retrieval build | ask | chunks | clean | status | eval | feedback``.

Each command validates its input, calls one library function and formats the result. Library
errors become a one-line message on stderr and exit code 1 (2 for usage errors); no traceback.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from retrieval.config import MAX_K, Settings
from retrieval.errors import RetrievalError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings.from_env().with_overrides(**overrides)
    except ValueError as error:
        raise click.UsageError(str(error)) from None


def _friendly_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except RetrievalError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


corpus_option = click.option(
    "--corpus", "corpus_dir", type=click.Path(path_type=Path), help="Articles folder [env RETRIEVAL_CORPUS; default corpus/]"
)
index_option = click.option(
    "--index", "index_dir", type=click.Path(path_type=Path), help="Index folder [env RETRIEVAL_INDEX; default index/]"
)
model_option = click.option(
    "-m", "--model", help="sentence-transformers model name or folder [env RETRIEVAL_MODEL]"
)
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="back-pain-retrieval")
def main() -> None:
    """Search a folder of back and leg pain articles.

    \b
    Quick start:
      python -m retrieval build                 # clean, chunk, embed, index corpus/
      python -m retrieval ask "how should I sleep with low back pain?"
      python -m retrieval clean corpus/x.txt    # see what cleaning keeps
    """


@main.command(context_settings=CONTEXT)
@corpus_option
@index_option
@model_option
@click.option("--full", is_flag=True, help="Re-embed everything instead of only what changed.")
@click.option("--wait", "wait_seconds", type=float, default=0.0, show_default=True, help="Seconds to wait if another build holds the lock.")
@click.option("--cluster", envvar="RETRIEVAL_CLUSTER", default="", metavar="ray",
              help="Read, chunk and embed on a Ray cluster (RAY_ADDRESS, or a local one) [env RETRIEVAL_CLUSTER].")
@json_option
@_friendly_errors
def build(corpus_dir: Path | None, index_dir: Path | None, model: str | None, full: bool, wait_seconds: float, cluster: str, as_json: bool) -> None:
    """Build or update the index, embedding only new and changed documents.

    \b
    Examples:
      python -m retrieval build
      python -m retrieval build --full --json
      RAY_ADDRESS=10.0.0.5:6379 python -m retrieval build --cluster ray
    """
    from retrieval.index import build_index, stages_for

    settings = _settings(corpus_dir=corpus_dir, index_dir=index_dir, model=model)
    stages = stages_for(cluster.strip().lower())
    progress = None if as_json or not sys.stderr.isatty() else _TerminalProgress()
    try:
        # Only the report goes to stdout (``--json`` is a contract): anything a library prints
        # while building (Ray's "(raylet) ..." lines about retried work, say) goes to stderr.
        with _stdout_to_stderr():
            try:
                report = build_index(settings, full=full, progress=progress, wait_seconds=wait_seconds, stages=stages)
            finally:
                getattr(stages, "close", lambda: None)()  # a cluster connection: no late log lines
    finally:
        if progress:
            progress.close()
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
        return
    _print_build_report(report, settings)


@contextlib.contextmanager
def _stdout_to_stderr() -> Any:
    """Send this process's stdout (Python's and the file descriptor, which native code such as
    Ray's core writes to) to stderr until the block ends."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


class _TerminalProgress:
    """tqdm bars on stderr (with time left), one per stage."""

    def __init__(self) -> None:
        self._bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        bar = self._bars.get(stage)
        if bar is None:
            unit = "text" if stage == "embedding" else "doc"  # embedding: passages and their sentences
            bar = self._bars[stage] = tqdm(total=total, desc=stage.capitalize(), unit=unit, file=sys.stderr, leave=stage == "embedding")
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()


def _print_build_report(report: Any, settings: Settings) -> None:
    if report.full_rebuild and report.full_rebuild_reason not in ("no previous index",):
        click.echo(f"Full rebuild: {report.full_rebuild_reason}")
    if not report.wrote_index:
        click.echo(f"Index is up to date: {report.documents} documents, {report.chunks} chunks ({report.seconds:.2f}s).")
    else:
        click.echo(
            f"Indexed {report.documents} documents, {report.chunks} chunks in {report.seconds:.1f}s: "
            f"{len(report.added_documents)} new, {len(report.changed_documents)} changed, {report.removed} removed, "
            f"{report.unchanged_documents} unchanged ({report.embedded} chunks embedded, {report.reused} reused)."
        )
    for item in report.cleaning:
        if item["chars_removed"]:
            click.echo(f"  cleaned {item['path']}: removed {item['chars_removed']:,} of {item['chars_in']:,} characters ({item['percent_removed']}%)")
    for note in report.notes:
        click.echo(f"  note: {note}")
    for skipped in report.skipped:
        click.echo(f"  skipped {skipped['path']}: {skipped['reason']}", err=True)


@main.command(context_settings=CONTEXT)
@click.argument("question", required=False)
@index_option
@model_option
@click.option("-k", "--top-k", "top_k", type=click.IntRange(1, MAX_K), help="Passages to show [default 3].")
@click.option("--locale", help="Emergency numbers: uk (999/111), us (911), eu (112) [env RETRIEVAL_LOCALE].")
@click.option("--mode", "search_mode", type=click.Choice(["hybrid", "dense", "bm25"]), help="Retrieval method [default hybrid].")
@json_option
@_friendly_errors
def ask(question: str | None, index_dir: Path | None, model: str | None, top_k: int | None, locale: str | None, search_mode: str | None, as_json: bool) -> None:
    """Answer QUESTION with passages from the articles (or one question per stdin line).

    \b
    Examples:
      python -m retrieval ask "is heat or ice better for a sore back?"
      printf 'sciatica stretches\\nsleeping position\\n' | python -m retrieval ask --json
    """
    from retrieval.answer import answer_question, render_text
    from retrieval.safety import normalise_locale
    from retrieval.search import Retriever

    try:
        locale = normalise_locale(locale) if locale else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--locale") from None
    settings = _settings(index_dir=index_dir, model=model, top_k=top_k, locale=locale, search_mode=search_mode)
    retriever = Retriever.load(settings)
    from retrieval.safety import load_safety_layer

    load_safety_layer()  # a malformed red-flag head or data file is an error before any answer
    questions = [question] if question is not None else (line.rstrip("\n") for line in sys.stdin)
    color = sys.stdout.isatty()
    for text in questions:
        if question is None and not text.strip():
            continue
        answer = answer_question(retriever, text, k=settings.top_k)
        if as_json:
            click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
        else:
            click.echo(render_text(answer, color=color) + ("\n" if question is None else ""))
        sys.stdout.flush()


@main.command(context_settings=CONTEXT)
@index_option
@json_option
@_friendly_errors
def chunks(index_dir: Path | None, as_json: bool) -> None:
    """List the indexed chunks (one JSON object per line with --json)."""
    from retrieval.index import load_index

    settings = _settings(index_dir=index_dir)
    data = load_index(Path(settings.index_dir))
    for chunk in data.chunks:
        if as_json:
            row = {"id": chunk.id, "source": chunk.doc_id, "title": chunk.title, "text": chunk.text, "tokens": chunk.tokens,
                   "section": chunk.section, "start": chunk.start, "end": chunk.end, "pages": list(chunk.pages)}
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            preview = chunk.text.replace("\n", " ")
            click.echo(f"{chunk.id:<50} {chunk.tokens:>4} tok  {preview[:70]}")


@main.command(context_settings=CONTEXT)
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--explain", is_flag=True, help="Also list what was removed and why (on stderr).")
@_friendly_errors
def clean(file: Path, explain: bool) -> None:
    """Print the cleaned text of FILE, as it would be indexed."""
    from retrieval.errors import DocumentRejected
    from retrieval.ingest import clean_text, read_document

    try:
        document = read_document(file, file.name)
    except DocumentRejected as rejected:
        raise RetrievalError(f"{file} cannot be indexed: {rejected.reason}") from None
    result = clean_text(document.text, title=document.title)
    click.echo(f"# {result.title}\n")
    click.echo(result.text.replace("\f", "\n[page break]\n"))
    if explain:
        click.echo(f"\n--- removed {result.chars_removed:,} of {result.chars_in:,} characters ---", err=True)
        if result.title != document.title:
            click.echo(f"[keyword stuffing in the title] {document.title}", err=True)
        for removal in result.removed:
            click.echo(f"[{removal.reason}] {removal.text}", err=True)


@main.command(context_settings=CONTEXT)
@index_option
@json_option
@_friendly_errors
def status(index_dir: Path | None, as_json: bool) -> None:
    """Show what is indexed: documents, chunks, model, build time."""
    from retrieval.index import load_index

    settings = _settings(index_dir=index_dir)
    data = load_index(Path(settings.index_dir))
    manifest = data.manifest
    if as_json:
        click.echo(json.dumps({k: manifest[k] for k in ("built_at", "model", "chunking", "counts", "documents")}, ensure_ascii=False))
        return
    counts = manifest["counts"]
    click.echo(f"{settings.index_dir}/: {counts['documents']} documents, {counts['chunks']} chunks, built {manifest['built_at']}")
    click.echo(f"model: {manifest['model']['name']} ({manifest['model']['fingerprint']}), chunking: {manifest['chunking']}")
    for doc_id, doc in sorted(manifest["documents"].items()):
        click.echo(f"  {doc_id}: {doc['chunks']} chunks, \"{doc['title'][:60]}\"")


@main.command(context_settings=CONTEXT)
@index_option
@click.option("--format", "output_format", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True,
              help="CSV with a header row, or one JSON object per line.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write to this file instead of stdout.")
@_friendly_errors
def feedback(index_dir: Path | None, output_format: str, output: Path | None) -> None:
    """Export the feedback people gave answers in the chat (newest first).

    It is stored on this machine only, in <index>/app-data/feedback.sqlite3."""
    import csv
    import io

    from retrieval.web import feedback as store

    settings = _settings(index_dir=index_dir)
    items = [store.as_dict(item) for item in store.all_feedback(store.feedback_path(Path(settings.index_dir)))]
    buffer = io.StringIO()
    if output_format == "jsonl":
        for item in items:
            buffer.write(json.dumps(item, ensure_ascii=False) + "\n")
    else:
        writer = csv.DictWriter(buffer, fieldnames=list(store.Feedback.__dataclass_fields__))
        writer.writeheader()
        writer.writerows(items)
    if output is None:
        click.echo(buffer.getvalue(), nl=False)
    else:
        output.write_text(buffer.getvalue(), encoding="utf-8")
        click.echo(f"Wrote {len(items)} ratings to {output}", err=True)
    if not items:
        click.echo("No feedback has been given yet.", err=True)


def _eval_command() -> click.Command:
    from retrieval.evaluation import eval_command

    return eval_command


main.add_command(_eval_command(), name="eval")


def _eval_writers_command() -> click.Command:
    from retrieval.evaluation import eval_writers_command

    return eval_writers_command


main.add_command(_eval_writers_command(), name="eval-writers")
