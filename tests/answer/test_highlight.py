"""The emphasised sentence is the one that answers, even when it shares few words with the question."""

from __future__ import annotations

import pytest

from retrieval.answer.assemble import answer_question
from retrieval.answer.highlight import best_sentences
from retrieval.search.retriever import Retriever

PASSAGE = "Rest is useful for a day or two. Heat relaxes tight muscles. Shoveling snow strains the back."


def test_words_in_common_pick_the_sentence_without_similarity() -> None:
    assert best_sentences("does heat help tight muscles", PASSAGE) == "Heat relaxes tight muscles."


def test_similarity_lets_a_sentence_in_other_words_win() -> None:
    # "warmth" shares no word with any sentence; the cosines (as from sentence vectors) decide
    assert best_sentences("is warmth good for a stiff back", PASSAGE, similarity=[0.2, 0.7, 0.3]) == "Heat relaxes tight muscles."


def test_similarity_for_other_sentences_than_the_passage_has_is_ignored() -> None:
    assert best_sentences("does heat help tight muscles", PASSAGE, similarity=[0.9, 0.1]) == "Heat relaxes tight muscles."


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        # seed writer A's wording ("do i need an xray for a pulled back muscle", the team's own,
        # no longer brings this passage into the top 5 with the fine-tuned encoder)
        ("does my GP need to x-ray a strained back?", "X-ray screening is only useful to leave out bone problems"),
        ("what is a lumbar strain", "Lumbar muscle strain is a lesion of the lumbar muscles"),
    ],
)
def test_the_answering_sentence_is_highlighted_in_a_real_answer(seed_retriever: Retriever, question: str, answer: str) -> None:
    # Lexical highlighting chose "The therapy of lumbar pressure includes resting the back…" and
    # "Common diseases that can cause low back pain include…" for these.
    reply = answer_question(seed_retriever, question)
    holding = [p for p in reply.passages if answer in p.chunk.text]
    assert holding, "the passage with the answer should be among those shown"
    assert all(answer in p.highlight for p in holding)
