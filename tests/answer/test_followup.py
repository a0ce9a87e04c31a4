"""Follow-up questions, with the real model and index: a message that cannot stand alone is
answered with the question before it; triage reads each turn on its own.

The conversations are in tests/data/followups/ (developer-written, in-sample: see its README).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.answer.assemble import Answer, answer_question
from retrieval.answer.followup import Turn, answer_turn, joined_question, replay

CONVERSATIONS = [
    json.loads(line)
    for line in (Path(__file__).resolve().parents[1] / "data" / "followups" / "conversations.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]


def user_sees_right_answer(case: dict, answer: Answer) -> bool:
    """What the person sees for the last turn is right: the expected level of care card, and a
    passage from an answering article in the top 3 (or nothing, when nothing should be shown)."""
    if answer.triage.level != case["triage"]:
        return False
    if not case["answer_docs"]:
        return not answer.passages
    return answer.covered and any(p.chunk.doc_id in case["answer_docs"] for p in answer.passages[:3])


@pytest.fixture(scope="module")
def ask(seed_retriever):  # type: ignore[no-untyped-def]
    return lambda text: answer_question(seed_retriever, text)


@pytest.fixture(scope="module")
def results(ask) -> dict[str, dict[str, bool]]:  # type: ignore[no-untyped-def]
    out = {}
    for case in CONVERSATIONS:
        _, with_context = replay(ask, case["turns"])
        _, alone = replay(ask, case["turns"], follow_ups=False)
        out[case["id"]] = {"with": user_sees_right_answer(case, with_context), "alone": user_sees_right_answer(case, alone)}
    return out


def test_follow_ups_are_answered_better_than_each_message_alone(results: dict[str, dict[str, bool]]) -> None:
    with_context = sum(r["with"] for r in results.values()) / len(results)
    alone = sum(r["alone"] for r in results.values()) / len(results)
    print(f"\nfollow-up conversations: right last answer {with_context:.3f} with follow-ups, {alone:.3f} each message alone "
          f"({len(results)} conversations)")
    # Better overall; the one conversation made worse is the known limit in followup.py's docstring.
    assert [name for name, r in results.items() if r["alone"] and not r["with"]] == ["off-topic-follow-up"]
    assert with_context >= alone + 0.2
    assert with_context >= 0.7


def test_the_answer_says_which_question_it_answered(ask) -> None:  # type: ignore[no-untyped-def]
    first = Turn("How should I sleep with low back pain?", "How should I sleep with low back pain?")
    turn, answer = answer_turn(ask, "and what about the pillow?", first)
    assert turn.is_follow_up and turn.asked == joined_question(first, "and what about the pillow?")
    assert answer.covered and answer.passages


def test_a_question_that_stands_alone_is_not_joined(ask) -> None:  # type: ignore[no-untyped-def]
    first = Turn("How should I sleep with back pain?", "How should I sleep with back pain?")
    turn, answer = answer_turn(ask, "What stretches help lower back spasms?", first)
    assert not turn.is_follow_up and answer.covered


def test_triage_reads_each_turn_on_its_own(ask) -> None:  # type: ignore[no-untyped-def]
    # A red flag in an earlier turn does not bring the card back on a later, ordinary one ...
    turn, answer = replay(ask, ["I can't feel my bum when I wipe and my back is killing me", "what stretches help a sore lower back?"])
    assert answer.care_card is None and answer.passages
    # ... and a red flag in the new message is never hidden by the earlier context.
    turn, answer = replay(ask, ["What stretches help sciatica?", "and now I can't feel my bum when I wipe"])
    assert answer.triage.level == "emergency" and answer.care_card and not answer.passages
    assert not turn.is_follow_up


def test_an_off_topic_follow_up_says_what_it_answered(ask) -> None:  # type: ignore[no-untyped-def]
    # The known limit: the joined question is covered, so the sleep passages are shown, but
    # the person is told which question they answer.
    turn, _ = replay(ask, ["How should I sleep with low back pain?", "and what about my migraines?"])
    assert turn.is_follow_up and "migraines" in turn.asked and "sleep" in turn.asked
    # Asked on its own, the articles do not cover it.
    assert not ask("what about my migraines?").covered


def test_a_long_chain_keeps_only_recent_context() -> None:
    previous = Turn("q", "word " * 400)
    assert len(joined_question(previous, "and then?")) < 700
