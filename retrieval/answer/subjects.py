"""What a message is about, for the follow-up rule: does it point back to an earlier message,
and which of its words do the articles never use?

The words and patterns are data (``data/followups.yaml``), checked when first read: a malformed
entry stops start-up with the file and line.

    >>> points_back("how long do I hold it?"), points_back("Is it better to sleep on my side?")
    (True, False)
    >>> unfamiliar_words("and what about my migraines?", {"what": 1.0, "about": 1.0})
    ('migraines',)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from retrieval.datafiles import Checker, read_yaml
from retrieval.index import tokenize

FOLLOWUPS_PATH = Path(__file__).resolve().parent / "data" / "followups.yaml"
_WORD = re.compile(r"[a-z][a-z']+")


@dataclass(frozen=True)
class FollowupWords:
    points_back: re.Pattern[str]
    not_pointing: re.Pattern[str]
    not_subjects: frozenset[str]


@cache
def load_followup_words(path: Path = FOLLOWUPS_PATH) -> FollowupWords:
    """The follow-up words of ``path``, read and checked once."""
    check = Checker(path)
    data = read_yaml(path)
    check.keys(data, "the file", required=("points_back", "not_pointing", "not_subjects"))

    def joined(key: str) -> re.Pattern[str]:
        patterns = check.strings(data, key, key)
        for pattern, line in zip(patterns, data[key].lines):
            check.regex(pattern, line, key)
        return re.compile("|".join(f"(?:{p})" for p in patterns))

    words = check.strings(data, "not_subjects", "not_subjects")
    return FollowupWords(joined("points_back"), joined("not_pointing"), frozenset(w.lower() for w in words))


def _plain(message: str) -> str:
    return message.lower().replace("’", "'").replace("‘", "'").strip()


def points_back(message: str) -> bool:
    """Whether ``message`` leans on something said before it ("is that safe?", "what else?")."""
    words = load_followup_words()
    return bool(words.points_back.search(words.not_pointing.sub(" ", _plain(message))))


def unfamiliar_words(message: str, vocabulary: Mapping[str, float]) -> tuple[str, ...]:
    """The words of ``message`` the articles never use (``vocabulary``: the index's stemmed
    terms, e.g. its IDF table), chat words and stop words left out."""
    skip = load_followup_words().not_subjects
    words = [w for w in dict.fromkeys(w.strip("'") for w in _WORD.findall(_plain(message)))
             if w not in skip and not (w.endswith("'s") and w[:-2] in skip)]
    return tuple(word for word, terms in zip(words, tokenize(words)) if terms and not any(t in vocabulary for t in terms))
