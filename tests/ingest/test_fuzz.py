"""Fuzzing cleaning, chunking and dedup with Hypothesis (bounded: the file runs in well under a
minute). Token counts use the model's own tokenizer (no model load needed).

Properties:
- cleaning and chunking never crash, whatever the text;
- no chunk is empty or over the token limit, counted on exactly what is embedded;
- the chunks of a document cover its cleaned text, in order: every character outside the
  chunks belongs to a heading that became a chunk's section, and each chunk's text is its span;
- in a document made of content sentences and known junk lines, every content sentence survives
  cleaning and every junk line goes;
- dedup keeps each shared paragraph in exactly one document.
"""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from retrieval.index.embeddings import SentenceTransformerEmbedder
from retrieval.ingest.chunking import Chunk, PAGE_BREAK, chunk_text, is_heading
from retrieval.ingest.cleaning import clean_text
from retrieval.ingest.dedup import deduplicate

FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "80")), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_TOKENIZER = SentenceTransformerEmbedder()  # only its tokenizer is used: no model load


def count_tokens(texts):  # type: ignore[no-untyped-def]
    return _TOKENIZER.count_tokens(texts)


# ---------------------------------------------------------------- generators

SUBJECTS = ["Gentle walking", "A warm bath", "Core exercise", "Sleeping on your side", "A physiotherapist",
            "Regular stretching", "Ice in the first two days", "Good posture at the desk", "Swimming",
            "A supportive mattress", "Yoga", "Losing a little weight", "Strong hip muscles", "Heat"]
VERBS = ["can ease", "often relieves", "may reduce", "helps with", "does not always cure", "is known to calm", "can worsen"]
OBJECTS = ["stiffness in the lower back", "sciatica down the leg", "muscle spasms", "pain after lifting",
           "tension in the hips", "soreness in the waist", "nerve pain in the buttock", "a slipped disc"]
ENDINGS = ["for most people", "within a few weeks", "when done every day", "if the pain is mild",
           "according to several small studies", "in older adults", ""]
# Sentences whose first words look like junk or a page tail but which are content.
TRICKY = [
    "Register with a GP so you can get a referral to a physiotherapist.",
    "Copyright law does not stop you copying an exercise sheet for personal use.",
    "More articles are being published on sciatica every year, so ask what is new.",
    "Error: many people think bed rest helps, but it usually does not.",
    "Share your worries with your doctor or physiotherapist at the next visit.",
    "Follow the exercises in the order shown and stop if the pain gets worse.",
    "By Monday the stiffness in the lower back had eased for most of the patients.",
    "Comments from patients suggest that heat helps more than ice after the first days.",
    "Subscribe to the idea that movement is medicine, as most guidelines now do.",
    "Related conditions include spinal stenosis and spondylolisthesis in older adults.",
    "Print the exercise sheet and keep it by your bed as a reminder to stretch.",
    "Relief came overnight for a few patients, but most needed several weeks.",
]
HEADINGS = ["Causes of back pain", "When to see a doctor", "Exercises that help", "Sleeping positions",
            "Treatment options", "What is sciatica", "Lifting safely", "Posture at work"]
JUNK = ["Click here to subscribe to our newsletter!", "Share on Facebook", "Advertisement", "5 min read",
        "Sign up now", "Follow us on Twitter", "Add to cart", "Download your free guide", "Sponsored",
        "Pin it", "Back to top", "Login to comment", "This post contains affiliate links.",
        "Doctors hate this one weird trick", "Table of contents", "Skip to main content"]
TAIL = ["Related articles", "Leave a reply", "About the author", "Comments (12)", "You may also like"]

sentences = st.one_of(
    st.builds(lambda s, v, o, e: f"{s} {v} {o}{' ' + e if e else ''}.", st.sampled_from(SUBJECTS),
              st.sampled_from(VERBS), st.sampled_from(OBJECTS), st.sampled_from(ENDINGS)),
    st.sampled_from(TRICKY),
)


@st.composite
def articles(draw):  # type: ignore[no-untyped-def]
    """(text, title, content lines, junk lines): paragraphs of content sentences, headings,
    junk lines between them, and maybe a junk tail at the end."""
    content: list[str] = []
    junk: list[str] = []
    lines: list[str] = []
    headings = iter(draw(st.permutations(HEADINGS)))
    for _ in range(draw(st.integers(2, 8))):
        if draw(st.booleans()):
            heading = next(headings, None)
            if heading:
                lines.append(heading)
                content.append(heading)
        paragraph = " ".join(draw(st.lists(sentences, min_size=1, max_size=4, unique=True)))
        lines.append(paragraph)
        content.append(paragraph)
        for line in draw(st.lists(st.sampled_from(JUNK), max_size=2, unique=True)):
            if line not in junk:
                lines.append(line)
                junk.append(line)
        if draw(st.booleans()):
            lines.append("")
    if draw(st.booleans()) and sum(len(c) for c in content) > 250:
        tail = [draw(st.sampled_from(TAIL)), "Ten stretches that doctors swear by", "Share on Facebook"]
        lines += tail
        junk += tail
    title = "Notes on back care"
    return f"{title}\n" + "\n".join(lines) + "\n", title, content, junk


words = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)
noisy_text = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=2000),
    st.lists(st.one_of(words, st.sampled_from(["\n", "\n\n", "\f", ". ", "- ", "# ", "\u200b", "\x00", "腰痛" * 30, "https://x.example/" + "ab/" * 60])), max_size=200).map(" ".join),
    st.builds(lambda t: t[0], articles()),
)


# ---------------------------------------------------------------- checks


def check_chunks(text: str, title: str, chunks: list[Chunk], max_tokens: int) -> None:
    for chunk in chunks:
        assert chunk.text.strip(), "empty chunk"
        embedded = chunk.embedded_text(embed_title=True)
        assert count_tokens([embedded])[0] + 2 <= max_tokens, (chunk.tokens, chunk.text[:80])
        assert chunk.tokens <= max_tokens
        assert 0 <= chunk.start < chunk.end <= len(text)
        span = re.sub(r"\n{2,}", "\n", text[chunk.start : chunk.end].replace(PAGE_BREAK, "").strip())
        assert chunk.text == span, "a chunk's text is not its span (something was cut)"
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    assert [c.end for c in chunks] == sorted(c.end for c in chunks)
    covered = bytearray(len(text))
    for chunk in chunks:
        covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
    sections = {c.section for c in chunks}
    offset = 0
    for line in text.split("\n"):
        missing = [i for i in range(offset, offset + len(line)) if not covered[i] and not text[i].isspace() and text[i] != PAGE_BREAK]
        if missing:
            assert is_heading(line.strip()) and line.strip() in sections, f"lost text: {line[:80]!r}"
        offset += len(line) + 1


def normalise(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------- properties


@FUZZ
@given(text=noisy_text, title=st.one_of(st.just(""), words))
@example(text="腰痛" * 600, title="")
@example(text="Intro.\nhttps://example.com/" + "abc/" * 400 + " end.", title="Links")
@example(text="a" * 5000, title="x")
def test_cleaning_and_chunking_never_crash_and_chunks_fit(text: str, title: str) -> None:
    cleaned = clean_text(text, title=title).text
    for max_tokens in (64, 160):
        chunks = chunk_text("doc.txt", title, cleaned, count_tokens=count_tokens, max_tokens=max_tokens)
        check_chunks(cleaned, title, chunks, max_tokens)
        if cleaned.strip(PAGE_BREAK + " \n"):
            assert chunks


@FUZZ
@given(article=articles())
def test_every_content_sentence_survives_and_junk_goes(article) -> None:  # type: ignore[no-untyped-def]
    text, title, content, junk = article
    cleaned = normalise(clean_text(text, title=title).text)
    for line in content:
        assert normalise(line) in cleaned, f"lost content: {line!r}"
    kept_lines = {line.strip() for line in clean_text(text, title=title).text.split("\n")}
    for line in junk:
        assert line not in kept_lines, f"junk kept: {line!r}"


@FUZZ
@given(article=articles(), overlap=st.integers(0, 2))
def test_chunks_of_an_article_cover_it_in_order(article, overlap: int) -> None:  # type: ignore[no-untyped-def]
    text, title, content, _ = article
    cleaned = clean_text(text, title=title).text
    chunks = chunk_text("doc.txt", title, cleaned, count_tokens=count_tokens, max_tokens=64, overlap_sentences=overlap)
    check_chunks(cleaned, title, chunks, 64)
    # Every content sentence is inside one chunk (none is split across two, as all are short).
    for line in content:
        if is_heading(line):
            continue
        for sentence in re.findall(r"[^.]+\.", line):
            assert any(sentence.strip() in chunk.text for chunk in chunks), sentence


@FUZZ
@given(
    paragraphs=st.lists(st.lists(sentences, min_size=3, max_size=4, unique=True).map(" ".join), min_size=2, max_size=6, unique=True),
    layout=st.lists(st.lists(st.integers(0, 5), max_size=5), min_size=2, max_size=4),
)
def test_dedup_keeps_each_shared_paragraph_exactly_once(paragraphs: list[str], layout: list[list[int]]) -> None:
    texts = {f"doc{n}.txt": "\n".join(paragraphs[i % len(paragraphs)] for i in picks) for n, picks in enumerate(layout)}
    results = deduplicate(texts)
    every = {p for text in texts.values() for p in text.split("\n") if p}
    for paragraph in every:
        holders = [doc for doc, result in results.items() if paragraph in result.text.split("\n")]
        assert len(holders) == 1, (paragraph[:40], holders)


def test_the_fuzz_settings_are_bounded() -> None:
    assert FUZZ.max_examples <= 100 or "FUZZ_EXAMPLES" in os.environ
    pytest.importorskip("hypothesis")
