"""Tests for retrieval.evaluation.metrics, with expected values worked out by hand, and checks of the seed
evaluation set in tests/eval/seed_questions.jsonl against the articles in corpus/."""
from __future__ import annotations

import dataclasses
import doctest
import json
import math
from pathlib import Path

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
from retrieval.evaluation.questions import Question, load_questions

REPO = Path(__file__).resolve().parents[2]
SEED_QUESTIONS = REPO / "tests" / "eval" / "seed_questions.jsonl"
CORPUS = REPO / "corpus"


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


# --- load_questions --------------------------------------------------------------------------


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_questions_seed_format(tmp_path):
    path = write_lines(
        tmp_path / "q.jsonl",
        [
            json.dumps({"query": "ice or heat?", "any_of": ["switch over to heat", "Ice is best"], "topic": "ice"}),
            "",
            json.dumps({"query": "flu jab", "expect": "decline", "topic": "unrelated"}),
        ],
    )
    assert load_questions(path) == [
        Question(query="ice or heat?", any_of=("switch over to heat", "Ice is best"), topic="ice"),
        Question(query="flu jab", expect="decline", topic="unrelated"),
    ]


def test_load_questions_medquad_format(tmp_path):
    path = write_lines(
        tmp_path / "medquad.jsonl",
        [
            json.dumps({"query": "What is sciatica?", "relevant": ["0001-sciatica.txt"], "qtype": "information", "answer": "..."}),
            json.dumps({"query": "Who gets it?", "relevant": ["a.txt", "b.txt"], "expect": "answer"}),
        ],
    )
    questions = load_questions(str(path))
    assert questions == [
        Question(query="What is sciatica?", relevant=("0001-sciatica.txt",)),
        Question(query="Who gets it?", relevant=("a.txt", "b.txt")),
    ]
    assert all(q.expect == "answer" and q.any_of == () for q in questions)


def test_load_questions_accepts_bom_and_single_string(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"query": "q", "any_of": "one phrase"}).encode() + b"\n")
    assert load_questions(path) == [Question(query="q", any_of=("one phrase",))]


def test_question_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Question(query="q").query = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"query": "ok", "any_of": ["a b c"]', "invalid JSON"),
        ("not json at all", "invalid JSON"),
        ('["query", "any_of"]', "JSON object"),
        ('{"any_of": ["a b c"]}', "query"),
        ('{"query": "   ", "any_of": ["a b c"]}', "query"),
        ('{"query": "just a query"}', "any_of"),
        ('{"query": "q", "topic": "t"}', "any_of"),
        ('{"query": "q", "any_of": []}', "any_of"),
        ('{"query": "q", "any_of": ["ok", ""]}', "empty"),
        ('{"query": "q", "any_of": [1, 2]}', "any_of"),
        ('{"query": "q", "relevant": {"a": 1}}', "relevant"),
        ('{"query": "q", "expect": "maybe"}', "expect"),
        ('{"query": "q", "expect": "answer"}', "answerable"),
        ('{"query": "q", "expect": "decline", "any_of": ["a b c"]}', "decline"),
    ],
)
def test_load_questions_bad_line_names_file_and_line(tmp_path, bad_line, message):
    path = write_lines(
        tmp_path / "bad.jsonl",
        [json.dumps({"query": "fine", "any_of": ["a b c"]}), "", bad_line],
    )
    with pytest.raises(ValueError) as excinfo:
        load_questions(path)
    text = str(excinfo.value)
    assert text.startswith(f"{path}:3:"), text
    assert message.lower() in text.lower(), text


def test_load_questions_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_questions(tmp_path / "nope.jsonl")


# --- the seed evaluation set -----------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_questions() -> list[Question]:
    return load_questions(SEED_QUESTIONS)


@pytest.fixture(scope="module")
def corpus_texts() -> dict[str, str]:
    texts = {path.name: normalise_for_match(path.read_text(encoding="utf-8")) for path in sorted(CORPUS.glob("*.txt"))}
    assert texts, f"no articles found in {CORPUS}"
    return texts


def test_seed_questions_counts(seed_questions):
    answerable = [q for q in seed_questions if q.expect == "answer"]
    declines = [q for q in seed_questions if q.expect == "decline"]
    assert len(answerable) >= 70
    assert len(declines) >= 40
    assert len(answerable) + len(declines) == len(seed_questions)
    assert all(q.any_of for q in answerable)
    assert all(1 <= len(q.any_of) <= 4 for q in answerable)
    assert all(q.topic for q in seed_questions)


def test_seed_phrases_occur_in_corpus(seed_questions, corpus_texts):
    missing = [
        (q.query, phrase)
        for q in seed_questions
        for phrase in q.any_of
        if not any(normalise_for_match(phrase) in text for text in corpus_texts.values())
    ]
    assert not missing, missing


def test_seed_phrases_are_short_plain_word_runs(seed_questions):
    # 3-8 words, letters/digits/spaces only, so they survive punctuation normalisation too.
    bad = [
        phrase
        for q in seed_questions
        for phrase in q.any_of
        if not 3 <= len(phrase.split()) <= 8 or not all(ch.isalnum() or ch == " " for ch in phrase)
    ]
    assert not bad, bad


def test_seed_queries_are_unique(seed_questions):
    seen: set[str] = set()
    duplicates = []
    for q in seed_questions:
        key = normalise_for_match(q.query)
        if key in seen:
            duplicates.append(q.query)
        seen.add(key)
    assert not duplicates, duplicates
