"""``python -m retrieval eval-writers``: the held-out writers' figures, as the user sees them,
beside the plain baseline (``baseline.py``) on the same questions.

Each set's corpus is built with the product's own ``build`` into a cache folder (incremental:
a rerun embeds nothing new) and every question is answered with ``answer_question``, as the
chat and ``/ask`` do: a declined answerable question, or one answered with an emergency card
and no passages, is a miss at every k.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from retrieval.evaluation.writer_sets import WriterSet, writer_sets

KS = (1, 3, 5)


def default_cache() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "back-pain-retrieval" / "writer-sets"


@dataclass
class SetFigures:
    name: str
    test: bool
    answerable: int
    hit_at: dict[int, float]  # what the user sees
    ranking_hit_at: dict[int, float]  # the ranking alone, as if nothing were declined
    declined: float  # answerable questions declined (not covered, dosing, pet) or carded
    carded: float  # answerable questions given an emergency card (and so no passages)
    baseline_hit_at: dict[int, float]
    should_decline: int = 0
    declined_when_uncovered: float | None = None

    def row(self) -> str:
        unc = f"{self.declined_when_uncovered:.3f}" if self.declined_when_uncovered is not None else "-"
        return (f"{self.name:<16} {'test' if self.test else 'dev':<4} {self.answerable:>4} "
                + " ".join(f"{self.hit_at[k]:>5.3f}" for k in KS) + "  "
                + " ".join(f"{self.baseline_hit_at[k]:>5.3f}" for k in KS)
                + f"  {self.declined:>6.3f} {self.carded:>6.3f} {unc:>6}  "
                + " ".join(f"{self.ranking_hit_at[k]:>5.3f}" for k in KS))


HEADER = (f"{'set':<16} {'kind':<4} {'n':>4} {'hit@1':>5} {'hit@3':>5} {'hit@5':>5}  "
          f"{'base1':>5} {'base3':>5} {'base5':>5}  {'declnd':>6} {'carded':>6} {'uncov':>6}  "
          f"{'rank1':>5} {'rank3':>5} {'rank5':>5}")


def settings_for(writer_set: WriterSet, cache: Path):  # type: ignore[no-untyped-def]
    from retrieval.config import Settings

    key = writer_set.name.split("-")[0] if writer_set.name.startswith(("medquad-", "seed-")) else writer_set.name
    return Settings.from_env().with_overrides(corpus_dir=writer_set.corpus, index_dir=cache / "indexes" / key)


def evaluate_set(writer_set: WriterSet, cache: Path, *, baseline: bool = True) -> SetFigures:
    from retrieval.answer import answer_question
    from retrieval.evaluation.baseline import PlainBaseline
    from retrieval.index import build_index
    from retrieval.search import Retriever

    settings = settings_for(writer_set, cache)
    build_index(settings)
    retriever = Retriever.load(settings)
    plain = PlainBaseline.over(writer_set.corpus) if baseline else None
    shown, ranked, base, declined, carded, uncovered = [], [], [], [], [], []
    for q in writer_set.questions:
        answer = answer_question(retriever, q.text, k=max(KS))
        is_declined = not answer.passages
        if q.expect == "decline":
            uncovered.append(is_declined)
            continue
        hits = [q.is_hit(p.chunk.text, p.chunk.doc_id) for p in answer.passages]
        if is_declined:
            result = retriever.search(q.text, k=max(KS))
            ranked.append([q.is_hit(p.chunk.text, p.chunk.doc_id) for p in result.passages])
        else:
            ranked.append(hits)
        shown.append(hits)
        declined.append(is_declined)
        carded.append(answer.triage.level == "emergency")
        if plain is not None:
            base.append([q.is_hit(text, source) for text, source in plain.search(q.text, max(KS))])

    def at(lists: list[list[bool]]) -> dict[int, float]:
        return {k: round(sum(any(x[:k]) for x in lists) / max(len(lists), 1), 4) for k in KS}

    return SetFigures(
        writer_set.name, writer_set.test, len(shown), at(shown), at(ranked),
        round(sum(declined) / max(len(declined), 1), 4), round(sum(carded) / max(len(carded), 1), 4),
        at(base) if base else {k: float("nan") for k in KS},
        len(uncovered), round(sum(uncovered) / len(uncovered), 4) if uncovered else None,
    )


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--writers", "which", type=click.Choice(["test", "dev", "all"]), default="test", show_default=True,
              help="The frozen test writers (retrieval/evaluation/data/writer_split.yaml), the others, or all.")
@click.option("--only", "only", multiple=True, help="Only sets whose name starts with this (repeatable): consumer, medquad, seed.")
@click.option("--no-baseline", is_flag=True, help="Skip the plain baseline (faster).")
@click.option("--cache", type=click.Path(path_type=Path), default=None, help="Where corpora and indexes are kept.")
@click.option("--json", "as_json", is_flag=True)
def eval_writers_command(which: str, only: tuple[str, ...], no_baseline: bool, cache: Path | None, as_json: bool) -> None:
    """Held-out writers' retrieval figures as the user sees them, beside the plain baseline.

    Needs the shared training data (../shared/train, or RETRIEVAL_TRAIN_DATA).

    \b
    Examples:
      python -m retrieval eval-writers                       # the frozen test writers
      python -m retrieval eval-writers --writers dev --only consumer --no-baseline
    """
    from retrieval.errors import RetrievalError
    from retrieval.evaluation.training_data import TrainingDataMissing

    cache = cache or default_cache()
    try:
        sets = writer_sets(cache, which=which, include=(lambda name: name.startswith(only)) if only else None)
        results = []
        if not as_json:
            click.echo(HEADER)
        for writer_set in sets:
            figures = evaluate_set(writer_set, cache, baseline=not no_baseline)
            results.append(figures)
            if not as_json:
                click.echo(figures.row())
    except (TrainingDataMissing, RetrievalError, ValueError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps([asdict(r) for r in results]))
    else:
        click.echo("hit@k: as the user sees it (declined or carded = miss); base: plain MiniLM top-k over 200-word "
                   "windows; declnd/carded: answerable questions declined / given an emergency card; uncov: "
                   "not-covered questions declined; rank: the ranking alone")
