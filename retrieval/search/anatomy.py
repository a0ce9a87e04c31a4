"""Which parts of the body a text is about, in lay words (``data/body_parts.yaml``: the words
for each part, the figures of speech to ignore, "back" as an adverb).

Used by ``coverage`` to decline a question about a part of the body that no article is about
("frozen shoulder exercises" over articles on back and leg pain) instead of showing passages that
merely share words with it. The parts are general anatomy, grouped as people speak of them, not a
list of what the bundled articles say:

- the buttocks count as the back: the usual definition of low back pain covers the area from the
  ribs down to the folds of the buttocks, and "waist" is a common lay word for the low back;
- the shoulder blades are the upper back, not the shoulder;
- thigh, hamstring, quadriceps, calf and shin are the leg; the hip, knee, ankle and foot are
  named on their own, because people ask about them as places of their own ("knee replacement",
  "sprained ankle").

    >>> sorted(body_parts("frozen shoulder exercises"))
    ['shoulder']
    >>> sorted(body_parts("ache between my shoulder blades"))
    ['back']
    >>> sorted(body_parts("tight hamstrings and a sore bum"))
    ['back', 'leg']
    >>> sorted(body_parts("on the other hand, this is doing my head in"))
    []
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from retrieval.datafiles import Checker, read_yaml

BODY_PARTS_PATH = Path(__file__).resolve().parent / "data" / "body_parts.yaml"


def _load(path: Path = BODY_PARTS_PATH) -> tuple[dict[str, str], dict[str, str], re.Pattern[str], re.Pattern[str]]:
    """(part -> words pattern, part -> name, idioms, back as an adverb), read and checked."""
    check = Checker(path)
    data = read_yaml(path)
    parts, names = {}, {}
    raw = check.mapping(data, "parts", "parts")
    for part in raw:
        entry = check.mapping(raw, part, f"part {part!r}", required=("named", "words"))
        parts[part] = "|".join(check.strings(entry, "words", f"part {part!r}: words"))
        names[part] = check.string(entry, "named", f"part {part!r}: named")
        check.regex(rf"\b(?:{parts[part]})\b", entry.lines["words"], f"part {part!r}: words")
    idioms = check.regex(r"\b(?:" + "|".join(check.strings(data, "idioms", "idioms")) + r")\b", data.lines["idioms"], "idioms")
    back_adverb = check.regex(check.string(data, "back_adverb", "back_adverb"), data.lines["back_adverb"], "back_adverb")
    return parts, names, idioms, back_adverb


# part -> the lay words for it (a regular expression over lower-case text, whole words)
PARTS, NAMES, _IDIOMS, _BACK_ADVERB = _load()
_PATTERNS = {part: re.compile(rf"\b(?:{words})\b") for part, words in PARTS.items()}


@lru_cache(maxsize=4096)
def body_parts(text: str) -> frozenset[str]:
    """The parts of the body ``text`` names (keys of ``PARTS``), figures of speech left out."""
    text = _BACK_ADVERB.sub(" ", _IDIOMS.sub(" ", text.lower()))
    return frozenset(part for part, pattern in _PATTERNS.items() if pattern.search(text))


def name_parts(parts: frozenset[str] | set[str]) -> str:
    """"the back and the legs", in the order of ``PARTS``.

    >>> name_parts({"leg", "back", "hip"})
    'the back, the legs and the hip'
    """
    names = [NAMES[part] for part in PARTS if part in parts]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
