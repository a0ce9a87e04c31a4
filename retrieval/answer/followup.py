"""Follow-up questions: "and what about at night?" after a question about sleep.

A follow-up that cannot stand alone is answered together with the question before it. What
decides is the same "not covered" gate that guards every answer, not a word list: the message
is answered on its own first; only when the articles do not cover it *alone* is it answered
again joined to the previous turn's question, and that answer is used if the articles cover
it. Triage reads every turn on its own: a joined answer is used only when its triage is the
same as the message's own, so a red flag from an earlier turn never returns on a later one,
and a red flag in the new message is never hidden.

Known limit: a follow-up on a new topic the articles do not cover ("and what about my
migraines?" after a sleep question) is answered as the joined question, so it gets the sleep
passages. The chat says "Answered as a follow-up to your last question: ..." above them, so
the person sees what was answered; a rule written after reading that miss did not help on our
own set (EVALUATION.md, "Follow-up questions").

>>> Turn("and at night?", "How should I sleep with back pain? and at night?").is_follow_up
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from retrieval.answer.assemble import Answer

# Declines that are answers in their own right: joining the previous question would not help.
_FINAL_REASONS = frozenset({
    "empty question", "emergency: passages withheld", "about an animal", "medicine dosing question", "greeting",
})
MAX_JOINED_CHARS = 600  # a chain of follow-ups keeps only the most recent context


@dataclass(frozen=True)
class Turn:
    question: str  # as typed
    asked: str  # what was answered: the question, or the previous question joined with it

    @property
    def is_follow_up(self) -> bool:
        return self.asked != self.question


def joined_question(previous: Turn, question: str) -> str:
    context = previous.asked.strip()
    if len(context) > MAX_JOINED_CHARS:
        context = context[-MAX_JOINED_CHARS:].split(" ", 1)[-1]
    return f"{context} {question.strip()}"


def answer_turn(answer: Callable[[str], Answer], question: str, previous: Turn | None) -> tuple[Turn, Answer]:
    """Answer ``question`` in a conversation whose last turn was ``previous`` (None at the start)."""
    alone = answer(question)
    if previous is None or alone.covered or alone.care_card or alone.not_covered_reason in _FINAL_REASONS:
        return Turn(question, question), alone
    text = joined_question(previous, question)
    joined = answer(text)
    same_triage = joined.triage.level == alone.triage.level and joined.triage.crisis == alone.triage.crisis
    if joined.covered and same_triage:
        return Turn(question, text), joined
    return Turn(question, question), alone


def replay(answer: Callable[[str], Answer], messages: list[str], *, follow_ups: bool = True) -> tuple[Turn, Answer]:
    """Run a whole conversation; returns the last turn and its answer. With ``follow_ups``
    False every message is answered on its own (the behaviour before follow-ups)."""
    previous: Turn | None = None
    result: tuple[Turn, Answer] | None = None
    for message in messages:
        result = answer_turn(answer, message, previous if follow_ups else None)
        previous = result[0]
    if result is None:
        raise ValueError("a conversation needs at least one message")
    return result
