"""Clean scraped article text: keep every content sentence, drop the web-page junk around it.

The rules are general, written for pages we have not seen, not for particular files:

1. characters: zero-width and control characters out, spaces and line ends normalised;
2. page tails: from a "Comments", "Related articles", "Leave a reply", "About the author",
   "Copyright" ... line to the end of the page (a related-articles tail often carries a copy of
   another article);
3. junk lines anywhere: calls to action and promos, share bars, newsletter and follow prompts,
   affiliate disclosures, ad labels, reading-time bylines, tables of contents, login prompts,
   "content is protected", "if there is any infringement ..." notices, and short lines the page
   repeats three or more times (inserted ad slogans);
4. keyword stuffing: a phrase from the title repeated through the body out of grammatical place
   (appended to paragraphs, standing alone, glued inside words) is removed everywhere but the
   title, as are lines that just repeat the title;
5. tidying: bullets, stray punctuation and spacing, without rewording anything.

``clean_text`` returns the text and a list of what was removed and why, so that cleaning can be
inspected (``python -m retrieval clean FILE --explain``) and measured in the build report.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from retrieval.ingest.characters import DOCUMENT_CONTROL, INVISIBLE, LINE_SEPARATORS
from retrieval.ingest.keyword_stuffing import WORD, remove_stuffed_title_phrases, title_without_stuffing

PAGE_BREAK = "\f"


@dataclass(frozen=True)
class Removal:
    """One piece of text the cleaner removed, and why."""

    reason: str
    text: str


@dataclass(frozen=True)
class CleanedText:
    text: str
    removed: tuple[Removal, ...]
    chars_in: int
    # The title without the keyword it was stuffed with ("Back Pain Relief: Get Relief For why do
    # my back hurt" -> "Back Pain Relief"); "" when no title was given.
    title: str = ""

    @property
    def chars_removed(self) -> int:
        return max(self.chars_in - len(self.text), 0)


# --- rule tables -----------------------------------------------------------------------------

# A line matching one of these starts the page's tail: everything from it to the end goes.
_TAIL_STRONG = re.compile(
    r"""^(?:
        (?:\d+\s+)?(?:comments?|responses?|replies)(?:\s*\(\d+\))?:? |
        leave\s+a\s+(?:reply|comment)\b.* |
        (?:post\s+a\s+|add\s+a\s+|join\s+the\s+)?(?:comment|discussion)s?\s*(?:section|below)?:? |
        (?:related|similar|recommended|popular|recent|more)\s+(?:articles?|posts?|stories|reads?|reading|content)\b.* |
        you\s+(?:may|might)\s+also\s+(?:like|enjoy|be\s+interested\s+in)\b.* |
        (?:read|see)\s+(?:also|more)\s*:.* |
        link\s+to\s+(?:next|previous)\s+post\b.* |
        (?:next|previous|prev)\s+(?:post|article)\s*[:»>].* |
        additional\s+resources?\s*:? |
        (?:about\s+the\s+author|author\s+bio|author\s*:.*|written\s+by\s*:.*) |
        (?:tags?|filed\s+under|categories|posted\s+in)\s*:.*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_TAIL_WEAK = re.compile(
    r"^(?:copyright\b.*|©.*|.*\ball\s+rights\s+reserved\b.*|error\s*:.*|see\s+more\s+on\b.*)$",
    re.IGNORECASE,
)

_JUNK_LINE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (reason, re.compile(pattern, re.IGNORECASE))
    for reason, pattern in (
        ("call to action", r"^\W*>{2,}|click\s+here|\b(?:buy|order|shop|book)\s+(?:it\s+)?now\b"),
        ("call to action", r"\badd\s+to\s+(?:cart|basket|bag|wishlist)\b|\b(?:free\s+shipping|limited\s+time\s+offer|discount\s+code|coupon\s+code)\b"),
        ("call to action", r"\b(?:download|get|grab|claim)\s+(?:your|our|the|a)\s+free\b|\bfree\s+(?:trial|e-?book|guide|consultation)\b"),
        ("call to action", r"^\W*(?:learn|read|find\s+out|discover|see)\s+more\W*$|^\W*(?:shop|buy)\b.{0,40}$"),
        ("promo", r"\b(?:in\s+(?:just\s+)?(?:\d+\s+)?(?:seconds|minutes)|instantly|overnight|miracle|one\s+(?:simple|weird)\s+trick|guaranteed|100\s*%\s+(?:natural|effective|safe))\b.*"),
        ("promo", r"\b(?:doctors|they)\s+(?:hate|don.t\s+want\s+you\s+to\s+know)\b"),
        ("newsletter or sign-up prompt", r"\b(?:subscribe|sign\s*up|signup|register|join)\b.{0,40}\b(?:newsletter|updates|mailing\s+list|inbox|free|today|now|to\s+(?:post|comment|continue|read))\b|\bnewsletter\b"),
        ("newsletter or sign-up prompt", r"^\W*(?:sign\s*up|sign\s*in|log\s*in|login|register|subscribe)\b(?:\W+\w+){0,5}\W*$|\b(?:log\s*in|login|sign\s*in)\s+to\s+(?:display|see|view|post|comment|reply|continue)\b"),
        ("follow or share prompt", r"\bfollow\s+(?:us|me)\b|\bshare\s+(?:this|on|via|to)\b|\blike\s+us\s+on\b|^\W*(?:share|tweet|pin(?:\s+it)?|email|print|whatsapp|facebook|twitter|pinterest|linkedin|reddit|instagram)(?:\W+(?:share|tweet|pin|email|print|whatsapp|facebook|twitter|pinterest|linkedin|reddit|instagram))*\W*$"),
        ("affiliate or sponsorship disclosure", r"\baffiliate\s+(?:link|program|commission|disclosure)s?\b|\b(?:we|i)\s+(?:may\s+)?(?:earn|receive)\s+(?:a\s+)?(?:small\s+)?commission\b|\bsponsored\s+by\b|\bthis\s+(?:post|article|page)\s+(?:is\s+sponsored|contains\s+affiliate)\b"),
        ("advertisement label", r"^\W*(?:advertisement|advertisements|sponsored(?:\s+content)?|ad|ads|promoted|paid\s+content|partner\s+content)\W*$"),
        ("reading time or byline", r"^\W*(?:\d+\s*(?:-\s*)?min(?:ute)?s?\s+read|reading\s+time\s*:?.*|(?:by|written\s+by|posted\s+by)\s+[A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+){0,3}(?:\s*[|·•,-].{0,60})?|(?:updated|published|posted|last\s+updated)\s*(?:on)?\s*:?\s*\w+\s+\d{1,2},?\s+\d{4}.*)\W*$"),
        ("table of contents", r"^\W*(?:table\s+of\s+contents|contents|in\s+this\s+article|jump\s+to\s*:?|on\s+this\s+page)\W*$"),
        ("comment form", r"^\W*(?:sort\s+by|newest|oldest|reply|report|load\s+more(?:\s+comments)?|show\s+more\s+comments)\W*$|\bcomments?\s+(?:are\s+closed|policy)\b|\bwelcome\s+to\s+.{0,40}comments\b|\bkeep\s+(?:conversations|comments)\s+(?:courteous|civil|respectful|on-topic)\b"),
        ("legal notice", r"\bcontent\s+is\s+protected\b|\bif\s+there\s+is\s+any\s+infringement\b|\bplease\s+contact\s+(?:us\s+)?to\s+delete\b|\bpictures?\s+in\s+(?:the|this)\s+(?:text|article)\s+come\s+from\s+the\s+internet\b|\ball\s+rights\s+reserved\b|^\W*©|\bcopyright\s+©|\bcookies?\b.{0,60}\b(?:accept|consent|policy)\b"),
        ("navigation", r"^\W*(?:home|menu|search|close|skip\s+to\s+(?:main\s+)?content|back\s+to\s+top|x|×)\W*$"),
    )
)

# Sentences (inside longer paragraphs) removed wherever they appear: the sentence around one of
# these phrases goes. Found phrase first, then widened to the sentence, in linear time (a regex
# with [^.!?\n]* on both sides takes quadratic time on a long line without full stops).
_JUNK_PHRASE = re.compile(
    r"click\s+here|if\s+there\s+is\s+any\s+infringement|pictures?\s+in\s+the\s+text\s+come\s+from|"
    r"affiliate\s+link|we\s+may\s+earn\s+a\s+commission|content\s+is\s+protected",
    re.IGNORECASE,
)
_SENTENCE_STOP = re.compile(r"[.!?\n]")

_SENTENCE_END = ".!?…:"
_BULLET = re.compile(r"^\s*(?:[•●▪◦‣∙·*]|-(?=\s)|–(?=\s))\s*")


def clean_text(text: str, *, title: str | None = None) -> CleanedText:
    """Clean one article's text; ``title`` is its title (used to spot keyword stuffing).

    Example: a paragraph ending "... back area. Lower Back Pain After Working Out Legs" in an
    article with that title keeps "... back area." and records a "keyword stuffing" removal.
    """
    removed: list[Removal] = []
    chars_in = len(text)
    lines = _normalise_characters(text).split("\n")
    title = (title or "").strip()

    lines = _drop_leading_title(lines, title, removed)
    lines = _cut_tail(lines, removed)
    lines = _drop_junk_lines(lines, removed)
    lines = _drop_repeated_short_lines(lines, removed)
    body = "\n".join(lines)
    body, stuffed, stuffing = remove_stuffed_title_phrases(body, title)
    removed.extend(Removal("keyword stuffing", text) for text in stuffing)
    body = _drop_junk_sentences(body, removed)
    lines = _drop_title_repeats(body.split("\n"), title, removed)
    cleaned = _tidy(lines)
    if not cleaned.strip(PAGE_BREAK + " \n") and removed and all(r.reason in _TITLE_REASONS for r in removed):
        # The document is its title line and nothing else: keep that line as the text,
        # otherwise a one-line article would vanish as if it were junk.
        return CleanedText(_tidy(_normalise_characters(text).split("\n")), (), chars_in, title)
    return CleanedText(cleaned, tuple(removed), chars_in, title_without_stuffing(title, stuffed))


# --- steps -----------------------------------------------------------------------------------


def _normalise_characters(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = INVISIBLE.sub("", text.translate(LINE_SEPARATORS))
    text = text.replace("\t", " ").replace("\u00a0", " ").replace("\u3000", " ")
    text = re.sub(r"[\u2000-\u200a\u202f\u205f]", " ", text)
    # Keep form feeds (PDF page breaks) on their own lines; drop other control characters.
    text = text.replace(PAGE_BREAK, "\n" + PAGE_BREAK + "\n")
    return DOCUMENT_CONTROL.sub("", text)


def _key(line: str) -> str:
    """Comparison key: lowercase words only. Example: 'What is X?1' -> 'what is x 1'."""
    return " ".join(WORD.findall(line.lower()))


_TITLE_REASONS = ("title (kept as the article title)", "repeated title")


def _drop_leading_title(lines: list[str], title: str, removed: list[Removal]) -> list[str]:
    for index, line in enumerate(lines):
        if line.strip() and line.strip() != PAGE_BREAK:
            if title and _key(line) == _key(title):
                removed.append(Removal("title (kept as the article title)", line.strip()))
                return lines[:index] + lines[index + 1 :]
            return lines
    return lines


def _cut_tail(lines: list[str], removed: list[Removal]) -> list[str]:
    """Cut from the first page-tail marker line to the end.

    Strong markers (comments, related articles, author bio ...) count once some content precedes
    them; weak ones (copyright, "see more on") only in the second half of the page, so that an
    article that mentions copyright in passing is not cut short.
    """
    total = sum(len(line) + 1 for line in lines) or 1
    seen = 0
    for index, line in enumerate(lines):
        stripped = line.strip()
        is_short = len(stripped) <= 120 and not _reads_as_sentence(stripped)
        if stripped and is_short and seen >= 200 and _TAIL_STRONG.match(stripped):
            return _record_tail(lines, index, removed)
        if stripped and is_short and seen >= total * 0.5 and _TAIL_WEAK.match(stripped):
            return _record_tail(lines, index, removed)
        seen += len(line) + 1
    return lines


def _reads_as_sentence(line: str) -> bool:
    """A line of 8+ words ending with a full stop, without a copyright sign or a year: the
    article's own text, not a tail marker. Example: "More articles are being published on
    sciatica every year." -> True; "Copyright © 2023 Example Ltd. All rights reserved." -> False.
    """
    if not line.endswith((".", "!", "?")) or len(WORD.findall(line)) < 8:
        return False
    return not re.search(r"©|\(c\)|\brights\s+reserved\b|\b(?:19|20)\d\d\b", line, re.IGNORECASE)


def _record_tail(lines: list[str], index: int, removed: list[Removal]) -> list[str]:
    tail = "\n".join(line.strip() for line in lines[index:] if line.strip() and line.strip() != PAGE_BREAK)
    removed.append(Removal("page tail (comments, related articles, author, copyright)", tail))
    return lines[:index]


def _is_sentence(line: str) -> bool:
    return len(WORD.findall(line)) > 25


def _drop_junk_lines(lines: list[str], removed: list[Removal]) -> list[str]:
    kept: list[str] = []
    in_contents = False
    for line in lines:
        stripped = line.strip()
        if in_contents:
            # A table of contents is the short list lines after its heading.
            if not stripped or (len(WORD.findall(stripped)) <= 10 and stripped.startswith(("-", "•", "*", "·")) or re.match(r"^\d+[.)]\s", stripped) and len(WORD.findall(stripped)) <= 8):
                if stripped:
                    removed.append(Removal("table of contents", stripped))
                continue
            in_contents = False
        if stripped and stripped != PAGE_BREAK and not _is_sentence(stripped):
            reason = next((r for r, pattern in _JUNK_LINE_RULES if pattern.search(stripped)), None)
            if reason is not None and not _is_promo_false_positive(reason, stripped):
                removed.append(Removal(reason, stripped))
                in_contents = reason == "table of contents"
                continue
        kept.append(line)
    return kept


def _is_promo_false_positive(reason: str, line: str) -> bool:
    """Promo words are junk only in headline-like lines (short, no full stop): "overnight" or
    "30 seconds" inside a real sentence is content."""
    if reason != "promo":
        return False
    headline_like = len(WORD.findall(line)) <= 12 and not line.rstrip().endswith((".", "?"))
    return not headline_like or bool(re.search(r"\b(?:hold|repeat|for|every|about|up\s+to)\s+\d+", line, re.I))


def _drop_repeated_short_lines(lines: list[str], removed: list[Removal]) -> list[str]:
    """A short line the page repeats three or more times is an inserted slogan or ad."""
    counts = Counter(_key(line) for line in lines if line.strip() and len(WORD.findall(line)) <= 12)
    repeated = {key for key, count in counts.items() if count >= 3 and key}
    if not repeated:
        return lines
    kept = []
    for line in lines:
        if line.strip() and _key(line) in repeated and not line.rstrip().endswith((".", "?")):
            removed.append(Removal("repeated slogan", line.strip()))
            continue
        kept.append(line)
    return kept


def _drop_junk_sentences(body: str, removed: list[Removal]) -> str:
    """Remove each sentence holding a junk phrase: from the previous .!? or line end to the
    next one, with its closing punctuation. Example: "Rest helps. Click here to buy! Walk."
    -> "Rest helps. Walk." """

    def sentence_end(position: int) -> int:
        stop = _SENTENCE_STOP.search(body, position)
        end = stop.start() if stop else len(body)
        while end < len(body) and body[end] in ".!?":
            end += 1
        return end

    spans: list[list[int]] = []
    for match in _JUNK_PHRASE.finditer(body):
        if spans and match.start() < spans[-1][1]:
            if match.end() > spans[-1][1]:  # a phrase running on past that sentence's end
                spans[-1][1] = sentence_end(match.end())
            continue
        last = spans[-1][1] if spans else 0
        start = max(last, max(body.rfind(stop, last, match.start()) for stop in ".!?\n") + 1)
        spans.append([start, sentence_end(match.end())])
    if not spans:
        return body
    kept, last = [], 0
    for start, end in spans:
        removed.append(Removal("call to action or legal notice", body[start:end].strip()))
        kept.append(body[last:start])
        last = end
    kept.append(body[last:])
    return "".join(kept)


def _drop_title_repeats(lines: list[str], title: str, removed: list[Removal]) -> list[str]:
    """Drop lines that only repeat the title (possibly with a stray number); keep questions."""
    if not title:
        return lines
    title_key = _key(title)
    kept = []
    for line in lines:
        key = _key(line)
        if key and not line.rstrip().endswith("?") and re.sub(r"\s*\d+$", "", key) == title_key:
            removed.append(Removal("repeated title", line.strip()))
            continue
        kept.append(line)
    return kept


def _tidy(lines: list[str]) -> str:
    """Normalise bullets, spacing and stray punctuation; at most one blank line in a row."""
    out: list[str] = []
    for line in lines:
        line = line.strip(" \t\n")
        if line == PAGE_BREAK:
            out.append(PAGE_BREAK)
            continue
        bullet = _BULLET.match(line)
        if bullet:
            line = "- " + line[bullet.end() :]
        line = re.sub(r" {2,}", " ", line)
        line = re.sub(r"\s+([,.;:!?)])", r"\1", line)
        line = re.sub(r"([(])\s+", r"\1", line)
        line = re.sub(r",\s*\.(?!\.)", ",", line)  # "condition (PID),." -> "condition (PID),"
        line = re.sub(r"(?<!\.)\.\.(?!\.)", ".", line)  # "back.." -> "back." but keep "..."
        line = re.sub(r"^[.,;:]\s*", "", line)
        if line in {"-", "- ", "."}:
            line = ""
        if line or (out and out[-1] != ""):
            out.append(line)
    while out and out[-1] in ("", PAGE_BREAK):
        if out[-1] == PAGE_BREAK:
            break
        out.pop()
    return "\n".join(out).strip("\n ")
