"""Medical-safety triage: runs on every question, before retrieval, as plain deterministic code.

``assess(question)`` returns a :class:`Triage` with the care level ("emergency", "urgent" or
"none"), the ids of the red flags that fired, and three topic flags (crisis, dosing,
safety net). The wording shown to the user lives in ``care.py``; the red-flag bank lives in
``redflags.py``.

How it works (a small ConText/NegEx-style pipeline):

1. ``normalise_text``: Unicode NFKC, control and bidi characters removed, lower case,
   contractions and txt-speak expanded ("cant" -> "cannot", "u" -> "you"), common
   misspellings corrected, and a one-edit fuzzy match for long keywords ("numbess" -> "numbness").
2. The text is cut into clauses at sentence ends and at words that change the subject
   ("but", "now", "also", "unrelated"...), so a red flag "mentioned in passing" keeps its own
   clause and a negation in one clause cannot reach the next.
3. Each *finding* in ``redflags.FINDINGS`` is matched with precise regexes; a match counts
   unless one of the finding's modifiers cancels it (negation, hypothetical, information
   question, past/resolved, someone else's history, positional numbness...).
4. ``redflags.RULES`` combine findings: e.g. fever only counts with back pain, while saddle
   numbness, bladder/bowel problems, both legs, chest pain and crisis statements fire alone.

Prompt-injection text ("don't tell me to go to A&E") is just more text: nothing in the
question can switch a rule off.

>>> assess("numb between my legs since this morning and my back is agony").level
'emergency'
>>> assess("no numbness down there and peeing fine, just a stiff back").level
'none'
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from retrieval.safety import redflags

EMERGENCY = "emergency"
URGENT = "urgent"
NONE = "none"
_LEVEL_RANK = {NONE: 0, URGENT: 1, EMERGENCY: 2}


@dataclass(frozen=True)
class Triage:
    """What the safety layer found in one question."""

    level: str  # "emergency" | "urgent" | "none"
    reasons: tuple[str, ...]  # short ids of the red flags that fired, most serious first
    crisis: bool = False  # suicidal intent: crisis-line signposting (level is then "emergency")
    dosing: bool = False  # a medicine dose/strength/combination question: decline (never with crisis)
    safety_net: bool = False  # sciatica / nerve-pain topic: add the one-line safety net
    about_animal: bool = False  # about a pet's symptoms, not the asker's: the articles are about people


# --------------------------------------------------------------------------------------
# 1. Normalisation
# --------------------------------------------------------------------------------------

_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'",
                         "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})

# (pattern, replacement), applied in order on lower-case text
_REWRITES: tuple[tuple[str, str], ...] = (
    (r"\bcan'?t\b|\bcan not\b|\bcnt\b|\bcannae\b|\bcant\b", "cannot"),
    (r"\bcouldn'?t\b|\bcouldnt\b", "could not"),
    (r"\bwon'?t\b", "will not"),
    (r"\bwouldn'?t\b", "would not"),
    (r"\bshouldn'?t\b", "should not"),
    (r"\bdon'?t\b|\bdnt\b", "do not"),
    (r"\bdoesn'?t\b", "does not"),
    (r"\bdidn'?t\b|\bdidnt\b", "did not"),
    (r"\bisn'?t\b", "is not"),
    (r"\baren'?t\b", "are not"),
    (r"\bwasn'?t\b", "was not"),
    (r"\bweren'?t\b", "were not"),
    (r"\bhaven'?t\b|\bhavnt\b", "have not"),
    (r"\bhasn'?t\b", "has not"),
    (r"\bhadn'?t\b", "had not"),
    (r"\bain'?t\b", "is not"),
    (r"\bi'?m\b", "i am"),
    (r"\bi'?ve\b", "i have"),
    (r"\bi'll\b", "i will"),
    (r"\b(he|she|it|that|there|what)'s\b", r"\1 is"),
    (r"\b(you|we|they)'re\b", r"\1 are"),
    (r"\b(you|we|they)'ve\b", r"\1 have"),
    (r"\bdunno\b", "do not know"),
    (r"\bgonna\b", "going to"),
    (r"\bwanna\b", "want to"),
    (r"\bgotta\b", "got to"),
    (r"\bw/o\b", "without"),
    (r"\bw/", "with "),
    (r"\bkms\b", "kill myself"),
    (r"\bunalive\b", "kill"),
    (r"\ba\s*&\s*e\b|\ba and e\b", "a&e"),
    (r"\s&\s|\s\+\s", " and "),
    (r"\bco[\s-]?codamol\b", "co-codamol"),
    (r"\bco[\s-]?dydramol\b", "co-dydramol"),
    (r"\bshoulderblades?\b", "shoulder blades"),
)
_REWRITE_RES = tuple((re.compile(p), r) for p, r in _REWRITES)

# whole-token replacements: txt-speak and misspellings seen in health questions
_TOKEN_FIXES: dict[str, str] = {
    "u": "you", "ur": "your", "r": "are", "pls": "please", "plz": "please", "b4": "before",
    "2day": "today", "2nite": "tonight", "tonite": "tonight", "wen": "when", "wot": "what",
    "coz": "because", "cos": "because", "cuz": "because", "becuz": "because", "becoz": "because",
    "bk": "back", "bak": "back", "bck": "back", "hav": "have", "thru": "through", "tho": "though",
    "abt": "about", "prob": "probably", "prolly": "probably", "probs": "probably", "rly": "really",
    "smth": "something", "nd": "and", "n": "and", "dr": "doctor", "2": "two", "3": "three",
    "ive": "i have", "im": "i am", "dont": "do not", "doesnt": "does not", "wont": "will not",
    "isnt": "is not", "wasnt": "was not", "hasnt": "has not", "hadnt": "had not",
    "numbnes": "numbness", "numbess": "numbness", "numness": "numbness", "numbniss": "numbness",
    "numm": "numb", "num": "numb", "nunb": "numb", "numbe": "numb", "numbed": "numb",
    "tingleing": "tingling", "tingeling": "tingling", "tinglin": "tingling", "tinglng": "tingling",
    "tingly": "tingling", "tinglying": "tingling",
    "temprature": "temperature", "temperture": "temperature", "tempreture": "temperature",
    "tempature": "temperature", "temprature's": "temperature", "tempratures": "temperature",
    "feaver": "fever", "fevar": "fever", "fevor": "fever", "fevre": "fever", "feva": "fever",
    "feverish": "feverish", "fevah": "fever",
    "wieght": "weight", "weigth": "weight", "wight": "weight", "waight": "weight", "weight's": "weight",
    "loosing": "losing", "lossing": "losing", "loseing": "losing",
    "bowls": "bowels", "bowles": "bowels", "bowl": "bowel",
    "bottem": "bottom", "botom": "bottom", "bottum": "bottom", "buttox": "buttocks",
    "genetals": "genitals", "genitles": "genitals", "genitails": "genitals", "privites": "privates",
    "stomache": "stomach", "stomack": "stomach", "tummie": "tummy",
    "cancr": "cancer", "cancar": "cancer", "canser": "cancer", "cancor": "cancer", "cnacer": "cancer",
    "errection": "erection", "erektion": "erection", "erecton": "erection", "errections": "erection",
    "erections": "erection",
    "accidant": "accident", "acident": "accident", "accedent": "accident", "acciddent": "accident",
    "paralized": "paralysed", "paralyzed": "paralysed", "paralysed": "paralysed",
    "peeing": "peeing", "peing": "peeing", "peeng": "peeing", "weeing": "weeing",
    "urinateing": "urinating", "urinatin": "urinating",
    "leggs": "legs", "legz": "legs", "lgs": "legs",
    "weekness": "weakness", "weaknes": "weakness", "weakniss": "weakness", "waek": "weak",
    "weeak": "weak", "weeknes": "weakness",
    "pian": "pain", "pains": "pains", "pane": "pain",
    "chemotherapy": "chemotherapy", "kemo": "chemo",
    "shiverin": "shivering", "shivvering": "shivering", "shakin": "shaking",
    "dizy": "dizzy", "dizzey": "dizzy", "diziness": "dizziness",
    "ladder": "ladder", "bladda": "bladder", "bladdar": "bladder", "bladdor": "bladder",
    "incontinance": "incontinence", "incontenence": "incontinence",
    "seriuos": "serious", "serius": "serious",
    "paracetemol": "paracetamol", "paracetomol": "paracetamol", "paracetamal": "paracetamol",
    "paracetamoll": "paracetamol", "parcetamol": "paracetamol", "paracet": "paracetamol",
    "ibuprophen": "ibuprofen", "ibuprofin": "ibuprofen", "iboprofen": "ibuprofen",
    "ibuprofan": "ibuprofen", "ibruprofen": "ibuprofen", "ibrufen": "ibuprofen", "ibu": "ibuprofen",
    "codiene": "codeine", "codine": "codeine", "naproxin": "naproxen", "neproxen": "naproxen",
    "diclofenic": "diclofenac", "diclofenec": "diclofenac", "tramodol": "tramadol",
    "gabapentine": "gabapentin", "gabbapentin": "gabapentin", "pregablin": "pregabalin",
    "predisolone": "prednisolone", "prednisilone": "prednisolone", "prednisalone": "prednisolone",
    "osteoperosis": "osteoporosis", "osteoporisis": "osteoporosis", "ostioporosis": "osteoporosis",
    "siatica": "sciatica", "syatica": "sciatica", "sciattica": "sciatica", "sciactica": "sciatica",
    "sciatca": "sciatica", "sciaticka": "sciatica", "schiatica": "sciatica", "sciatia": "sciatica",
    "sucidal": "suicidal", "suicidle": "suicidal", "sucide": "suicide", "suicde": "suicide",
    "pregant": "pregnant", "pregnent": "pregnant", "pragnant": "pregnant",
    "anus": "anus", "anal": "anal",
}

# long, distinctive keywords that may be corrected by one edit (never short or
# everyday words: "bladder" would eat "ladder", "cancer" would eat "cancel")
_FUZZY_KEYWORDS: tuple[str, ...] = (
    "numbness", "tingling", "temperature", "sciatica", "paracetamol", "ibuprofen",
    "incontinence", "incontinent", "prednisolone", "osteoporosis", "weakness", "genitals",
    "buttocks", "shivering", "codeine", "naproxen", "diclofenac", "co-codamol", "cocodamol",
    "tramadol", "gabapentin", "pregabalin", "amitriptyline", "chemotherapy", "herniated",
    "contractions", "pregnant", "shoulder", "urinate", "urinating", "paralysed", "stomach",
    "abdomen", "dizziness", "unexplained", "suicidal", "accident", "vertebra", "ambulance",
    "emergency", "feverish", "shaking", "tingly", "privates", "scaffolding", "motorbike",
)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _build_fuzzy_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for keyword in _FUZZY_KEYWORDS:
        for variant in _deletions(keyword) | {keyword}:
            index.setdefault(variant, keyword)
    return index


_FUZZY_INDEX = _build_fuzzy_index()
_TOKEN = re.compile(r"[a-z0-9][a-z0-9'-]*")


@lru_cache(maxsize=8192)
def _fix_token(token: str) -> str:
    """Correct one lower-case token: txt-speak/misspelling table, then one-edit fuzzy match.

    >>> _fix_token("numbess"), _fix_token("tinlging"), _fix_token("shoulders"), _fix_token("ladder")
    ('numbness', 'tingling', 'shoulders', 'ladder')
    """
    fixed = _TOKEN_FIXES.get(token)
    if fixed is not None:
        return fixed
    if not 6 <= len(token) <= 20 or not token.isalpha():
        return token
    for candidate in (token, *_deletions(token)):
        keyword = _FUZZY_INDEX.get(candidate)
        if keyword is None or not _within_one_edit(token, keyword):
            continue
        if token.startswith(keyword) or keyword.startswith(token):
            return token  # an inflection ("shoulders"), not a misspelling
        return keyword
    return token


def _within_one_edit(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or adjacent swap (Damerau-Levenshtein <= 1)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diffs) == 1 or (
            len(diffs) == 2 and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def normalise_text(text: str) -> str:
    """Lower-case, clean and spelling-corrected text that the red-flag patterns are written for.

    >>> normalise_text("I cant feel my BUM wen i wipe \\u2014 numbess 2day")
    'i cannot feel my bum when i wipe - numbness today'
    """
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = _INVISIBLE.sub(" ", text).casefold()
    for pattern, replacement in _REWRITE_RES:
        text = pattern.sub(replacement, text)
    text = _TOKEN.sub(lambda m: _fix_token(m.group()), text)
    return re.sub(r"[ \t\r\f\v]+", " ", text).strip()


# --------------------------------------------------------------------------------------
# 2. Clauses and modifiers (ConText-style)
# --------------------------------------------------------------------------------------

_CLAUSE_BREAK = re.compile(
    r"[.!?;\n]+|\s-\s|:\s|\b(?:but|however|although|though|whereas|except|apart from|aside from|until|"
    r"till|and now|now|also|plus|anyway|unrelated|btw|by the way|then|yet|still|meanwhile|otherwise)\b"
)
_WORDS = re.compile(r"[a-z0-9&'-]+")

_NEGATION = re.compile(
    r"\b(?:no|not|never|without|nor|none|neither|denies|deny|denied|zero|free of|absence of|"
    r"negative for|nothing like|nope)\b"
)
_PSEUDO_NEGATION = re.compile(
    r"\b(?:not sure|not certain|no idea|not just|not only|no doubt|not normal|not right|not usual|"
    r"no better|not better|not getting better|not improv\w*|not go(?:ing)? away|no reason|"
    r"(?:do|did|does) not know|not know|no longer|not worried|not that bad|no matter|nothing helps|"
    r"not (?:eased|easing|easy)|not (?:want|wanting) to (?:bother|waste|overreact|make a fuss)|"
    r"never (?:had|felt|experienced|been like|seen) (?:this|that|it|anything like (?:this|it))(?: before)?|"
    r"(?:not (?:a|an)|no) (?:emergency|big deal|rush)|not (?:that|very|too) (?:serious|worried)|no (?:big )?deal|"
    r"not (?:feeling|felt) (?:well|right|great|good)|no one|nobody|"
    r"(?:did|do|does) not (?:even )?(?:notice|realise|realize|feel|know)(?: that)?)\b"
)
_POST_NEGATION = re.compile(r"^\W{0,3}(?:no|none|nope|negative|absent|not really)\b")
_HYPOTHETICAL = re.compile(
    r"\b(?:if|whether|in case|what if|signs? of|symptoms? of|warning signs?|red flags?|such as|"
    r"things like|look out for|watch (?:out )?for|when to|should i (?:worry|go|call|be worried)|"
    r"how (?:do|would|can|will) (?:i|you|we) (?:know|tell)|what would|supposed to|told (?:me|us|him|her) to|"
    r"advised (?:me |us |him |her )?to|in the event|leaflet|checklist)\b"
)
_QUESTION_START = re.compile(
    r"^\W*(?:what|whats|how|why|when|which|who|can|could|does|do|is|are|should|would|will|tell me|"
    r"explain|define|describe|list|any|difference)\b"
)
_PERSONAL = re.compile(
    r"\b(?:i|me|my|mine|myself|we|our|us|he|him|his|she|her|hers|himself|herself|son|daughter|"
    r"husband|wife|mum|mom|dad|partner|baby)\b"
)
_REMOTE_PAST = (
    r"years ago|decades? ago|months ago|last year|a long time ago|long ago|as a (?:kid|child|teen\w*|baby)|"
    r"when i was (?:young|younger|a kid|little|a child|a teenager|\d+)|in (?:19|20)\d\d|back in|"
    r"in the past|previously|once had|used to"
)
_REMOTE_PAST_RE = re.compile(r"\b(?:" + _REMOTE_PAST + r")\b")
_PAST_RE = re.compile(
    r"\b(?:" + _REMOTE_PAST + r"|long gone|gone now|now gone|went away|gone away|cleared up|resolved|"
    r"settled down|better now|fine now|ok now|okay now|wore off|worn off|recovered|got over|"
    r"for years|for decades|since (?:i was|childhood|birth|forever)|all my life|always (?:had|been))\b"
)
_POSITIONAL = re.compile(
    r"\b(?:cross-?legged|sitting on (?:my|his|her|the) (?:feet|foot|legs?|toilet|loo)|"
    r"sat on (?:my|his|her|the) (?:feet|foot|legs?|toilet|loo)|on the (?:toilet|loo) (?:too long|for ages)|"
    r"kneeling|knelt|tight (?:jeans|trousers)|(?:went|goes|go|wore|wears|wearing|wore) (?:away|off)|"
    r"after a (?:few|couple of) (?:minutes|mins|seconds)|when i (?:cross|sit on)|fell asleep|dead leg|"
    r"(?:bike|cycle|cycling) rides?|on my bike|saddle sore|turbo trainer|spin class)\b"
)
_EXERTION = re.compile(
    r"\b(?:after|from|since|during|post) (?:the |a |my |this morning'?s? |yesterday'?s? |today'?s? |"
    r"last night'?s? |long )?(?:gym|run|running|workout|work out|training|leg day|squats?|deadlifts?|"
    r"cycling|walk|hike|hiking|football|match|game|marathon|half marathon|10k|5k|exercise|class|"
    r"spin class|session|race)\b|\bleg day\b|\bdoms\b"
)
_MECHANICAL = re.compile(
    r"when (?:i|he|she) (?:turn|roll|move|change position|get up|shift)|turning over|rolling over|"
    r"(?:eases?|better|goes|settles|fine) (?:when|if|once|after) (?:i|he|she) (?:move|change|get up|shift|"
    r"turn|walk|get going)|(?:changing|change of|changing my) position (?:helps|eases)|cramps?\b|"
    r"mattress is (?:old|too|rubbish)"
)
_CONCERN = re.compile(
    r"\b(?:worr\w*|scared|afraid|fear\w*|terrified|paranoid|anxious|could (?:\w+ ){0,3}be|"
    r"might (?:\w+ ){0,3}be|may be|is it|is this|is that|rule[ds]? out|ruled out|sign of|signs of|"
    r"symptoms? of|test\w* for|check\w* (?:me |him |her )?for|screen\w*|risk of|mean (?:i|he|she) "
    r"(?:have|has)|does (?:\w+ ){0,3}mean|cause|causes|chance|awareness|charity|research|fundrais\w*)\b"
)
_THIRD_PERSON = re.compile(
    r"\b(?:(?:my|our|his|her) " + redflags.RELATIVE + r"(?:'s)?|he|she|they|family history|"
    r"runs in (?:the|my|our) family|family)\b"
)
_FIRST_PERSON_SUBJECT = re.compile(r"\b(?:i|me|myself)\b")
_CARER_SYMPTOMS = re.compile(
    r"\b(?:his|her|their) (?:lower |upper )?(?:back|spine|legs?|bladder|bowels?|hips?|bottom|bum|pain|"
    r"feet|foot|sciatica)\b|\b(?:he|she|they) (?:is|has|have|keeps|says|cannot|could not|is in|"
    r"complains?|feels?|felt|fell|got|was|went|hurt)\b"
)
_FIRST_PERSON_SYMPTOMS = re.compile(
    r"\bmy (?:lower |upper |left |right |own |bad )?(?:back|spine|legs?|bottom|bum|bladder|sciatica|"
    r"hips?|foot|feet|neck)\b|\bi (?:have|have got|got|am in|feel) (?:\w+ ){0,2}?(?:pain|back|ache|"
    r"sciatica|numb)|\bi (?:hurt|injured|pulled|did|put|tweaked) my\b"
)
_INTENDED_WEIGHT_LOSS = re.compile(
    r"on purpose|intentional\w*|deliberate\w*|\bdiet\w*|slimming|weight ?watchers|calorie|counting|"
    r"\bketo\b|fasting|\bgym\b|(?:trying|tried|want\w*|need\w*|plan\w*|hoping|managed|decided|aim\w*|"
    r"goal|try) to lose|ozempic|wegovy|mounjaro|semaglutide|tirzepatide|gastric (?:band|bypass|sleeve)|"
    r"bariatric|weight loss (?:jab|injection|programme|program|journey|plan|goal|surgery|club)|"
    r"(?:through|by|from|with) (?:running|exercise|exercising|walking|cycling|swimming|training|"
    r"eating (?:better|healthier|less))|healthy eating|cut (?:out|down)|couch to 5k|so proud|"
    r"lost (?:\w+ ){0,3}(?:on purpose|in the gym)"
)
_UNINTENDED_WEIGHT_LOSS = re.compile(
    r"without (?:trying|dieting|meaning to|any reason|changing|doing anything|even trying)|"
    r"not (?:been )?(?:trying|dieting|on a diet)|no (?:idea|reason|explanation) why|"
    r"for no (?:obvious |apparent )?reason|unexplained|unintentional\w*|unintended|"
    r"eating (?:normally|the same|fine|well|loads|as usual|as normal|more)|cannot explain|"
    r"(?:have not|has not) changed|not sure why|do not know why|out of nowhere|by itself|on its own"
)
_WEIGHT_ASPIRATION = re.compile(
    r"\b(?:will|would|could|should|does|do|can|if|to|is|start|started|try\w*|keep|need|want|help\w*|"
    r"plan\w*|about|from|by|of)\s*$"
)
_ANIMAL = re.compile(
    r"\b(?:my|our|the|a|his|her) (?:dog|dogs|puppy|pup|cat|cats|kitten|pet|rabbit|bunny|guinea pig|"
    r"hamster|pony|horse's|labrador|spaniel|terrier)\b|\bvets?\b|\bveterinar\w*"
)
# Exercise names that contain an animal ("the cat stretch", "bird dog", "downward dog") are
# taken out before looking for one, so they never make a question "about an animal".
_ANIMAL_EXERCISE = re.compile(
    r"\b(?:cat|cow|dog|cobra|camel|pigeon)[\s-]*(?:cow|cat|pose|stretch|tilt)\b|"
    r"\bdownward(?:[\s-]facing)?[\s-]dog\b|\bbird[\s-]?dogs?\b"
)
_PAIN_WORD = re.compile(redflags.PAIN_WORD)

_WINDOW_CHARS = 160  # how far a modifier may sit from its target (bounded for long inputs)
_NEGATION_TOKENS = 6


class _Text:
    """Normalised text plus its clause boundaries, so modifier checks stay local and cheap."""

    def __init__(self, text: str):
        self.text = text
        starts = [0]
        ends = []
        for m in _CLAUSE_BREAK.finditer(text):
            ends.append(m.start())
            starts.append(m.end())
        ends.append(len(text))
        self.starts = starts
        self.ends = ends
        self.carer = bool(_CARER_SYMPTOMS.search(text)) and not _FIRST_PERSON_SYMPTOMS.search(text)

    def clause_of(self, position: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, position) - 1
        return self.starts[i], self.ends[i]


def _last_tokens(text: str, n: int) -> str:
    return " ".join(_WORDS.findall(text)[-n:])


def _is_cancelled(finding: redflags.Finding, match: re.Match[str], doc: _Text) -> bool:
    """True when a modifier in the match's clause cancels this match of ``finding``."""
    mods = finding.modifiers
    text = doc.text
    clause_start, clause_end = doc.clause_of(match.start())
    pre = text[max(clause_start, match.start() - _WINDOW_CHARS):match.start()]
    post = text[match.end():min(clause_end, match.end() + _WINDOW_CHARS)]
    clause = text[max(clause_start, match.start() - _WINDOW_CHARS):
                  min(clause_end, match.end() + _WINDOW_CHARS)]
    pre_comma = pre.rsplit(",", 1)[-1]

    if "negation" in mods:
        window = _last_tokens(_PSEUDO_NEGATION.sub(" ", pre_comma), _NEGATION_TOKENS)
        if _NEGATION.search(window) or _POST_NEGATION.search(post):
            return True
    if "hypothetical" in mods and _HYPOTHETICAL.search(_last_tokens(pre_comma, 10)):
        return True
    if "info" in mods and _QUESTION_START.search(text[clause_start:clause_start + 40]) \
            and not _PERSONAL.search(clause):
        return True
    if "past" in mods:
        near = _last_tokens(pre_comma, 8) + " | " + " ".join(_WORDS.findall(post.split(",", 1)[0])[:8])
        if _PAST_RE.search(near):
            return True
    if "remote_past" in mods:
        near = _last_tokens(pre_comma, 8) + " | " + " ".join(_WORDS.findall(post.split(",", 1)[0])[:8])
        if _REMOTE_PAST_RE.search(near):
            return True
    if "positional" in mods and _POSITIONAL.search(clause):
        return True
    if "exertion" in mods and _EXERTION.search(clause):
        return True
    if "mechanical" in mods and _MECHANICAL.search(clause):
        return True
    if "needs_pain_word" in mods and not _PAIN_WORD.search(clause):
        return True
    if "concern" in mods and _CONCERN.search(_last_tokens(pre, 8)):
        return True
    if "experiencer" in mods and not doc.carer:
        last_other = None
        window = pre[-_WINDOW_CHARS:]
        for last_other in _THIRD_PERSON.finditer(window):
            pass
        if last_other is not None and not _FIRST_PERSON_SUBJECT.search(window[last_other.end():]):
            return True
        if re.match(r"\W*(?:runs in|in the family)", post):
            return True
    if "intended" in mods:
        if _UNINTENDED_WEIGHT_LOSS.search(text):
            return False
        if _INTENDED_WEIGHT_LOSS.search(text) or _WEIGHT_ASPIRATION.search(pre):
            return True
    return False


@lru_cache(maxsize=1)
def _compiled_findings() -> dict[str, tuple[redflags.Finding, re.Pattern[str]]]:
    return {f.id: (f, re.compile("|".join(f"(?:{p})" for p in f.patterns))) for f in redflags.FINDINGS}


@lru_cache(maxsize=1)
def _compiled_topics() -> tuple[re.Pattern[str], re.Pattern[str]]:
    dosing = re.compile("|".join(f"(?:{p})" for p in redflags.DOSING_PATTERNS))
    safety_net = re.compile("|".join(f"(?:{p})" for p in redflags.SAFETY_NET_PATTERNS))
    return dosing, safety_net


class _Findings:
    """Lazily decides which findings are present (rules short-circuit, so most are never run)."""

    def __init__(self, doc: _Text):
        self.doc = doc
        self._memo: dict[str, bool] = {}

    def __contains__(self, finding_id: str) -> bool:
        if finding_id not in self._memo:
            finding, pattern = _compiled_findings()[finding_id]
            self._memo[finding_id] = any(
                not _is_cancelled(finding, m, self.doc) for m in pattern.finditer(self.doc.text)
            )
        return self._memo[finding_id]


# Any part of the asker's own body: "walking my dog hurts my knees" is about the asker.
_ASKER_BODY = re.compile(
    r"\bmy (?:\w+ )?(?:knees?|shoulders?|arms?|hands?|wrists?|ankles?|elbows?|joints?|muscles?|body|"
    r"calf|calves|thighs?|glutes?|buttocks?|head|chest|stomach|tummy|hamstrings?)\b|\b(?:hurts|hurt) me\b"
)


def _is_about_animal(text: str) -> bool:
    """A pet's symptoms ("my dog's back leg is limping"), with none of the asker's own."""
    if not _ANIMAL.search(_ANIMAL_EXERCISE.sub(" ", text)):
        return False
    return not (_FIRST_PERSON_SYMPTOMS.search(text) or _ASKER_BODY.search(text))


def _fired_rules(doc: _Text, *, about_animal: bool) -> list[redflags.Rule]:
    found = _Findings(doc)
    fired = [
        rule for rule in redflags.RULES
        if all(f in found for f in rule.all_of) and (not rule.any_of or any(f in found for f in rule.any_of))
    ]
    if fired and about_animal:
        fired = [rule for rule in fired if rule.id == "crisis"]  # "my dog can't pee"
    return fired


def has_cancelled_finding(sentence: str) -> bool:
    """True when the patterns recognise a red-flag finding in ``sentence`` and a ConText
    modifier cancels every match of it: "no numbness down there", "the fever I had last week
    is gone", "my foot went numb sitting cross-legged". The learned head then needs a higher
    score to raise a level from this sentence; wording the patterns do not know is left to it."""
    doc = _Text(normalise_text(sentence))
    for finding, pattern in _compiled_findings().values():
        if not finding.modifiers:
            continue
        matches = list(pattern.finditer(doc.text))
        if matches and all(_is_cancelled(finding, m, doc) for m in matches):
            return True
    return False


# --------------------------------------------------------------------------------------
# 3. Public entry point (the learned layer lives in learned_flags.py)
# --------------------------------------------------------------------------------------

Embed = Callable[[list[str]], "object"]


def assess(question: str, *, embed: Embed | None = None, message_vector=None) -> Triage:  # type: ignore[no-untyped-def]
    """Triage one user question. Deterministic; never raises on odd input.

    ``embed`` (optional) is the pipeline's already-loaded encoder: ``list[str] -> float32
    array (n, 384)``, L2-normalised. With it, the learned head (``learned_flags``) scores the
    message and its sentences, and can raise the level (and set ``crisis``) where the patterns
    missed a flag; it never lowers a level found by the patterns. ``message_vector`` is the
    question's vector when retrieval already computed it for the same text (reused).
    """
    raw = question if isinstance(question, str) else str(question or "")
    text = normalise_text(raw)
    doc = _Text(text)
    animal_only = _is_about_animal(text)
    fired = _fired_rules(doc, about_animal=animal_only)
    reasons = [rule.id for rule in fired]
    level = max((rule.level for rule in fired), key=_LEVEL_RANK.__getitem__, default=NONE)

    if embed is not None and text and not animal_only and "crisis" not in reasons:
        from retrieval.safety.learned_flags import learned_flag

        learned = learned_flag(raw, embed, message_vector=message_vector)
        if learned.level != NONE and (_LEVEL_RANK[learned.level] > _LEVEL_RANK[level] or learned.group == "crisis"):
            reasons.insert(0, learned.group)
            level = max(level, learned.level, key=_LEVEL_RANK.__getitem__)

    reasons.sort(key=lambda r: -_LEVEL_RANK[_rule_level(r)])
    dosing_re, safety_net_re = _compiled_topics()
    return Triage(
        level=level,
        reasons=tuple(dict.fromkeys(reasons)),
        crisis="crisis" in reasons,
        # in a crisis the crisis card is the whole answer: no dosing decline beside it
        dosing=bool(dosing_re.search(text)) and "crisis" not in reasons,
        safety_net=bool(safety_net_re.search(text)) and not animal_only,
        about_animal=animal_only and "crisis" not in reasons,
    )


@lru_cache(maxsize=None)
def _rule_level(rule_id: str) -> str:
    from retrieval.safety.learned_flags import GROUP_LEVELS

    return next((r.level for r in redflags.RULES if r.id == rule_id), GROUP_LEVELS.get(rule_id, URGENT))
