"""Follow-up questions: "and how long do I hold it?" after a question about a stretch.

Each message is judged on its own first. It is joined to the question before it only when it
cannot stand alone:

1. a message about something the articles do not cover is answered (declined) on its own: a
   part of the body no article is about ("my knee hurts when I climb the stairs"), or a word no
   article uses, unless a pronoun ties that word to the earlier subject ("how is it diagnosed?"
   may join; "and what about my migraines?" does not);
2. a message the articles cover on its own stands alone, unless it points back ("what is the
   best exercise for it?", "what else helps?": ``subjects.points_back``); "and what about a
   standing desk?" can stand alone, so it does;
3. otherwise it is answered joined to the question before it, and that answer is used only if
   the articles cover it and its triage is the message's own: a red flag from an earlier turn
   never returns, and one in the new message is never hidden.

No chains: a message is joined to the last question that stood alone, never to a turn that was
itself joined, so the context is one question, however long the conversation.

>>> Turn("and at night?", "How should I sleep with back pain? and at night?", "How should I sleep with back pain?").is_follow_up
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from retrieval.answer.subjects import points_back

if TYPE_CHECKING:
    from retrieval.answer.assemble import Answer

# Declines that are answers in their own right: joining the previous question would not help.
_FINAL_REASONS = frozenset({
    "empty question", "emergency: passages withheld", "about an animal", "medicine dosing question", "greeting",
})
MAX_JOINED_CHARS = 600  # a very long first question: only its end is kept as context


@dataclass(frozen=True)
class Turn:
    question: str  # as typed
    asked: str  # what was answered: the question, or the question it was joined to and then it
    joined_to: str = ""  # the question that stood alone and this one was joined to ("" if none)

    @property
    def is_follow_up(self) -> bool:
        return self.asked != self.question

    @property
    def subject(self) -> str:
        """What a message after this one may be joined to: the last question that stood alone."""
        return self.joined_to or self.question


def joined_question(previous: Turn, question: str) -> str:
    context = previous.subject.strip()
    if len(context) > MAX_JOINED_CHARS:
        context = context[-MAX_JOINED_CHARS:].split(" ", 1)[-1]
    return f"{context} {question.strip()}"


def stands_alone(question: str, alone: Answer) -> bool:
    """Whether ``question`` is answered on its own (``alone`` is its own answer)."""
    if alone.care_card or alone.not_covered_reason in _FINAL_REASONS:
        return True
    refers = points_back(question)
    if alone.uncovered_parts or (alone.unfamiliar and not alone.covered and not refers):
        return True  # about something the articles do not cover: it is not the earlier subject
    return alone.covered and not refers


def answer_turn(answer: Callable[[str], Answer], question: str, previous: Turn | None) -> tuple[Turn, Answer]:
    """Answer ``question`` in a conversation whose last turn was ``previous`` (None at the start)."""
    alone = answer(question)
    if previous is None or stands_alone(question, alone):
        return Turn(question, question), alone
    text = joined_question(previous, question)
    joined = answer(text)
    same_triage = joined.triage.level == alone.triage.level and joined.triage.crisis == alone.triage.crisis
    if joined.covered and same_triage:
        return Turn(question, text, previous.subject), joined
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
