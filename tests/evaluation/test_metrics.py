"""Tests for retrieval.evaluation.metrics, with expected values worked out by hand (the question
files and the seed set's own checks are in test_questions.py)."""
from __future__ import annotations

import dataclasses
import doctest
import math

import pytest

from retrieval.evaluation import metrics
from retrieval.evaluation.metrics import (
    DeclineScores,
    RetrievalScores,
    first_relevant_rank,
    hit_at_k,
    mean_reciprocal_rank,
    ndcg_at_k,
    normalise_for_match,
    passage_hits_phrases,
    score_declines,
    score_rankings,
)



def log2_discount(rank: int) -> float:
    return 1.0 / math.log2(rank + 1)


# --- docstring examples -------------------------------------------------------------------


def test_docstring_examples_are_correct():
    result = doctest.testmod(metrics, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# --- normalisation and phrase matching ------------------------------------------------------


def test_normalise_lowercases_and_collapses_whitespace():
    assert normalise_for_match("  Sleep\ton\n\n YOUR   side\u00a0 ") == "sleep on your side"


def test_normalise_unifies_curly_quotes_and_dashes():
    text = "\u2018slid disc\u2019 \u201cintense\u201d 7\u20139 hours \u2014 it\u2019s"
    assert normalise_for_match(text) == "'slid disc' \"intense\" 7-9 hours - it's"


def test_normalise_drops_invisible_characters():
    assert normalise_for_match("back\u00adache\u200b pain\ufeff") == "backache pain"


def test_passage_hits_phrases_is_case_and_whitespace_insensitive():
    passage = "A firmer\n   MATTRESS is best.\nDiscomfort is a leading cause"
    assert passage_hits_phrases(passage, ["firmer mattress is best"])
    assert passage_hits_phrases(passage, ["no such phrase", "best. discomfort"])
    assert not passage_hits_phrases(passage, ["softer mattress"])


def test_passage_hits_phrases_curly_quotes_match_straight():
    assert passage_hits_phrases("there\u2019s no demand to run", ["there's no demand"])
    assert passage_hits_phrases("there's no demand to run", ["there\u2019s no demand"])


def test_passage_hits_phrases_empty_inputs():
    assert not passage_hits_phrases("some text", [])
    assert not passage_hits_phrases("some text", ["", "  \n "])
    assert not passage_hits_phrases("", ["some text"])


def test_passage_hits_phrases_rejects_bare_string():
    with pytest.raises(TypeError):
        passage_hits_phrases("some text", "some")  # type: ignore[arg-type]


# --- ranks, hit@k, MRR ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relevance", "expected"),
    [
        ([True, False, True], 1),
        ([False, False, True, True], 3),
        ([0, 0.0, 1.0], 3),
        ([False, False], None),
        ([], None),
    ],
)
def test_first_relevant_rank(relevance, expected):
    assert first_relevant_rank(relevance) == expected


def test_hit_at_k_hand_computed():
    ranks = [1, 2, 5, None, 11, 3]
    assert hit_at_k(ranks, 1) == pytest.approx(1 / 6)
    assert hit_at_k(ranks, 3) == pytest.approx(3 / 6)
    assert hit_at_k(ranks, 5) == pytest.approx(4 / 6)
    assert hit_at_k(ranks, 10) == pytest.approx(4 / 6)
    assert hit_at_k(ranks, 11) == pytest.approx(5 / 6)


def test_hit_at_k_empty_and_all_misses():
    assert hit_at_k([], 3) == 0.0
    assert hit_at_k([None, None], 3) == 0.0


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_hit_at_k_rejects_bad_k(k):
    with pytest.raises(ValueError):
        hit_at_k([1], k)


@pytest.mark.parametrize("rank", [0, -2, 1.5])
def test_hit_at_k_rejects_bad_ranks(rank):
    with pytest.raises(ValueError):
        hit_at_k([1, rank], 3)


def test_mrr_hand_computed_with_default_cutoff():
    # 1/1 + 1/2 + 1/4 + 1/10 + 0 (rank 11 is past the cutoff) + 0 (None) = 1.85, over 6 queries
    ranks = [1, 2, 4, 10, 11, None]
    assert mean_reciprocal_rank(ranks) == pytest.approx(1.85 / 6)


def test_mrr_cutoff_zeroes_late_ranks():
    ranks = [1, 2, 4, 10]
    # cutoff 3: 1 + 1/2 + 0 + 0 = 1.5, over 4
    assert mean_reciprocal_rank(ranks, cutoff=3) == pytest.approx(1.5 / 4)
    # cutoff 4: 1 + 1/2 + 1/4 + 0 = 1.75, over 4
    assert mean_reciprocal_rank(ranks, cutoff=4) == pytest.approx(1.75 / 4)
    # cutoff 1 is exactly hit@1
    assert mean_reciprocal_rank(ranks, cutoff=1) == pytest.approx(hit_at_k(ranks, 1))


def test_mrr_empty_and_bad_cutoff():
    assert mean_reciprocal_rank([]) == 0.0
    assert mean_reciprocal_rank([None]) == 0.0
    with pytest.raises(ValueError):
        mean_reciprocal_rank([1], cutoff=0)


# --- nDCG --------------------------------------------------------------------------------------


def test_ndcg_perfect_and_empty_lists():
    assert ndcg_at_k([[True, False, False]], k=3) == pytest.approx(1.0)
    assert ndcg_at_k([[True, True, False]], k=3) == pytest.approx(1.0)
    assert ndcg_at_k([[False, False]], k=2) == 0.0
    assert ndcg_at_k([[]], k=2) == 0.0
    assert ndcg_at_k([]) == 0.0


def test_ndcg_single_relevant_at_rank_3():
    # DCG = 1/log2(4) = 0.5; ideal: one relevant item at rank 1, IDCG = 1.
    assert ndcg_at_k([[False, False, True]], k=3) == pytest.approx(0.5)


def test_ndcg_known_value_two_relevant():
    # [F, T, F, T]: DCG = 1/log2(3) + 1/log2(5) = 0.63093 + 0.43068 = 1.06161
    # IDCG (2 relevant) = 1 + 1/log2(3) = 1.63093  ->  0.65093
    value = ndcg_at_k([[False, True, False, True]], k=4)
    assert value == pytest.approx(0.650921, abs=1e-6)
    assert value == pytest.approx(
        (log2_discount(2) + log2_discount(4)) / (log2_discount(1) + log2_discount(2))
    )


def test_ndcg_truncates_at_k_but_ideal_counts_whole_list():
    # Relevant items at ranks 2 and 5; k = 3 keeps only rank 2 in the DCG (1/log2(3) = 0.63093),
    # but the list holds 2 relevant items, so IDCG@3 = 1 + 1/log2(3) = 1.63093 -> 0.38685.
    value = ndcg_at_k([[False, True, False, False, True]], k=3)
    assert value == pytest.approx(log2_discount(2) / (1 + log2_discount(2)))
    assert value == pytest.approx(0.386853, abs=1e-6)


def test_ndcg_with_n_relevant_uses_declared_count():
    # One relevant item at rank 1, but 3 relevant documents exist:
    # IDCG@10 = 1 + 1/log2(3) + 1/log2(4) = 2.13093 -> nDCG = 0.46928
    value = ndcg_at_k([[True, False, False]], k=10, n_relevant=[3])
    assert value == pytest.approx(1 / (1 + log2_discount(2) + log2_discount(3)))
    assert value == pytest.approx(0.469279, abs=1e-6)


def test_ndcg_n_relevant_is_capped_at_k():
    # 20 relevant documents but k = 2: IDCG@2 = 1 + 1/log2(3); list [T, T] is ideal.
    assert ndcg_at_k([[True, True]], k=2, n_relevant=[20]) == pytest.approx(1.0)


def test_ndcg_n_relevant_never_exceeds_one():
    # Two passages of the one relevant document: more relevant hits than declared.
    assert ndcg_at_k([[True, True, False]], k=3, n_relevant=[1]) == pytest.approx(1.0)


def test_ndcg_n_relevant_zero_scores_zero():
    assert ndcg_at_k([[False, False]], k=2, n_relevant=[0]) == 0.0


def test_ndcg_is_mean_over_queries():
    # query 1 = 1.0, query 2 = 0.5 (single relevant at rank 3), query 3 = 0
    relevances = [[True], [False, False, True], [False, False, False]]
    assert ndcg_at_k(relevances, k=10) == pytest.approx(1.5 / 3)


def test_ndcg_float_gains_are_binary():
    assert ndcg_at_k([[0.0, 0.3, 0.0]], k=3) == pytest.approx(ndcg_at_k([[False, True, False]], k=3))
    assert ndcg_at_k([[0.0, 2.0]], k=2) == pytest.approx(ndcg_at_k([[False, True]], k=2))


def test_ndcg_rejects_bad_arguments():
    with pytest.raises(ValueError):
        ndcg_at_k([[True]], k=0)
    with pytest.raises(ValueError):
        ndcg_at_k([[True], [False]], n_relevant=[1])
    with pytest.raises(ValueError):
        ndcg_at_k([[True]], n_relevant=[-1])


# --- score_rankings ------------------------------------------------------------------------------


def test_score_rankings_hand_computed():
    lists = [
        [True, False, False],  # rank 1
        [False, True, True],  # rank 2
        [False, False, False, False, True],  # rank 5
        [False] * 12,  # never
    ]
    scores = score_rankings(lists)
    assert isinstance(scores, RetrievalScores)
    assert scores.n == 4
    assert scores.hit_at == pytest.approx({1: 0.25, 3: 0.5, 5: 0.75, 10: 0.75})
    assert scores.mrr == pytest.approx((1 + 1 / 2 + 1 / 5 + 0) / 4)
    ndcg_2 = (log2_discount(2) + log2_discount(3)) / (log2_discount(1) + log2_discount(2))
    ndcg_3 = log2_discount(5)
    assert scores.ndcg_at_10 == pytest.approx((1.0 + ndcg_2 + ndcg_3 + 0.0) / 4)


def test_score_rankings_custom_ks_and_n_relevant():
    scores = score_rankings([[False, True], [True]], ks=(2,), n_relevant=[2, 1])
    assert scores.hit_at == {2: 1.0}
    # query 1: DCG = 1/log2(3), IDCG = 1 + 1/log2(3); query 2: 1.0
    expected = (log2_discount(2) / (1 + log2_discount(2)) + 1.0) / 2
    assert scores.ndcg_at_10 == pytest.approx(expected)


def test_score_rankings_empty():
    scores = score_rankings([])
    assert scores == RetrievalScores(n=0, hit_at={1: 0.0, 3: 0.0, 5: 0.0, 10: 0.0}, mrr=0.0, ndcg_at_10=0.0)


def test_scores_are_frozen():
    scores = score_rankings([[True]])
    with pytest.raises(dataclasses.FrozenInstanceError):
        scores.mrr = 0.0  # type: ignore[misc]


# --- declines ----------------------------------------------------------------------------------


def test_score_declines_hand_computed():
    should = [True, True, True, False, False, False, False]
    did = [True, True, False, False, True, False, False]
    assert score_declines(should, did) == DeclineScores(
        n_should_decline=3, declined=pytest.approx(2 / 3), n_should_answer=4, wrongly_declined=0.25
    )


def test_score_declines_empty_inputs():
    assert score_declines([], []) == DeclineScores(0, 0.0, 0, 0.0)


def test_score_declines_only_one_kind():
    assert score_declines([True, True], [True, False]) == DeclineScores(2, 0.5, 0, 0.0)
    assert score_declines([False, False], [False, False]) == DeclineScores(0, 0.0, 2, 0.0)


def test_score_declines_length_mismatch():
    with pytest.raises(ValueError):
        score_declines([True], [True, False])
