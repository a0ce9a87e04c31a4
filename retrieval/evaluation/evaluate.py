"""``python -m retrieval eval``: retrieval quality and honest declines on a question set.

Two question forms (see tests/eval/README.md): key phrases (``any_of``: a passage hits if it
contains one) and MedQuAD file names (``relevant``: a passage hits if it comes from one of
those files; ranking is by document). ``expect: decline`` questions measure "not covered".

The headline figures (``hit_at``, ``mrr``, ``ndcg_at_10``) are what the user sees: an
answerable question that the answer declines (not covered, about a pet, a dosing question) or
answers with an emergency card and no passages is a miss at every k. The ranking alone, as if
nothing were declined, is kept beside them (``ranking_hit_at``, ``ranking_mrr``,
``ranking_ndcg_at_10``). Triage runs as in an answer: rules plus the learned classifier.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click

from retrieval.config import Settings
from retrieval.errors import RetrievalError
from retrieval.evaluation.metrics import passage_hits_phrases, score_declines, score_rankings
from retrieval.evaluation.questions import Question, load_questions

RANK_DEPTH = 10
HIGHLIGHT_DEPTH = 3  # the passages an answer shows by default


@dataclass
class EvalResult:
    mode: str
    questions: int
    answerable: int
    hit_at: dict[int, float]
    mrr: float
    ndcg_at_10: float
    should_decline: int
    declined: float
    wrongly_declined: float
    seconds_per_query: float
    misses: list[dict[str, Any]]
    # key-phrase sets: of the passages in the top HIGHLIGHT_DEPTH that contain a key phrase, the share
    # whose highlight contains one too (the emphasised sentence is the answer); None otherwise
    highlight_hits: float | None = None
    # the ranking alone, as if no answerable question were declined (the figures before 2026-12-05)
    ranking_hit_at: dict[int, float] | None = None
    ranking_mrr: float = 0.0
    ranking_ndcg_at_10: float = 0.0


def evaluate(retriever, questions: list[Question], *, mode: str, k: int = RANK_DEPTH) -> EvalResult:  # type: ignore[no-untyped-def]
    """Run every question through ``retriever`` in ``mode`` and score the rankings."""
    from retrieval.answer import highlight_of
    from retrieval.safety import EMERGENCY, assess
    from retrieval.search import answer_declines

    relevance_lists: list[list[bool]] = []
    shown_lists: list[list[bool]] = []
    n_relevant: list[int] = []
    should_decline: list[bool] = []
    declined: list[bool] = []
    misses: list[dict[str, Any]] = []
    highlighted: list[bool] = []
    started = time.perf_counter()
    for question in questions:
        triage = assess(question.query)
        result = retriever.search(question.query, k=max(k, RANK_DEPTH), mode=mode)
        # what answer_question shows no passage for: an emergency card, a dosing decline, a pet, not covered
        is_declined = triage.level == EMERGENCY or triage.dosing or answer_declines(result, question.query, triage)
        should_decline.append(question.expect == "decline")
        declined.append(is_declined)
        if question.expect == "decline":
            continue
        if question.relevant:
            wanted = {Path(name).name for name in question.relevant}
            ranking = _documents_in_order(result.candidates)[:RANK_DEPTH]
            relevance = [Path(doc).name in wanted for doc in ranking]
            n_relevant.append(len(wanted))
        else:
            relevance = [passage_hits_phrases(p.chunk.text, question.any_of) for p in result.passages[:RANK_DEPTH]]
            n_relevant.append(1)
            highlighted += [
                passage_hits_phrases(highlight_of(p, question.query, result, retriever.embedder), question.any_of)
                for p, hit in zip(result.passages[:HIGHLIGHT_DEPTH], relevance)
                if hit
            ]
        relevance_lists.append(relevance)
        shown_lists.append([False] * len(relevance) if is_declined else relevance)
        if not any(relevance[:1]) or is_declined:
            top = result.passages[0].chunk if result.passages else None
            misses.append({"query": question.query, "rank": (relevance.index(True) + 1) if any(relevance) else None,
                           "declined": is_declined, "top": f"{top.doc_id}: {top.text[:100]}" if top else ""})
    elapsed = time.perf_counter() - started
    scores = score_rankings(shown_lists, n_relevant=n_relevant) if shown_lists else None
    ranking = score_rankings(relevance_lists, n_relevant=n_relevant) if relevance_lists else None
    decline_scores = score_declines(should_decline, declined)
    return EvalResult(
        mode=mode,
        questions=len(questions),
        answerable=len(relevance_lists),
        hit_at=dict(scores.hit_at) if scores else {},
        mrr=scores.mrr if scores else 0.0,
        ndcg_at_10=scores.ndcg_at_10 if scores else 0.0,
        should_decline=decline_scores.n_should_decline,
        declined=decline_scores.declined,
        wrongly_declined=decline_scores.wrongly_declined,
        seconds_per_query=elapsed / max(len(questions), 1),
        misses=misses,
        highlight_hits=sum(highlighted) / len(highlighted) if highlighted else None,
        ranking_hit_at=dict(ranking.hit_at) if ranking else {},
        ranking_mrr=ranking.mrr if ranking else 0.0,
        ranking_ndcg_at_10=ranking.ndcg_at_10 if ranking else 0.0,
    )


def _documents_in_order(passages) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    for passage in passages:
        if passage.chunk.doc_id not in seen:
            seen.append(passage.chunk.doc_id)
    return seen


def format_table(results: list[EvalResult]) -> str:
    """hit@k, MRR and nDCG as the user sees them (a declined answerable question is a miss);
    'rank@1' and 'rank@3' are the ranking alone, as if nothing were declined."""
    header = (f"{'mode':<8} {'n':>4} {'hit@1':>6} {'hit@3':>6} {'hit@5':>6} {'hit@10':>6} {'MRR':>6} {'nDCG@10':>7} "
              f"{'declined':>9} {'wrongly':>8} {'highlight':>9} {'rank@1':>6} {'rank@3':>6} {'ms/q':>6}")
    rows = [header, "-" * len(header)]
    for r in results:
        declined = f"{r.declined:.3f}" if r.should_decline else "-"
        highlight = f"{r.highlight_hits:.3f}" if r.highlight_hits is not None else "-"
        ranking = r.ranking_hit_at or {}
        rows.append(
            f"{r.mode:<8} {r.answerable:>4} {r.hit_at.get(1, 0):>6.3f} {r.hit_at.get(3, 0):>6.3f} {r.hit_at.get(5, 0):>6.3f} "
            f"{r.hit_at.get(10, 0):>6.3f} {r.mrr:>6.3f} {r.ndcg_at_10:>7.3f} {declined:>9} {r.wrongly_declined:>8.3f} "
            f"{highlight:>9} {ranking.get(1, 0):>6.3f} {ranking.get(3, 0):>6.3f} {1000 * r.seconds_per_query:>6.1f}"
        )
    rows.append("hit@k, MRR, nDCG: as the user sees them (a declined answerable question is a miss at every k); "
                "rank@k: the ranking alone")
    return "\n".join(rows)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("questions_file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path), help="Build/update the index from this folder first.")
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder [default index/].")
@click.option("-k", "--top-k", "top_k", type=click.IntRange(1, 50), default=RANK_DEPTH, show_default=True)
@click.option("--mode", type=click.Choice(["hybrid", "dense", "bm25", "all"]), default="hybrid", show_default=True,
              help="Retrieval method; 'all' compares the three.")
@click.option("--misses", "show_misses", is_flag=True, help="List the questions whose first passage missed.")
@click.option("--json", "as_json", is_flag=True)
def eval_command(questions_file: Path, corpus_dir: Path | None, index_dir: Path | None, top_k: int, mode: str, show_misses: bool, as_json: bool) -> None:
    """Score retrieval on QUESTIONS_FILE as the user sees it: hit@1/3/5/10, MRR, nDCG@10, declines.

    A declined answerable question is a miss at every k; rank@1 and rank@3 show the ranking
    alone, as if nothing were declined.

    \b
    Examples:
      python -m retrieval eval tests/eval/seed_questions.jsonl
      python -m retrieval eval ../shared/eval/medquad/qrels_small.jsonl \\
          --corpus ../shared/eval/medquad/corpus_small --index /tmp/medquad-index --mode all
    """
    from retrieval.index import build_index
    from retrieval.search import Retriever

    try:
        questions = load_questions(questions_file)
        settings = Settings.from_env().with_overrides(corpus_dir=corpus_dir, index_dir=index_dir)
        if corpus_dir is not None:
            report = build_index(settings)
            if report.wrote_index:
                click.echo(f"indexed {report.documents} documents ({report.embedded} chunks embedded)", err=True)
        retriever = Retriever.load(settings)
        modes = ["hybrid", "dense", "bm25"] if mode == "all" else [mode]
        results = [evaluate(retriever, questions, mode=m, k=top_k) for m in modes]
    except (RetrievalError, ValueError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps([asdict(r) for r in results], ensure_ascii=False))
        return
    click.echo(f"{questions_file}: {len(questions)} questions")
    click.echo(format_table(results))
    if show_misses:
        for r in results:
            for miss in r.misses:
                shown = "declined" if miss["declined"] else f"rank {miss['rank']}"
                click.echo(f"[{r.mode}] {shown}: {miss['query']}\n    top: {miss['top']}")
