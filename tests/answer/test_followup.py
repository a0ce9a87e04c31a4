"""Follow-up questions, with the real model and index: a message is joined to the question
before it only when it cannot stand alone, never to a turn that was itself joined, and a message
about something the articles do not cover is judged on its own. Triage reads each turn on its own.

Three sets of conversations (tests/data/followups/README.md):
- conversations.jsonl: 22, developer-written for issue #18 (last turn right or not);
- own_labelled.jsonl: 58, developer-written for issue #28 before the rule changed, each message
  labelled (followup, new_topic, uncovered, ...): the rule was designed on it;
- independent/followups/writerF.jsonl: 90 by an independent writer, frozen: measured once, never
  tuned on. The floors below sit a little under what was measured (EVALUATION.md, "Follow-up
  questions"); they fail if the rule joins new topics or lets an earlier subject hijack a message.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from retrieval.answer.assemble import Answer, answer_question
from retrieval.answer.followup import Turn, answer_turn, joined_question, replay
from retrieval.answer.subjects import load_followup_words, points_back, unfamiliar_words
from retrieval.errors import DataFileError
from tests.answer.followup_scoring import OWN, WRITER_F, rate, read_conversations, score

CONVERSATIONS = [
    json.loads(line)
    for line in (Path(__file__).resolve().parents[1] / "data" / "followups" / "conversations.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]
SLEEP = "How should I sleep with low back pain?"


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
    # No conversation that each message alone gets right is made wrong (the migraine one was, before #28).
    assert [name for name, r in results.items() if r["alone"] and not r["with"]] == []
    assert results["off-topic-follow-up"]["with"]
    # measured 0.864 with follow-ups against 0.636 alone (second-round encoder, gate 0.25: more
    # messages are answered alone than at 0.30, where it was 0.82 against 0.41); EVALUATION.md
    assert with_context >= alone + 0.18
    assert with_context >= 0.81
    print("wrong:", sorted(name for name, r in results.items() if not r["with"]))


@pytest.mark.parametrize(("path", "floors", "ceilings"), [
    # own_labelled.jsonl (in-sample), measured 2026-12-07, second round (gate 0.25): followup joined
    # 0.66, key phrase 0.83; new topic alone 1.00, joined 0.00; uncovered declined 0.87; all later
    # messages right 0.69 (first round, gate 0.30: 0.68, 0.80, 0.82, 0.09, 0.93, 0.66; 2026-12-05,
    # bundled MiniLM and gate 0.40: 0.76, 0.71, 0.91, 0.00, 1.00, 0.68; 0.47 before #28)
    (OWN, {("followup", "joined"): 0.62, ("followup", "phrase"): 0.78, ("new_topic", "alone"): 0.9,
           ("uncovered", "declined"): 0.83, ("later", "right"): 0.65}, {("new_topic", "joined"): 0.05}),
    # writerF.jsonl (independent, frozen), measured 2026-12-07, second round (gate 0.25): followup
    # joined 0.57, key phrase 0.66; new topic alone 0.85, joined 0.15; uncovered declined 0.74;
    # followup_uncovered declined 0.50; all later messages right 0.62 (first round, gate 0.30: 0.66,
    # 0.70, 0.89, 0.11, 0.70, 0.57, 0.66; 2026-12-05: 0.64, 0.62, 0.78, 0.15, 0.89, 0.79, 0.69). A
    # follow-up that scores above the lower gate alone is no longer joined: EVALUATION.md
    (WRITER_F, {("followup", "joined"): 0.53, ("followup", "phrase"): 0.62, ("new_topic", "alone"): 0.81,
                ("uncovered", "declined"): 0.70, ("followup_uncovered", "declined"): 0.46, ("later", "right"): 0.58},
     {("new_topic", "joined"): 0.19}),
], ids=["own", "writerF"])
def test_each_kind_of_message_is_handled_as_labelled(ask, path: Path, floors: dict, ceilings: dict) -> None:  # type: ignore[no-untyped-def]
    tally = score(read_conversations(path), ask, answer_turn)
    tally["later"] = Counter(n=sum(c["n"] for k, c in tally.items() if k != "first"),
                             right=sum(c["right"] for k, c in tally.items() if k != "first"))
    measured = {key: rate(tally, *key) for key in [*floors, *ceilings]}
    print(f"\n{path.name}: " + ", ".join(f"{kind} {what} {value:.2f}" for (kind, what), value in measured.items()))
    assert [key for key, floor in floors.items() if measured[key] < floor] == []
    assert [key for key, ceiling in ceilings.items() if measured[key] > ceiling] == []


def test_a_knee_after_two_back_questions_is_not_answered_with_back_passages(ask) -> None:  # type: ignore[no-untyped-def]
    """The issue's case: "my knee hurts when I climb the stairs" after two back questions."""
    turn, answer = replay(ask, ["Why does my lower back hurt after squats?", "what can I do at home for it?",
                                "my knee hurts when I climb the stairs"])
    assert not turn.is_follow_up and not answer.passages and not answer.covered
    assert "not the knee" in answer.body
    assert answer_turn(ask, "my knee hurts when I climb the stairs", None)[1].message == answer.message  # as if asked alone


def test_a_shoulder_after_sciatica_is_judged_on_its_own(ask) -> None:  # type: ignore[no-untyped-def]
    turn, answer = replay(ask, ["What stretches help sciatica?", "I also have a stiff shoulder, what exercises for that?"])
    assert not turn.is_follow_up and not answer.passages


def test_a_subject_no_article_mentions_is_not_joined(ask) -> None:  # type: ignore[no-untyped-def]
    turn, answer = replay(ask, [SLEEP, "and what about my migraines?"])
    assert not turn.is_follow_up and not answer.passages and answer.unfamiliar == ("migraines",)
    # ... but a pronoun ties an unfamiliar word to the subject before it.
    turn, answer = replay(ask, ["Why do I get numbness down my leg with back pain?", "how is it diagnosed?"])
    assert turn.is_follow_up and answer.passages
    assert "CT" in " ".join(p.chunk.text for p in answer.passages)


def test_no_chains_a_message_is_joined_to_the_last_question_that_stood_alone(ask) -> None:  # type: ignore[no-untyped-def]
    first, second, third = "How do I do a wall sit?", "how long do I hold it?", "how many times do I repeat it?"
    turns = []
    previous = None
    for message in (first, second, third):
        previous, answer = answer_turn(ask, message, previous)
        turns.append(previous)
    assert turns[1].is_follow_up and turns[1].joined_to == first
    assert turns[2].is_follow_up and turns[2].asked == f"{first} {third}" and second not in turns[2].asked
    assert "Repeat 8 to 12 times" in " ".join(p.chunk.text for p in answer.passages)


def test_a_message_that_points_back_is_joined_even_if_it_could_be_searched_alone(ask) -> None:  # type: ignore[no-untyped-def]
    assert ask("what is the best exercise for it?").covered  # alone it finds something, but not what was meant
    turn, answer = replay(ask, ["What is a lumbar muscle strain?", "what is the best exercise for it?"])
    assert turn.is_follow_up and "forward bending" in " ".join(p.chunk.text for p in answer.passages)


def test_a_new_topic_that_stands_alone_is_not_joined(ask) -> None:  # type: ignore[no-untyped-def]
    first = Turn("How should I sleep with back pain?", "How should I sleep with back pain?")
    turn, answer = answer_turn(ask, "What stretches help lower back spasms?", first)
    assert not turn.is_follow_up and answer.covered
    turn, _ = answer_turn(ask, "Is it better to sleep on my side or my back?", Turn("How do I do the cat stretch?", "How do I do the cat stretch?"))
    assert not turn.is_follow_up  # "is it better" points at nothing


def test_triage_reads_each_turn_on_its_own(ask) -> None:  # type: ignore[no-untyped-def]
    # A red flag in an earlier turn does not bring the card back on a later, ordinary one ...
    turn, answer = replay(ask, ["I can't feel my bum when I wipe and my back is killing me", "what stretches help a sore lower back?"])
    assert answer.care_card is None and answer.passages
    # ... and a red flag in the new message is never hidden by the earlier context.
    turn, answer = replay(ask, ["What stretches help sciatica?", "and now I can't feel my bum when I wipe"])
    assert answer.triage.level == "emergency" and answer.care_card and not answer.passages
    assert not turn.is_follow_up


def test_a_long_first_question_keeps_only_its_end_as_context() -> None:
    previous = Turn("word " * 400, "word " * 400)
    assert len(joined_question(previous, "and then?")) < 700


@pytest.mark.parametrize(("message", "expected"), [
    ("how long do I hold it?", True), ("what exercise is good for that", True), ("what else helps?", True),
    ("how often should I get one", True), ("Is it better to sleep on my side or my back?", False),
    ("I'm pregnant, could that be why my back hurts?", False), ("lift one leg slowly", False),
    ("What stretches help sciatica?", False), ("it’s too much of a stretch", True),
])
def test_points_back(message: str, expected: bool) -> None:
    assert points_back(message) is expected


def test_unfamiliar_words_leave_out_chat_words_and_stop_words() -> None:
    vocabulary = {"what": 1.0, "about": 1.0, "pillow": 1.0, "sleep": 1.0}
    assert unfamiliar_words("And what about MY pillow, ok?", vocabulary) == ()
    assert unfamiliar_words("what about my migraines and acne?", vocabulary) == ("migraines", "acne")


def test_a_malformed_followups_file_names_its_line(tmp_path: Path) -> None:
    from retrieval.answer.subjects import FOLLOWUPS_PATH

    text = FOLLOWUPS_PATH.read_text(encoding="utf-8")
    broken = tmp_path / "followups.yaml"
    broken.write_text(text.replace("'\\b(?:else|instead)\\b'", "'\\b(?:else|instead\\b'"), encoding="utf-8")
    line = text[: text.index("(?:else|instead)")].count("\n") + 1
    with pytest.raises(DataFileError, match=rf"followups.yaml:{line}: points_back is not a valid regular expression"):
        load_followup_words(broken)
