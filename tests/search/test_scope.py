"""A question about a pet gets an honest "not covered" pointing to a vet, not human passages.

The seed articles score "my dog's back leg is limping" 0.62 against their best passage, far
above the "not covered" threshold (0.40): similarity alone would answer it with passages about
people's legs. Exercise names with animals in them ("cat stretch", "bird dog") are still answered.
"""

from __future__ import annotations

import pytest

from retrieval.answer.assemble import answer_question
from retrieval.safety.triage import assess

PET_QUESTIONS = [
    "my dog's back leg is limping",
    "My dog keeps limping on his back leg after walks, what should I do?",
    "my puppy is dragging her back legs, is it her spine?",
    "can i give my dog ibuprofen for his back",
]
ASKER_QUESTIONS = [
    "is the cat cow stretch good for sciatica",
    "bird dog exercise instructions",
    "cat stretch on hands and knees for my back",
    "how do I lift my heavy dog without hurting my back",
    "walking my dog hurts my knees and lower back",
]


@pytest.mark.parametrize("question", PET_QUESTIONS)
def test_a_question_about_a_pet_is_declined_with_a_pointer_to_a_vet(seed_retriever, question: str) -> None:  # type: ignore[no-untyped-def]
    reply = answer_question(seed_retriever, question).to_json()
    assert reply["covered"] is False and reply["passages"] == []
    assert "do not cover animals" in reply["message"] and "vet" in reply["message"]
    assert reply["disclaimer"] and reply["message"].rstrip().endswith(f"*{reply['disclaimer']}*")


@pytest.mark.parametrize("question", ASKER_QUESTIONS)
def test_exercise_names_and_the_askers_own_pain_are_still_answered(seed_retriever, question: str) -> None:  # type: ignore[no-untyped-def]
    assert not assess(question).about_animal
    reply = answer_question(seed_retriever, question).to_json()
    assert reply["covered"] is True and reply["passages"], reply["message"]


def test_a_crisis_mentioning_a_pet_still_gets_the_crisis_card(seed_retriever) -> None:  # type: ignore[no-untyped-def]
    reply = answer_question(seed_retriever, "my dog died last week and i want to kill myself").to_json()
    assert reply["triage"] == "emergency" and reply["care_card"]
    assert reply["message"].startswith(reply["care_card"])
    assert "vet" not in reply["message"]
