"""A highlighted sentence at a passage's edge is shown with the neighbouring sentence it needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from retrieval.answer.assemble import answer_question
from retrieval.answer.context import EdgeContext, edge_context
from retrieval.answer.formatting import escape_markdown
from retrieval.config import Settings
from retrieval.ingest.chunking import Chunk

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = (
    "Sciatica comes from the lower back.\n\n"
    "A strained lumbar muscle hurts most when you get up. It eases by the afternoon. "
    "Blood flow clears the inflammation.\n\n"
    "Next topic starts here."
)


def chunk_of(text: str, sentence: str, *, through: str | None = None) -> Chunk:
    start = text.index(sentence)
    end = text.index(through) + len(through) if through else start + len(sentence)
    return Chunk("a.txt#1", "a.txt", "A", "", text[start:end], start, end, 10)


def test_first_sentence_hit_gets_the_sentence_before_it_from_the_same_paragraph() -> None:
    chunk = chunk_of(ARTICLE, "It eases by the afternoon.", through="inflammation.")
    context = edge_context(ARTICLE, chunk, "It eases by the afternoon.")
    assert context == EdgeContext(before="A strained lumbar muscle hurts most when you get up.", after="")


def test_last_sentence_hit_gets_the_sentence_after_it() -> None:
    chunk = chunk_of(ARTICLE, "A strained lumbar muscle hurts most when you get up.")
    context = edge_context(ARTICLE, chunk, "A strained lumbar muscle hurts most when you get up.")
    assert context == EdgeContext(before="", after="It eases by the afternoon.")


def test_paragraph_edges_and_middle_hits_get_nothing() -> None:
    whole_paragraph = chunk_of(ARTICLE, "A strained", through="inflammation.")
    assert edge_context(ARTICLE, whole_paragraph, "A strained lumbar muscle hurts most when you get up.") == EdgeContext()
    assert edge_context(ARTICLE, whole_paragraph, "Blood flow clears the inflammation.") == EdgeContext()
    assert edge_context(ARTICLE, whole_paragraph, "It eases by the afternoon.") == EdgeContext()


def test_an_edited_article_gets_its_new_sentence_not_a_remembered_one() -> None:
    # Sentences are cached per passage for speed; an article edited in place (same offsets)
    # must still show what it says now.
    chunk = chunk_of(ARTICLE, "It eases by the afternoon.", through="inflammation.")
    assert edge_context(ARTICLE, chunk, "It eases by the afternoon.").before.startswith("A strained lumbar")
    edited = ARTICLE.replace("A strained lumbar muscle hurts most", "A pulled lumbar muscle aches most")
    assert edge_context(edited, chunk, "It eases by the afternoon.").before == (
        "A pulled lumbar muscle aches most when you get up."
    )


def test_a_sentence_cut_by_the_window_is_not_shown_as_a_fragment() -> None:
    long_sentence = "Pain " + "and more pain " * 200 + "ends here."
    text = f"{long_sentence} It eases later."
    chunk = chunk_of(text, "It eases later.")
    assert edge_context(text, chunk, "It eases later.") == EdgeContext()


def test_real_answer_shows_the_setup_sentence_of_an_edge_hit(seed_retriever) -> None:  # type: ignore[no-untyped-def]
    answer = answer_question(seed_retriever, "I have a disc problem and touching my toes at the gym made my leg pain flare up")
    shown = [p for p in answer.passages if p.context_before or p.context_after]
    assert shown, "no passage needed context: pick another question"
    for passage in shown:
        article = seed_retriever.document(passage.chunk.doc_id).text
        if passage.context_before:
            before = article[: passage.chunk.start]
            assert before.rstrip().endswith(passage.context_before)
            assert escape_markdown(passage.context_before) in answer.message
        if passage.context_after:
            assert article[passage.chunk.end :].lstrip().startswith(passage.context_after)
            assert escape_markdown(passage.context_after) in answer.message
    sit_ups = next(p for p in answer.passages if "sit-ups" in p.highlight)
    assert "herniation" in sit_ups.context_before


def test_cli_json_and_text_carry_the_context(seed_index: Settings) -> None:
    question = "I have a disc problem and touching my toes at the gym made my leg pain flare up"
    command = [sys.executable, "-m", "retrieval", "ask", question, "--index", str(seed_index.index_dir)]
    as_json = json.loads(subprocess.run([*command, "--json"], cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    assert all({"context_before", "context_after"} <= set(p) for p in as_json["passages"])
    befores = [p["context_before"] for p in as_json["passages"] if p["context_before"]]
    assert befores
    text = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert f"…{befores[0]}" in text
