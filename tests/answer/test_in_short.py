""""In short" and loose matches, with the real model and index: the best one to three sentences
of the shown passages, word for word, each with its passage number; a passage that matches only
loosely is marked (the chat keeps it behind "More passages") and left out of "In short"."""

from __future__ import annotations

from retrieval.answer.assemble import answer_question
from retrieval.answer.highlight import passage_sentences
from retrieval.answer.in_short import MOST_SENTENCES, pick_sentences
from retrieval.config import Settings

EMERGENCY = "I can't feel my bum when I wipe and my back is killing me"


def test_in_short_is_word_for_word_with_its_passage_number(seed_retriever) -> None:  # type: ignore[no-untyped-def]
    answer = answer_question(seed_retriever, "is a firm mattress better for back pain?")
    assert answer.in_short and answer.in_short[0].text == "A firmer mattress is best."
    for sentence in answer.in_short:
        assert sentence.text in answer.passages[sentence.passage - 1].chunk.text  # extractive, verbatim
        assert sentence.passage not in answer.loose
    assert sum(len(passage_sentences(s.text)) for s in answer.in_short) <= MOST_SENTENCES
    # It comes before the passages in the message (the chat and /ask's "message").
    assert answer.message.index("In short") < answer.message.index("Here is what the articles say")


def test_a_loose_match_is_marked_and_left_out_of_in_short(seed_retriever) -> None:  # type: ignore[no-untyped-def]
    answer = answer_question(seed_retriever, "Is heat or ice better for a sore back?")
    assert answer.passages[0].chunk.doc_id == "lower-back-pain-after-working-out-legs.txt"
    assert 1 not in answer.loose and answer.loose  # the sleep / drinks passages are loose
    assert {s.passage for s in answer.in_short} == {1}
    best = answer.passages[0].dense_score
    settings = seed_retriever.settings
    for number in answer.loose:
        assert answer.passages[number - 1].dense_score < max(best - settings.loose_match_gap, settings.loose_match_floor)


def test_the_loose_match_setting_is_read_from_settings(seed_retriever, embedder) -> None:  # type: ignore[no-untyped-def]
    from retrieval.search import Retriever

    lenient = seed_retriever.settings.with_overrides(loose_match_gap=1.0, loose_match_floor=0.0)
    answer = answer_question(Retriever.load(lenient, embedder=embedder), "Is heat or ice better for a sore back?")
    assert answer.loose == frozenset()
    assert Settings.from_env({"RETRIEVAL_LOOSE_MATCH_GAP": "0.2", "RETRIEVAL_LOOSE_MATCH_FLOOR": "0.3"}).loose_match_gap == 0.2


def test_json_adds_in_short_and_loose_and_keeps_every_old_field(seed_retriever) -> None:  # type: ignore[no-untyped-def]
    data = answer_question(seed_retriever, "Is heat or ice better for a sore back?").to_json()
    old = {"query", "passages", "disclaimer", "disclaimer_markdown", "message", "triage", "covered", "care_card",
           "safety_net", "dosing", "triage_reasons", "notes"}
    assert old < set(data) and data["in_short"] == [{"text": data["in_short"][0]["text"], "passage": 1}]
    passage_keys = {"text", "source", "title", "score", "section", "pages", "highlight", "chunk_id", "dense_score",
                    "bm25_score", "context_before", "context_after"}
    assert all(passage_keys < set(p) and isinstance(p["loose"], bool) for p in data["passages"])
    assert len(data["passages"]) == 3  # loose passages are still returned: k means k


def test_no_in_short_for_an_emergency_or_a_decline(seed_retriever) -> None:  # type: ignore[no-untyped-def]
    for question in (EMERGENCY, "what is the best treatment for acne"):
        answer = answer_question(seed_retriever, question)
        assert answer.in_short == () and not answer.passages and "In short" not in answer.message
        assert answer.to_json()["in_short"] == []


def test_pick_sentences_takes_the_best_and_close_ones_up_to_three_sentences() -> None:
    highlights = [("A one. A two.", 1.0), ("B one.", 0.95), ("C one. C two.", 0.9), ("B one.", 0.9), ("D.", 0.5)]
    picked = pick_sentences(highlights, set())
    assert [(s.text, s.passage) for s in picked] == [("A one. A two.", 1), ("B one.", 2)]
    assert [s.passage for s in pick_sentences(highlights, {1})] == [2, 3]
    assert pick_sentences([("", 0.0)], set()) == ()
