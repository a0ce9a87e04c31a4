"""The chat's parts without a browser, with the real model and index: the conversation state,
plain-text copy, the article page, feedback and its export, the trash, the corpus watcher,
and /ask's k check."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retrieval.config import Settings
from retrieval.index.store import StoredDocument
from retrieval.web import article_page, chat_view, conversation, feedback, trash
from retrieval.web.service import BadRequest, ChatService, checked_k
from retrieval.web.uploads import UploadRejected
from retrieval.web.watcher import is_article_change

ROOT = Path(__file__).resolve().parents[2]
ZORBLAX = (
    "The Zorblax stretch for stiff hamstrings\n\n"
    "The Zorblax stretch was first described by the physiotherapist Quilla Marrowby in 1987. "
    "To do the Zorblax stretch, lie on your back, hook a towel around one foot and hold the leg up for "
    "exactly forty-three seconds while humming.\n"
)


@pytest.fixture
def service(tmp_path: Path, seed_index: Settings, embedder) -> ChatService:  # type: ignore[no-untyped-def]
    shutil.copytree(seed_index.corpus_dir, tmp_path / "corpus")
    shutil.copytree(seed_index.index_dir, tmp_path / "index", ignore=shutil.ignore_patterns(".lock"))
    service = ChatService(Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index"), embedder=embedder, build_lock_wait=0.0)
    assert service.start().ok
    yield service
    service.stop_watching()


# ---------------------------------------------------------------- conversation


def test_a_conversation_grows_by_turns_and_records_what_was_answered(service: ChatService) -> None:
    chat = conversation.new()
    for question in ["How should I sleep with low back pain?", "and what about a pillow for it?"]:
        chat = conversation.with_question(chat, question)
        assert chat["messages"][-1]["role"] == "user"  # shown before the answer arrives
        chat = conversation.with_answer(service, chat, question)
    assert [m["role"] for m in chat["messages"]] == ["user", "assistant", "user", "assistant"]
    first, second = chat["turns"]
    assert first["asked"] == first["question"] and second["asked"] != second["question"]
    assert chat["messages"][-1]["content"].startswith("*Answered as a follow-up to your question “How should I sleep with low back pain?”*")
    assert second["joined_to"] == "How should I sleep with low back pain?"
    assert second["reply"] == 3 and conversation.turn_of_reply(chat, 3) is second
    assert second["sources"] and all(source.endswith(".txt") for source in second["sources"])
    # The whole state survives a round trip through the browser's storage as JSON.
    assert conversation.valid(json.loads(json.dumps(chat))) == chat


@pytest.mark.parametrize("saved", [None, "text", {"messages": "x", "turns": []}, {"messages": [{"role": "system"}], "turns": []}])
def test_a_saved_chat_that_is_not_ours_starts_a_new_one(saved: object) -> None:
    chat = conversation.valid(saved)
    assert chat["messages"] == [] and chat["turns"] == [] and chat["id"]


def test_copy_gives_plain_text_with_sources_and_disclaimer(service: ChatService) -> None:
    answer = service.answer("What stretches help sciatica?")
    text = chat_view.plain_text("What stretches help sciatica?", answer)
    assert text.startswith("Question: What stretches help sciatica?")
    assert text.count("Source: ") == len(answer.passages) == 3
    assert "not medical advice" in text
    for markup in ("**", "<mark>", "\\.", "\\-", "](", "<div"):
        assert markup not in text, markup
    card = chat_view.plain_text("x", service.answer("I can't feel my bum when I wipe and my back is killing me"))
    assert "Immediate action required" in card and "**" not in card


def test_chat_answer_has_card_first_links_and_a_short_disclaimer(service: ChatService) -> None:
    emergency = chat_view.answer_markdown(service.answer("I can't feel my bum when I wipe and my back is killing me"))
    assert emergency.startswith('<div class="care-card emergency" role="alert">')
    answer = service.answer("How should I sleep with low back pain?")
    markdown = chat_view.answer_markdown(answer)
    assert markdown.count("[Read it in the article](article/") == len(answer.passages)
    # Each passage carries a sign of how well it matches; the first one of a covered answer is
    # at least a partial match (it passed the "not covered" gate).
    labels = [label for line in markdown.splitlines() for _, label in chat_view.MATCH_LEVELS
              if line.startswith(f"{label.capitalize()} · [Read it in the article]")]
    assert len(labels) == len(answer.passages) and labels[0] in ("close match", "partial match")
    assert chat_view.match_label(0.7) == "close match" and chat_view.match_label(0.1) == "loose match"
    assert markdown.rstrip().endswith("In an emergency, call [999](tel:999).*") and len(markdown.splitlines()[-1]) < 120


# ---------------------------------------------------------------- article page


def test_article_page_opens_at_the_passage_with_headings_and_highlight(service: ChatService) -> None:
    answer = service.answer("How should I sleep with low back pain?")
    passage = answer.passages[0]
    document = service.document(passage.chunk.doc_id)
    page = article_page.article_html(document, passage.chunk, passage.highlight)
    assert page.count('id="passage"') == 1 and "<h2>" in page and "<ul>" in page
    assert f"<mark>{__import__('html').escape(passage.highlight)}</mark>" in page
    assert article_page.article_link(passage).endswith("#passage")


def test_article_page_shows_hostile_text_as_text() -> None:
    document = StoredDocument("x.html", "<script>alert(1)</script>", "Intro\n\n<img src=x onerror=alert(1)> text here.")
    page = article_page.article_html(document, None, "<img")
    assert "<script>alert" not in page and "<img src" not in page and "&lt;img src=x" in page


# ---------------------------------------------------------------- feedback


def test_feedback_is_stored_locally_and_exported(service: ChatService, tmp_path: Path) -> None:
    path = service.feedback_file
    first = feedback.record(path, feedback.Feedback("What helps sciatica?", "helpful", sources="a.txt"))
    feedback.record(path, feedback.Feedback("and at night?", "not helpful", answered_as="What helps sciatica? and at night?"))
    assert feedback.add_note(path, first, "  clear, thanks  ")
    items = feedback.all_feedback(path)
    assert [item.rating for item in items] == ["not helpful", "helpful"]
    assert items[1].note == "clear, thanks" and items[0].answered_as.endswith("and at night?")
    with pytest.raises(ValueError):
        feedback.record(path, feedback.Feedback("q", "meh"))
    command = [sys.executable, "-m", "retrieval", "feedback", "--index", str(service.settings.index_dir)]
    exported = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True).stdout
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [row["question"] for row in rows] == ["and at night?", "What helps sciatica?"] and rows[1]["note"] == "clear, thanks"
    lines = subprocess.run([*command, "--format", "jsonl"], capture_output=True, text=True, cwd=ROOT, check=True).stdout.splitlines()
    assert json.loads(lines[1])["rating"] == "helpful"


def test_feedback_export_with_none_given_says_so(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "retrieval", "feedback", "--index", str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and "No feedback has been given yet" in done.stderr
    assert done.stdout.strip() == "question,rating,answered_as,note,sources,created_at,id"


# ---------------------------------------------------------------- trash


def test_remove_moves_to_the_trash_and_restore_brings_it_back(service: ChatService) -> None:
    corpus = Path(service.settings.corpus_dir)
    original = (corpus / "waist-and-leg-soreness.txt").read_bytes()
    service.remove_document("waist-and-leg-soreness.txt")
    assert not (corpus / "waist-and-leg-soreness.txt").exists()
    [item] = service.trashed()
    assert item.doc_id == "waist-and-leg-soreness.txt"
    outcome = service.wait_for_build(service.request_rebuild(), timeout=120)
    assert outcome is not None and outcome.ok and "waist-and-leg-soreness.txt" not in {r.doc_id for r in service.documents()}
    assert service.restore_document(item.trashed_as) == "waist-and-leg-soreness.txt"
    assert (corpus / "waist-and-leg-soreness.txt").read_bytes() == original and service.trashed() == []
    outcome = service.wait_for_build(service.request_rebuild(), timeout=120)
    assert outcome is not None and outcome.ok and "waist-and-leg-soreness.txt" in {r.doc_id for r in service.documents()}


def test_restore_never_overwrites_and_rejects_paths_outside_the_trash(service: ChatService) -> None:
    corpus = Path(service.settings.corpus_dir)
    service.remove_document("waist-and-leg-soreness.txt")
    (corpus / "waist-and-leg-soreness.txt").write_text("a new article with the same name", encoding="utf-8")
    [item] = service.trashed()
    with pytest.raises(UploadRejected, match="already exists"):
        service.restore_document(item.trashed_as)
    assert (corpus / "waist-and-leg-soreness.txt").read_text(encoding="utf-8") == "a new article with the same name"
    for bad in ["../low-back-pain-and-exercise.txt", "../../etc/passwd", ""]:
        with pytest.raises(UploadRejected, match="not in the trash"):
            service.restore_document(bad)


def test_two_removals_of_one_name_are_both_kept(tmp_path: Path) -> None:
    for text in ["first", "second"]:
        (tmp_path / "a.txt").write_text(text, encoding="utf-8")
        trash.move_to_trash(tmp_path, "a.txt")
    assert sorted((tmp_path / trash.TRASH_DIR / item.trashed_as).read_text() for item in trash.trashed_files(tmp_path)) == ["first", "second"]


# ---------------------------------------------------------------- watcher


def test_watcher_ignores_hidden_and_unknown_files(tmp_path: Path) -> None:
    assert is_article_change(str(tmp_path / "new.md"), tmp_path)
    assert is_article_change(str(tmp_path / "sub" / "new.PDF"), tmp_path)
    assert is_article_change(str(tmp_path / "notes.markdown"), tmp_path)  # every type the build reads
    for ignored in [".trash/x/a.txt", ".upload-123.txt", "notes.docx", "sub/.hidden.txt"]:
        assert not is_article_change(str(tmp_path / ignored), tmp_path), ignored
    assert not is_article_change("/elsewhere/a.txt", tmp_path)


@pytest.mark.slow
def test_a_file_dropped_into_the_corpus_is_indexed_within_seconds(service: ChatService) -> None:
    service.watch_corpus()
    time.sleep(0.5)  # the watcher is listening
    corpus = Path(service.settings.corpus_dir)
    (corpus / "zorblax.txt").write_text(ZORBLAX, encoding="utf-8")
    deadline = time.monotonic() + 30
    while "zorblax.txt" not in {row.doc_id for row in service.documents()}:
        assert time.monotonic() < deadline, "the new file was not indexed within 30 s"
        time.sleep(0.2)
    assert service.answer("how do I do the Zorblax stretch?").passages[0].chunk.doc_id == "zorblax.txt"
    (corpus / "zorblax.txt").unlink()  # a removal is picked up too
    deadline = time.monotonic() + 30
    while "zorblax.txt" in {row.doc_id for row in service.documents()}:
        assert time.monotonic() < deadline, "the removed file was still indexed after 30 s"
        time.sleep(0.2)


# ---------------------------------------------------------------- /ask


@pytest.mark.parametrize("bad", [0, -1, 21, 50, 2.5, "three", True])
def test_ask_rejects_k_outside_1_to_20_with_a_clear_message(service: ChatService, bad: object) -> None:
    with pytest.raises(BadRequest, match="k must be a whole number from 1 to 20"):
        service.ask_json("What stretches help sciatica?", k=bad)


def test_ask_k_in_range_and_default(service: ChatService) -> None:
    assert checked_k(None) is None and checked_k("") is None and checked_k("7") == 7
    assert len(service.ask_json("What stretches help sciatica?", k=5)["passages"]) == 5
    assert len(service.ask_json("What stretches help sciatica?")["passages"]) == 3


def test_disclaimer_is_plain_text_and_markdown_is_beside_it(service: ChatService) -> None:
    answer = service.ask_json("What stretches help sciatica?")
    assert "*" not in answer["disclaimer"] and answer["disclaimer"].endswith("In an emergency, call 999.")
    assert answer["disclaimer_markdown"].endswith("**In an emergency, call 999.**")
    assert answer["message"].rstrip().endswith(f"*{answer['disclaimer']}*")


def test_the_chat_shows_the_latest_turns_and_feedback_still_finds_its_turn() -> None:
    chat = conversation.new()
    for n in range(conversation.SHOWN_TURNS + 3):
        chat = conversation.with_question(chat, f"question {n}")
        chat["messages"].append({"role": "assistant", "content": f"answer {n}"})
        chat["turns"].append({"question": f"question {n}", "asked": f"question {n}", "reply": len(chat["messages"]) - 1})
    shown = conversation.shown_messages(chat)
    assert shown[0] == conversation.HIDDEN_NOTE
    assert len(shown) == 1 + 2 * conversation.SHOWN_TURNS and shown[1]["content"] == "question 3"
    for index, message in enumerate(shown):
        if message["role"] == "assistant" and message is not conversation.HIDDEN_NOTE:
            assert conversation.turn_of_reply(chat, index)["question"] == message["content"].replace("answer", "question")
    assert conversation.turn_of_reply(chat, 0) is None  # the note is nobody's answer
    short = {"messages": chat["messages"][:4], "turns": chat["turns"][:2]}
    assert conversation.shown_messages(short) == short["messages"] and conversation.turn_of_reply(short, 3)["question"] == "question 1"


def test_copy_keeps_an_articles_own_asterisks_and_backslashes(service: ChatService) -> None:
    """Copy cleans the Markdown we wrote (card, decline), never the article's text: a passage
    that says "*always*" or names a C:\\ path is copied as the article says it."""
    import dataclasses

    answer = service.answer("What stretches help sciatica?")
    first = answer.passages[0]
    own_words = r"Hold it for *thirty* seconds, **twice**; notes in C:\physio\stretches_v2.txt."
    chunk = dataclasses.replace(first.chunk, text=own_words)
    answer = dataclasses.replace(answer, passages=[dataclasses.replace(first, chunk=chunk, highlight=""), *answer.passages[1:]])
    assert own_words in chat_view.plain_text("What stretches help sciatica?", answer)
    card = chat_view.plain_text("x", service.answer("I can't feel my bum when I wipe and my back is killing me"))
    assert "Immediate action required" in card and "**" not in card
