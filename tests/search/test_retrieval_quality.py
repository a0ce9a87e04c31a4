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
    # card, is a miss at every k), measured 2026-12-07 with the fine-tuned relevance encoder and
    # the red-flag classifier: hit@1 0.691, hit@3 0.864, hit@5 0.900, MRR 0.777 (2026-12-05, with
    # the bundled MiniLM, hand-tuned titles and sentence vectors: 0.718 / 0.855 / 0.882 / 0.791;
    # this set is the team's own, in-sample for the old settings: EVALUATION.md).
    assert hybrid.hit_at[1] >= 0.67
    assert hybrid.hit_at[3] >= 0.85
    assert hybrid.hit_at[5] >= 0.88
    assert hybrid.mrr >= 0.76
    # The ranking alone, as if nothing were declined: measured hit@1 0.727, hit@3 0.909, MRR 0.818.
    assert hybrid.ranking_hit_at[1] >= 0.71
    assert hybrid.ranking_hit_at[3] >= 0.89
    assert hybrid.ranking_mrr >= 0.80
    assert hybrid.hit_at[1] <= hybrid.ranking_hit_at[1] and hybrid.mrr <= hybrid.ranking_mrr
    # of the shown passages that answer, the share whose highlight holds the answer's key phrase
    assert hybrid.highlight_hits >= 0.64  # measured 0.664 (0.696 with sentence vectors in the index)


def test_hybrid_beats_each_retriever_alone_on_the_seed_set(seed_results) -> None:  # type: ignore[no-untyped-def]
    assert seed_results["hybrid"].mrr > seed_results["dense"].mrr
    assert seed_results["hybrid"].mrr > seed_results["bm25"].mrr


def test_seed_set_not_covered_questions_are_declined(seed_results) -> None:  # type: ignore[no-untyped-def]
    hybrid = seed_results["hybrid"]
    assert hybrid.should_decline >= 40
    # measured 0.667 (second round: threshold 0.25, chosen on writers the encoder never saw, where
    # 2.7% of their answerable questions are wrongly declined); 0.708 at 0.30; 0.875 with 0.40 and
    # a body-part rule tuned on this set
    assert hybrid.declined >= 0.64
    # measured 0.055 (6 of 110, emergency cards and dosing declines included); 0.027 before
    assert hybrid.wrongly_declined <= 0.07


@pytest.mark.slow
def test_medquad_small_document_ranking(tmp_path_factory: pytest.TempPathFactory, embedder) -> None:  # type: ignore[no-untyped-def]
    base = tmp_path_factory.mktemp("medquad")
    shutil.copytree(DATA / "medquad_small" / "corpus", base / "corpus")
    settings = Settings(corpus_dir=base / "corpus", index_dir=base / "index")
    build_index(settings, embedder=embedder)
    retriever = Retriever.load(settings, embedder=embedder)
    result = evaluate(retriever, load_questions(DATA / "medquad_small" / "qrels_small.jsonl"), mode="hybrid")
    assert result.answerable == 295
    # MedQuAD's template questions ("What is (are) Glaucoma ?", written from the titles), measured
    # 2026-12-07: hit@1 0.868, hit@5 0.997, MRR 0.926 (the bundled MiniLM in the same pipeline:
    # 0.902 / 0.997 / 0.944). 0.959 / 0.977 before, with the title rewriting tuned on this set and
    # removed because it did not earn its place on independent writers' questions (EVALUATION.md).
    assert result.hit_at[1] >= 0.85
    assert result.hit_at[5] >= 0.99
    assert result.mrr >= 0.91


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
