"""Tidy a message before the red-flag patterns read it: Unicode NFKC, control and bidi
characters removed, lower case, contractions and txt-speak expanded ("cant" -> "cannot",
"u" -> "you"), common misspellings corrected, and a one-edit fuzzy match for long keywords
("numbess" -> "numbness"). The word lists are data: ``data/spelling.yaml``.

>>> normalise_text("I cant feel my BUM wen i wipe \\u2014 numbess 2day")
'i cannot feel my bum when i wipe - numbness today'
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from retrieval.datafiles import Checker, read_yaml
from retrieval.ingest import without_invisible

SPELLING_PATH = Path(__file__).resolve().parent / "data" / "spelling.yaml"
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'",
                         "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})
_TOKEN = re.compile(r"[a-z0-9][a-z0-9'-]*")


@dataclass(frozen=True)
class Spelling:
    """What ``spelling.yaml`` holds, checked."""

    rewrites: tuple[tuple[re.Pattern[str], str], ...]  # applied in order on lower-case text
    token_fixes: dict[str, str]  # whole-token replacements
    fuzzy_index: dict[str, str]  # every one-deletion variant of a fuzzy keyword -> the keyword


def load_spelling(path: Path = SPELLING_PATH) -> Spelling:
    """Read and check the spelling tables at ``path``."""
    check = Checker(path)
    data = read_yaml(path)
    rewrites = []
    for i, pair in enumerate(data.get("rewrites") or []):
        line = data["rewrites"].lines[i]
        if not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(s, str) for s in pair):
            raise check.fail(line, f"rewrite {i + 1} should be [pattern, replacement]")
        rewrites.append((check.regex(pair[0], line, f"rewrite {i + 1}"), pair[1]))
    fixes = check.mapping(data, "token_fixes", "token_fixes")
    for word, fixed in fixes.items():
        if not isinstance(word, str) or not isinstance(fixed, str) or not fixed:
            raise check.fail(fixes.lines[word], f"token fix {word!r} should map a word to its correction")
    index: dict[str, str] = {}
    for keyword in check.strings(data, "fuzzy_keywords", "fuzzy_keywords"):
        for variant in _deletions(keyword) | {keyword}:
            index.setdefault(variant, keyword)
    return Spelling(tuple(rewrites), dict(fixes), index)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


SPELLING = load_spelling()


@lru_cache(maxsize=8192)
def fix_token(token: str) -> str:
    """Correct one lower-case token: txt-speak/misspelling table, then one-edit fuzzy match.

    >>> fix_token("numbess"), fix_token("tinlging"), fix_token("shoulders"), fix_token("ladder")
    ('numbness', 'tingling', 'shoulders', 'ladder')
    """
    fixed = SPELLING.token_fixes.get(token)
    if fixed is not None:
        return fixed
    if not 6 <= len(token) <= 20 or not token.isalpha():
        return token
    for candidate in (token, *_deletions(token)):
        keyword = SPELLING.fuzzy_index.get(candidate)
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


def clean_characters(text: str) -> str:
    """NFKC (full-width letters, ligatures), typographic quotes made plain, zero-width and
    direction marks deleted and control characters turned into spaces: what the classifier reads. Case and spelling are left
    as the person wrote them (the classifier was trained on people's own wording)."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return re.sub(r"[ \t\r\f\v]+", " ", without_invisible(text)).strip()


def normalise_text(text: str) -> str:
    """Lower-case, clean and spelling-corrected text that the red-flag patterns are written for."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = without_invisible(text).casefold()
    for pattern, replacement in SPELLING.rewrites:
        text = pattern.sub(replacement, text)
    text = _TOKEN.sub(lambda m: fix_token(m.group()), text)
    return re.sub(r"[ \t\r\f\v]+", " ", text).strip()
