"""Tests for retrieval.evaluation.questions (the question files' formats and their errors), and
checks of the seed evaluation set in tests/eval/seed_questions.jsonl against the articles in corpus/."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from retrieval.evaluation.metrics import normalise_for_match
from retrieval.evaluation.questions import Question, load_questions

REPO = Path(__file__).resolve().parents[2]
SEED_QUESTIONS = REPO / "tests" / "eval" / "seed_questions.jsonl"
CORPUS = REPO / "corpus"


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
