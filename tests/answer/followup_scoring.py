"""Score the follow-up rule on conversations labelled per message (writerF's format).

Each later message has a ``kind``; what counts as right for it is what the person sees:

- ``followup``: answered joined to the question before it (``joined``), and a key phrase is in
  the shown passages (``phrase``);
- ``new_topic`` and ``same_topic_alone``: answered on its own (``alone``), and a key phrase shown;
- ``uncovered`` and ``followup_uncovered``: no passages shown (``declined``): an earlier
  question's passages must not answer a question the articles do not cover.

Key phrases are compared as words (lower case, punctuation dropped), because the writers left
punctuation out of them. Used by tests/answer/test_followup.py and bench/eval_followups.py.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data"
OWN = DATA / "followups" / "own_labelled.jsonl"
WRITER_F = DATA / "independent" / "followups" / "writerF.jsonl"  # frozen: measured, never tuned on
LATER_KINDS = ("followup", "new_topic", "same_topic_alone", "uncovered", "followup_uncovered")


def read_conversations(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def words(text: str) -> str:
    """" Hold it, then… " -> " hold it then " (spaces around, for whole-word matching)."""
    text = text.lower().replace("’", "'").replace("‘", "'")
    return " " + " ".join(re.findall(r"[\w']+", text)) + " "


def phrase_shown(answer: Any, phrases: Iterable[str]) -> bool:
    """Whether a key phrase is in a passage the answer shows (with its neighbouring sentences)."""
    shown = "".join(words(f"{p.context_before} {p.chunk.text} {p.context_after}") for p in answer.passages)
    return any(words(phrase) in shown for phrase in phrases if phrase.strip())


def score(
    conversations: list[dict[str, Any]], ask: Callable[[str], Any], answer_turn: Callable[..., Any]
) -> dict[str, Counter[str]]:
    """Per kind of message: how many there are (``n``) and how many were joined, answered alone,
    declined, showed a key phrase, and were right (see the module's docstring)."""
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    for conversation in conversations:
        previous = None
        for turn_label in conversation["turns"]:
            turn, answer = answer_turn(ask, turn_label["text"], previous)
            previous = turn
            kind = turn_label["kind"]
            counts = tally[kind]
            joined = turn.is_follow_up
            declined = not answer.passages
            phrase = phrase_shown(answer, turn_label["any_of"])
            counts["n"] += 1
            counts["joined"] += joined
            counts["alone"] += not joined and not declined
            counts["declined"] += declined
            counts["phrase"] += phrase
            if kind in ("uncovered", "followup_uncovered"):
                counts["right"] += declined
            elif kind == "followup":
                counts["right"] += joined and phrase
            elif kind == "first":
                counts["right"] += phrase
            else:
                counts["right"] += not joined and phrase
    return dict(tally)


def rate(tally: dict[str, Counter[str]], kind: str, what: str) -> float:
    counts = tally.get(kind, Counter())
    return counts[what] / counts["n"] if counts["n"] else 0.0


def table(tally: dict[str, Counter[str]]) -> str:
    """A Markdown table: per kind, n and the shares joined / alone / declined / key phrase / right."""
    lines = ["| kind | n | joined | answered alone | declined | key phrase shown | right |", "|---|---|---|---|---|---|---|"]
    for kind in ("first", *LATER_KINDS):
        if kind not in tally:
            continue
        n = tally[kind]["n"]
        cells = " | ".join(f"{rate(tally, kind, what):.2f}" for what in ("joined", "alone", "declined", "phrase", "right"))
        lines.append(f"| {kind} | {n} | {cells} |")
    later = [k for k in LATER_KINDS if k in tally]
    right = sum(tally[k]["right"] for k in later)
    total = sum(tally[k]["n"] for k in later)
    lines.append(f"| all later messages | {total} | | | | | {right / total:.2f} ({right}/{total}) |")
    return "\n".join(lines)
