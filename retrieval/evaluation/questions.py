"""Evaluation questions: one JSON object per line, in the seed format (gold phrases in
``any_of``) or the MedQuAD format (gold source files in ``relevant``), checked as they load; a
bad line is reported with the file and line number."""
from __future__ import annotations

import json
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

__all__ = ["Question", "load_questions"]


@dataclass(frozen=True)
class Question:
    """One evaluation question.

    ``expect`` is ``"answer"`` or ``"decline"``. An answerable question has gold evidence in
    ``any_of`` (phrases, see :func:`passage_hits_phrases`), in ``relevant`` (source file names,
    MedQuAD style), or both; a question to decline has neither. ``topic`` is a free label.
    """

    query: str
    any_of: tuple[str, ...] = ()
    relevant: tuple[str, ...] = ()
    expect: str = "answer"
    topic: str = ""


_EXPECT_VALUES = ("answer", "decline")


def _string_tuple(value: object, key: str) -> tuple[str, ...]:
    """Accept a string or a list of strings; raise ValueError (message without location) otherwise."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f'"{key}" must be a string or a list of strings')
    items = tuple(item.strip() for item in value)
    if any(not item for item in items):
        raise ValueError(f'"{key}" contains an empty string')
    return items


def _parse_question(record: object) -> Question:
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    query = record.get("query")
    if not isinstance(query, str) or not query.strip():
        raise ValueError('missing "query" (a non-empty string)')
    if not any(key in record for key in ("any_of", "relevant", "expect")):
        raise ValueError('needs at least one of "any_of", "relevant" or "expect"')
    any_of = _string_tuple(record["any_of"], "any_of") if "any_of" in record else ()
    relevant = _string_tuple(record["relevant"], "relevant") if "relevant" in record else ()
    expect = record.get("expect", "answer")
    if expect not in _EXPECT_VALUES:
        raise ValueError(f'"expect" must be "answer" or "decline", got {expect!r}')
    if expect == "answer" and not (any_of or relevant):
        raise ValueError('an answerable question needs a non-empty "any_of" or "relevant"')
    if expect == "decline" and (any_of or relevant):
        raise ValueError('a question with "expect": "decline" cannot list "any_of" or "relevant"')
    topic = record.get("topic", "")
    if not isinstance(topic, str):
        raise ValueError('"topic" must be a string')
    return Question(query=query.strip(), any_of=any_of, relevant=relevant, expect=expect, topic=topic)


def load_questions(path: str | PathLike[str]) -> list[Question]:
    """Read evaluation questions from a JSON-lines file, one object per line.

    Three line shapes are accepted (extra keys are ignored):

    * answerable with phrases: ``{"query": ..., "any_of": ["phrase", ...], "topic": ...}``
    * to decline: ``{"query": ..., "expect": "decline", "topic": ...}``
    * MedQuAD style: ``{"query": ..., "relevant": ["file-name.txt", ...], ...}``

    ``expect`` defaults to ``"answer"``. Blank lines are skipped; the file is read as UTF-8 (a
    leading byte-order mark is tolerated). Any bad line (invalid JSON, not an object, no
    ``query``, none of ``any_of``/``relevant``/``expect``, wrong types, an empty phrase list,
    an unknown ``expect``) raises ``ValueError`` whose message starts with ``file:line:``.

    Example: a file holding the two lines
    ``{"query": "ice or heat?", "any_of": ["switch over to heat"]}`` and
    ``{"query": "flu jab", "expect": "decline"}`` loads as
    ``[Question(query='ice or heat?', any_of=('switch over to heat',), relevant=(),
    expect='answer', topic=''), Question(query='flu jab', any_of=(), relevant=(),
    expect='decline', topic='')]``.
    """
    file_path = Path(path)
    questions: list[Question] = []
    with file_path.open(encoding="utf-8-sig") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{file_path}:{line_number}: invalid JSON: {error.msg}") from error
            try:
                questions.append(_parse_question(record))
            except ValueError as error:
                raise ValueError(f"{file_path}:{line_number}: {error}") from None
    return questions
