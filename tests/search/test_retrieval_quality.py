"""Retrieval quality must not fall below what we measured (EVALUATION.md, "Retrieval").

Thresholds sit a little under the measured figures, so a change that makes retrieval worse
fails here; `python -m retrieval eval ... --mode all` prints the full table.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from retrieval.config import Settings
from retrieval.evaluation.evaluate import evaluate
from retrieval.evaluation.questions import load_questions
from retrieval.index.build import build_index
from retrieval.search.retriever import Retriever

DATA = Path(__file__).resolve().parents[1] / "data"
SEED_QUESTIONS = Path(__file__).resolve().parents[1] / "eval" / "seed_questions.jsonl"


@pytest.fixture(scope="module")
def seed_results(seed_retriever):  # type: ignore[no-untyped-def]
    questions = load_questions(SEED_QUESTIONS)
    return {mode: evaluate(seed_retriever, questions, mode=mode) for mode in ("hybrid", "dense", "bm25")}


def test_seed_set_hybrid_ranks_the_answer_first_often(seed_results) -> None:  # type: ignore[no-untyped-def]
    hybrid = seed_results["hybrid"]
    assert hybrid.answerable >= 110
    # As the user sees it (a declined answerable question, or one answered with an emergency
    # card, is a miss at every k), measured 2026-12-05 with the learned red-flag head:
    # hit@1 0.718, hit@3 0.855, hit@5 0.882, MRR 0.791.
    assert hybrid.hit_at[1] >= 0.70
    assert hybrid.hit_at[3] >= 0.84
    assert hybrid.hit_at[5] >= 0.87
    assert hybrid.mrr >= 0.78
    # The ranking alone, as if nothing were declined: measured 0.736 (0.773 before the search
    # keyword was cleaned out of one title, EVALUATION.md "Keyword-stuffed titles"; 0.691 without
    # sentence vectors), hit@3 0.882, MRR 0.813.
    assert hybrid.ranking_hit_at[1] >= 0.72
    assert hybrid.ranking_hit_at[3] >= 0.86
    assert hybrid.ranking_mrr >= 0.80
    assert hybrid.hit_at[1] <= hybrid.ranking_hit_at[1] and hybrid.mrr <= hybrid.ranking_mrr
    # of the shown passages that answer, the share whose highlight holds the answer's key phrase
    assert hybrid.highlight_hits >= 0.68  # measured 0.696 (0.635 by words in common alone)


def test_hybrid_beats_each_retriever_alone_on_the_seed_set(seed_results) -> None:  # type: ignore[no-untyped-def]
    assert seed_results["hybrid"].mrr > seed_results["dense"].mrr
    assert seed_results["hybrid"].mrr > seed_results["bm25"].mrr


def test_seed_set_not_covered_questions_are_declined(seed_results) -> None:  # type: ignore[no-untyped-def]
    hybrid = seed_results["hybrid"]
    assert hybrid.should_decline >= 40
    assert hybrid.declined >= 0.85  # measured 0.875 (0.854 without sentence vectors, 0.771 before the body-part rule)
    # measured 0.027 (3 of 110): 0.009 before emergency cards and dosing declines counted as
    # declines and before the learned red-flag head
    assert hybrid.wrongly_declined <= 0.04


@pytest.mark.slow
def test_medquad_small_document_ranking(tmp_path_factory: pytest.TempPathFactory, embedder) -> None:  # type: ignore[no-untyped-def]
    base = tmp_path_factory.mktemp("medquad")
    shutil.copytree(DATA / "medquad_small" / "corpus", base / "corpus")
    settings = Settings(corpus_dir=base / "corpus", index_dir=base / "index")
    build_index(settings, embedder=embedder)
    retriever = Retriever.load(settings, embedder=embedder)
    result = evaluate(retriever, load_questions(DATA / "medquad_small" / "qrels_small.jsonl"), mode="hybrid")
    assert result.answerable == 295
    # measured 0.959 / MRR 0.977; without sentence vectors 0.973 / 0.984, also without names_title
    # 0.922 / 0.956, also without document support 0.895 / 0.941
    assert result.hit_at[1] >= 0.95
    assert result.hit_at[5] >= 0.99  # measured 1.000
    assert result.mrr >= 0.97


def test_eval_counts_what_the_user_sees_a_declined_answer_is_a_miss(seed_retriever) -> None:  # type: ignore[no-untyped-def]
    """The same question, once plainly and once with an emergency in it: the ranking finds the
    answer both times, but the user is shown passages only the first time."""
    from retrieval.evaluation.questions import Question

    plain = Question("How should I sleep with low back pain?", any_of=("sleep",))
    with_emergency = Question("How should I sleep with low back pain? I can't feel my bum when I wipe.", any_of=("sleep",))
    shown = evaluate(seed_retriever, [plain], mode="hybrid")
    hidden = evaluate(seed_retriever, [with_emergency], mode="hybrid")
    assert shown.hit_at[1] == shown.ranking_hit_at[1] == 1.0 and shown.wrongly_declined == 0.0
    assert hidden.ranking_hit_at[3] == 1.0  # the ranking alone still finds it ...
    assert hidden.hit_at[3] == 0.0 and hidden.mrr == 0.0  # ... but the user sees a care card, no passage
    assert hidden.wrongly_declined == 1.0 and hidden.misses[0]["declined"] is True
