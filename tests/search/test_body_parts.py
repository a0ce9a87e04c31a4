"""A question about a part of the body no article is about gets an honest "not covered".

Over the seed articles (back and leg pain), "frozen shoulder exercises" scores 0.39 against a
passage on crunches ("raise your shoulders off the floor"), above the similarity threshold (0.30):
similarity alone answers it with exercises for the back. Such a question is declined when its
best passage is also below 0.40 (``coverage.OTHER_PART_THRESHOLD``). What the articles are about
is read from their titles, so adding an article on the shoulder makes the same question answerable.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.answer.assemble import answer_question
from retrieval.config import Settings
from retrieval.index.build import build_index
from retrieval.search.anatomy import body_parts
from retrieval.search.retriever import Retriever

# Known misses since the threshold was chosen on independent writers (2026-12-07): these score
# 0.41-0.44 against back passages, above OTHER_PART_THRESHOLD, and are answered with them.
# Raising it to 0.45 declined no more of the development writers' not-covered questions and
# cost answerable ones (EVALUATION.md, "Not covered, 2026-12-07"). Strict: a fix shows up here.
_ABOVE_THE_BAR = pytest.mark.xfail(strict=True, reason="scores above OTHER_PART_THRESHOLD (0.40) on the seed articles")
ELSEWHERE = [
    ("frozen shoulder exercises", "the shoulder"),
    ("sprained my ankle playing football, how long until it heals", "the ankle"),  # a known miss until the second-round encoder
    pytest.param("recovery time after knee replacement surgery", "the knee", marks=_ABOVE_THE_BAR),
    ("best stretches for a stiff neck from looking down at my phone", "the neck"),
    ("my wrist clicks and aches when I type all day", "the arm or hand"),
    ("i track my shoulder pain in a spreadsheet, which exercises help", "the shoulder"),  # not pain that spreads
    pytest.param("my knee pain keeps coming back after running", "the knee", marks=_ABOVE_THE_BAR),  # "back" the adverb
    ("my knee hurts when I climb the stairs", "the knee"),
    ("sprained my ankle", "the ankle"),
]
SAME_REGION = [
    "my bum aches after sitting all day at work",  # low back pain reaches the buttocks
    "desk job and tight hamstrings, what stretches should i do",  # the leg
    "does staying up late make your waist ache",  # lay word for the low back
    "my foot aches since my disc went",  # pain that travels from the spine
    "stiff neck and back after sleeping in a funny position",  # names the back too
]


@pytest.mark.parametrize(("question", "part"), ELSEWHERE)
def test_a_question_about_another_part_of_the_body_is_declined_by_name(seed_retriever, question: str, part: str) -> None:  # type: ignore[no-untyped-def]
    reply = answer_question(seed_retriever, question).to_json()
    assert reply["covered"] is False and reply["passages"] == []
    assert reply["message"].startswith(f"The articles here are about the back and the legs, not {part},")
    assert reply["message"].rstrip().endswith(f"*{reply['disclaimer']}*")


@pytest.mark.parametrize("question", SAME_REGION)
def test_questions_about_the_back_and_legs_in_other_words_are_answered(seed_retriever, question: str) -> None:  # type: ignore[no-untyped-def]
    reply = answer_question(seed_retriever, question).to_json()
    assert reply["covered"] is True and reply["passages"], reply["message"]


def test_an_emergency_naming_another_part_still_gets_the_care_card_first(seed_retriever) -> None:  # type: ignore[no-untyped-def]
    reply = answer_question(seed_retriever, "crushing pain in my chest spreading to my left arm and jaw").to_json()
    assert reply["triage"] == "emergency"
    assert reply["message"].startswith(reply["care_card"])
    assert "not the chest" not in reply["message"]


def test_an_article_about_the_shoulder_makes_shoulder_questions_answerable(tmp_path: Path, seed_corpus: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    (seed_corpus / "frozen-shoulder.md").write_text(
        "# Frozen shoulder: exercises that help\n\n"
        "Frozen shoulder makes the shoulder joint stiff and painful, so it is hard to lift your arm. "
        "Gentle exercises help: the pendulum swing, where you let the arm hang and swing it in small "
        "circles, and the towel stretch behind your back. Do them twice a day and stop if the pain gets "
        "sharp. Most people recover over one to three years.\n",
        encoding="utf-8",
    )
    settings = Settings(corpus_dir=seed_corpus, index_dir=tmp_path / "index")
    build_index(settings, embedder=embedder)
    reply = answer_question(Retriever.load(settings, embedder=embedder), "frozen shoulder exercises").to_json()
    assert reply["covered"] is True
    assert reply["passages"][0]["source"] == "frozen-shoulder.md"


def test_figures_of_speech_do_not_name_a_part_of_the_body() -> None:
    assert body_parts("this sciatica is doing my head in") == frozenset()
    assert body_parts("on the other hand, is walking better than swimming") == frozenset()
    assert body_parts("it costs an arm and a leg to see a physio") == frozenset()
    assert body_parts("SHOULDER pain") == {"shoulder"}
    assert body_parts("shoulder-blade pain") == {"back"}
    assert body_parts("my knees and my feet") == {"knee", "foot"}


def test_back_the_adverb_is_not_the_back() -> None:
    assert body_parts("my knee pain keeps coming back") == {"knee"}
    assert body_parts("when will my leg be back to normal") == {"leg"}
    assert body_parts("it went away for a while and came back in my hip") == {"hip"}
    # ...but the body part still counts beside it, or right after the verb
    assert body_parts("why do i get back pain when i stand") == {"back"}
    assert body_parts("went back to work and my back is killing me") == {"back"}
    assert body_parts("hurt my back at work and now my knee hurts too") == {"back", "knee"}
    assert body_parts("i hate the way back pain stops me sleeping") == {"back"}
    assert body_parts("does this exercise stop it coming back") == frozenset()


def test_answers_and_the_not_covered_message_show_titles_without_their_search_keyword(seed_retriever) -> None:  # type: ignore[no-untyped-def]
    # One seed page's title ends with the search it was stuffed with ("…With Back Pain: Get Relief
    # For why do my back hurt afyer legs massage"); readers see the title without it.
    clean_title = "This Typically Forgotten Muscle Mass Has Actually Caused Millions To Endure With Back Pain"
    answered = answer_question(seed_retriever, "best sleeping position for lower back pain").to_json()
    titles = {p["source"]: p["title"] for p in answered["passages"]}
    assert titles.get("back-pain-relief-sleep-posture.txt") == clean_title
    declined = answer_question(seed_retriever, "frozen shoulder exercises").to_json()
    assert f"{clean_title};" in declined["message"] or f"{clean_title}." in declined["message"]
    assert "afyer" not in declined["message"] and "Get Relief For" not in declined["message"]
