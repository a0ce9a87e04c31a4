"""Which parts of the body a text is about, in lay words.

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

# part -> the lay words for it (regular expressions over lower-case text, whole words)
PARTS: dict[str, str] = {
    "back": r"backs?|backache|spines?|spinal|lumbar|tailbone|coccyx|sacrum|sacral|waists?|loins?"
    r"|shoulder[- ]?blades?|buttocks?|glutes?|gluteal|bum",
    "leg": r"legs?|thighs?|hamstrings?|quads?|quadriceps|calf|calves|shins?",
    "hip": r"hips?",
    "knee": r"knees?|kneecaps?",
    "ankle": r"ankles?",
    "foot": r"foot|feet|toes?|heels?",
    "neck": r"necks?",
    "shoulder": r"shoulders?(?![- ]?blades?)",
    "arm": r"arms?|elbows?|wrists?|hands?|fingers?|thumbs?",
    "chest": r"chests?|breasts?|ribs?|ribcage|lungs?|heart",
    "belly": r"stomach|tummy|belly|abdomen|abdominal|bowels?|bladder|kidneys?|liver|groin",
    "head": r"heads?|headaches?|face|jaw|tooth|teeth|gums?|eyes?|ears?|nose|mouth|throat|tongue|scalp",
    "skin": r"skin",
}

# How a part is named in a sentence ("the articles are about the back and the legs").
NAMES: dict[str, str] = {
    "back": "the back", "leg": "the legs", "hip": "the hip", "knee": "the knee", "ankle": "the ankle",
    "foot": "the foot", "neck": "the neck", "shoulder": "the shoulder", "arm": "the arm or hand",
    "chest": "the chest", "belly": "the belly", "head": "the head or face", "skin": "the skin",
}

# Figures of speech that name a part without being about it.
_IDIOMS = re.compile(
    r"\b(?:on the other hand|hand in hand|(?:at|by|on|to) hand|hands[- ]on|hands? free"
    r"|doing (?:my|your|his|her|their) head in|head(?:ing|ed|s)? (?:to|for|out|off|home|back|over)"
    r"|heads?[- ]up|by heart|heart ?felt|off the top of my head|face (?:it|up to)|in the face of"
    r"|keep an eye|eye on|turn a blind eye|an arm and a leg|break a leg|leg it|legged it"
    r"|pain in the neck|neck and neck|foot the bill|on foot|put (?:my|your) foot down|toe the line)\b"
)
# "Back" as an adverb: "my knee pain keeps coming back", "back to normal", "a while back". Not
# when it is someone's back ("hurt my back at work") or before the words that make it the body
# part again ("why do i get back pain", "the way back pain feels").
_BACK_ADVERB = re.compile(
    r"\b(?:(?:come|comes|came|coming|go|goes|went|going|gone|get|gets|got|getting|bounce[sd]?|bouncing"
    r"|bring|brings|brought|cut|cutting|hold|holding|held|fight|fighting|look|looking|pay|paid|send|sent"
    r"|give|gave|flash(?:es|ed)?) back"
    r"|(?<!\bmy )(?<!\byour )(?<!\bhis )(?<!\bher )(?<!\bour )(?<!\btheir )(?<!\bthe )(?<!\bupper )(?<!\blower )"
    r"back (?:(?:to|at) (?:normal|work|the gym|bed|sleep|school)|home|and forth)"
    r"|(?:a (?:while|week|month|year)|(?:days|weeks|months|years|ages|way)) back)\b"
    r"(?! ?(?:pain|ache|spasms?|problems?|injur|muscles?|issues?|strain|trouble|surgery|stiff|brace|support"
    r"|exercises?|stretch))"
)
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
