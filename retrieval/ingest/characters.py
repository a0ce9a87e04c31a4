r"""Characters that show nothing, read the same way everywhere: in the articles (``cleaning``), in
the question triage reads (``safety.normalise``) and in the question the answer stage searches
with (``answer.assemble``).

- Zero-width, soft-hyphen and direction marks are deleted: "sci\u200bati\u200bca" reads
  "sciatica" and "can\u200bt p\u200bee" reads "cant pee", as the person sees them.
- Control characters part a question's words: "legs\x00numb" reads "legs numb"; an article's are
  dropped, but for its page breaks.
- The Unicode line and paragraph separators (U+2028, U+2029, from word processors and some web
  pages) are line breaks, not nothing: "pain.\u2028Rest" must not read "pain.Rest".
"""
from __future__ import annotations

import re

INVISIBLE = re.compile(r"[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# In an article, control characters are dropped instead, and the form feed stays (a PDF page break).
DOCUMENT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
LINE_SEPARATORS = str.maketrans({"\u2028": "\n", "\u2029": "\n\n"})


def without_invisible(text: str) -> str:
    """``text`` with invisible marks deleted and control characters other than tab and line
    feed turned into spaces (for a question; the article cleaner drops them instead)."""
    return CONTROL.sub(" ", INVISIBLE.sub("", text))
