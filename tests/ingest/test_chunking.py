"""Chunks fit the model's input, follow sentences, and carry their provenance."""

from __future__ import annotations

import pytest

from retrieval.ingest.chunking import chunk_text, compose_embedded_text
from retrieval.ingest.cleaning import clean_text
from retrieval.ingest.reading import read_document
from tests.conftest import SEED_CORPUS


def test_no_chunk_exceeds_the_model_limit_counted_by_its_own_tokenizer(embedder) -> None:  # type: ignore[no-untyped-def]
    tokenizer = embedder.model.tokenizer  # the tokenizer sentence-transformers itself uses
    for path in sorted(SEED_CORPUS.glob("*.txt")):
        document = read_document(path, path.name)
        text = clean_text(document.text, title=document.title).text
        chunks = chunk_text(path.name, document.title, text, count_tokens=embedder.count_tokens, max_tokens=256)
        assert chunks
        for chunk in chunks:
            embedded = chunk.embedded_text(embed_title=True)
            real = len(tokenizer(embedded, add_special_tokens=True, truncation=False)["input_ids"])
            assert real == chunk.tokens
            assert real <= embedder.model.max_seq_length == 256


def test_a_single_sentence_longer_than_the_limit_is_split_not_truncated(embedder) -> None:  # type: ignore[no-untyped-def]
    sentence = " ".join(f"word{i} stretches the hamstring gently" for i in range(200)) + "."
    chunks = chunk_text("long.txt", "Long", sentence, count_tokens=embedder.count_tokens, max_tokens=128)
    assert len(chunks) > 1
    assert all(c.tokens <= 128 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == sentence.split()


def test_chunks_follow_sentences_and_carry_offsets_sections_and_titles(embedder) -> None:  # type: ignore[no-untyped-def]
    text = "Keep active\nWalking helps most people. Bed rest slows recovery.\n\nUse heat\nA warm bath relaxes tight muscles."
    chunks = chunk_text("doc.txt", "Back care", text, count_tokens=embedder.count_tokens, max_tokens=256)
    assert [c.section for c in chunks] == ["Keep active", "Use heat"] or chunks[0].section == "Keep active"
    for chunk in chunks:
        assert chunk.id.startswith("doc.txt#")
        assert chunk.title == "Back care"
        assert text[chunk.start : chunk.end].strip().startswith(chunk.text.split("\n")[0])
        assert chunk.text.endswith(".")


def test_overlap_repeats_the_last_sentence(embedder) -> None:  # type: ignore[no-untyped-def]
    sentences = [f"Sentence number {i} talks about posture at the desk for a while." for i in range(40)]
    text = " ".join(sentences)
    chunks = chunk_text("d", "T", text, count_tokens=embedder.count_tokens, max_tokens=80, overlap_sentences=1)
    assert len(chunks) >= 3
    for first, second in zip(chunks, chunks[1:]):
        last_sentence = first.text.split(". ")[-1]
        assert second.text.startswith(last_sentence.rstrip("."))


@pytest.mark.parametrize("text", ["", "   ", "\f", "x", "😖", "- a"])
def test_tiny_or_empty_text(embedder, text: str) -> None:  # type: ignore[no-untyped-def]
    chunks = chunk_text("d", "T", text, count_tokens=embedder.count_tokens, max_tokens=256)
    assert all(c.text.strip() for c in chunks)


def test_embedded_text_has_title_and_section_but_passage_text_does_not(embedder) -> None:  # type: ignore[no-untyped-def]
    assert compose_embedded_text("Sciatica", "Stretches", "Lie down.", embed_title=True) == "Sciatica. Stretches. Lie down."
    assert compose_embedded_text("Sciatica", "", "Lie down.", embed_title=False) == "Lie down."
    chunks = chunk_text("d", "Sciatica", "Stretches\nLie on your back and hug your knees.", count_tokens=embedder.count_tokens, max_tokens=256)
    assert chunks[0].text == "Lie on your back and hug your knees."


def test_pdf_pages_are_recorded(embedder) -> None:  # type: ignore[no-untyped-def]
    text = "Page one talks about lifting with bent knees.\n\f\nPage two talks about carrying loads close to the body."
    chunks = chunk_text("a.pdf", "Lifting", text, count_tokens=embedder.count_tokens, max_tokens=20, overlap_sentences=0)
    assert [c.pages for c in chunks] == [(1,), (2,)]
    assert "\f" not in "".join(c.text for c in chunks)
