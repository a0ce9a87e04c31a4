"""What the page shows, without a browser, with the real model and index (issue #28): tel: links,
the answer's layout (In short, folded passages, loose ones behind "More passages"), the
Documents tab's plain words and single status, past conversations, and the article page."""

from __future__ import annotations

import json
import re

import pytest

from retrieval.answer import answer_question
from retrieval.index.store import StoredDocument
from retrieval.ingest import Chunk
from retrieval.web import article_page, chat_view, conversation, documents_view
from retrieval.web.rebuilds import BuildOutcome

EMERGENCY = "I can't feel my bum when I wipe and my back is killing me"


@pytest.fixture(scope="module")
def ask(seed_retriever):  # type: ignore[no-untyped-def]
    return lambda text: answer_question(seed_retriever, text)


def test_numbers_to_call_become_tel_links_and_nothing_else_does() -> None:
    assert chat_view.tel_links("call **999** or NHS 111, or Samaritans on **116 123**") == (
        "call **[999](tel:999)** or NHS [111](tel:111), or Samaritans on **[116 123](tel:116123)**"
    )
    for untouched in ("1-800-222-1222", "9991 steps", "page 112a", "2111"):
        assert chat_view.tel_links(untouched) == untouched


def test_the_emergency_card_holds_only_tel_links(ask) -> None:  # type: ignore[no-untyped-def]
    markdown = chat_view.answer_markdown(ask(EMERGENCY))
    card = markdown.split("</div>", 1)[0]
    assert card.startswith('<div class="care-card emergency" role="alert">')
    assert re.findall(r"\]\(([^)]*)\)", card) == ["tel:999", "tel:999"]
    assert "Do not drive yourself" in card and "<details" not in markdown


def test_in_short_comes_first_and_loose_passages_wait_behind_more(ask) -> None:  # type: ignore[no-untyped-def]
    answer = ask("Is heat or ice better for a sore back?")
    markdown = chat_view.answer_markdown(answer)
    assert markdown.index("In short") < markdown.index("Here is what the articles say") < markdown.index('<details class="passage">')
    close, _, more = markdown.partition('<details class="more-passages">')
    assert close.count('<details class="passage">') == len(answer.passages) - len(answer.loose)
    assert more.count('<details class="passage">') == len(answer.loose) >= 1
    assert "only loosely" in more.split("</summary>", 1)[0]


def test_a_passage_is_folded_to_title_highlight_and_source_escaped(ask) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    answer = ask("What stretches help sciatica?")
    passage = answer.passages[0]
    hostile = dataclasses.replace(passage, highlight='<img src=x onerror="alert(1)">', chunk=dataclasses.replace(passage.chunk, title="<b>T</b>"))
    folded = chat_view.passage_details(1, hostile)
    summary = folded.split("</summary>", 1)[0]
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in summary and "<img" not in summary
    assert "1. &lt;b&gt;T&lt;/b&gt;" in summary and "Source: " in summary
    assert "[Read it in the article](article/" in folded.split("</summary>", 1)[1]


def test_the_follow_up_note_names_the_question_it_was_joined_to(ask) -> None:  # type: ignore[no-untyped-def]
    markdown = chat_view.answer_markdown(ask("What stretches help sciatica?"), joined_to="How do I sleep?")
    assert markdown.startswith("*Answered as a follow-up to your question “How do I sleep?”*")


def test_not_covered_never_ends_in_question_mark_full_stop(ask) -> None:  # type: ignore[no-untyped-def]
    for question in ("frozen shoulder exercises", "what is the best treatment for acne"):
        body = ask(question).body
        assert "?." not in body and "not cover" in body


def test_a_heading_is_not_repeated_in_italics_before_its_passage(ask) -> None:  # type: ignore[no-untyped-def]
    answer = ask("what is the difference between a sprain and a strain")
    sections = {p.chunk.section for p in answer.passages}
    assert "Muscular Tissue Strain and also Tendon Strain" in sections
    assert all(p.context_before.strip() != p.chunk.section.strip() or not p.chunk.section for p in answer.passages)


# ---------------------------------------------------------------- Documents tab


def test_reasons_are_plain_words() -> None:
    reason = ("'scan.pdf' cannot be indexed: this file is damaged or is not really a PDF, so its text cannot be read; "
              "upload that copy (malformed PDF: Stream has ended unexpectedly)")
    assert documents_view.plain_reason(reason).endswith("upload that copy")
    assert documents_view.plain_reason("binary file (contains NUL bytes), not text") == "it is not a text file"
    assert "(" not in documents_view.plain_reason("PDF has no text layer (scanned pages?); run OCR on it first").split(";")[1]
    assert "malformed" not in documents_view.skipped_html([{"path": "a.pdf", "reason": reason}])


def test_one_status_an_update_the_watcher_already_did_is_still_reported_as_done() -> None:
    from retrieval.index import BuildReport

    report = BuildReport(documents=6, chunks=70, embedded=0, reused=70, removed=0, skipped=[], seconds=0.1, wrote_index=False)
    outcome = BuildOutcome(True, report=report, seconds=0.1)
    assert "**Index updated**: 6 articles, 70 passages" in documents_view.build_result(outcome, changed=True)
    assert "already up to date" in documents_view.build_result(outcome, changed=False)


# ---------------------------------------------------------------- past conversations


def _chat(question: str) -> conversation.Conversation:
    chat = conversation.with_question(conversation.new(), question)
    chat["turns"].append({"question": question, "asked": question, "reply": 1})
    return chat


def test_past_conversations_are_listed_opened_and_deleted() -> None:
    first, second = _chat("How should I sleep?"), _chat("What stretches help sciatica?")
    history = conversation.archived([], first)
    assert conversation.archived(history, conversation.new()) == history  # an empty chat is not kept
    assert [label for label, _ in conversation.history_choices(history)][0].startswith("How should I sleep? (1 question, ")
    history, current = conversation.opened(history, first["id"], second)
    assert current == first and [e["id"] for e in history] == [second["id"]]
    assert conversation.deleted(history, second["id"]) == []
    many = []
    for n in range(conversation.MAX_SAVED + 5):
        many = conversation.archived(many, _chat(f"q{n}"))
    assert len(many) == conversation.MAX_SAVED and many[0]["title"] == f"q{conversation.MAX_SAVED + 4}"
    # A round trip through the browser's storage; anything not ours is dropped.
    saved = json.loads(json.dumps([*many[:2], {"id": 3}, "x"]))
    assert [e["id"] for e in conversation.valid_history(saved)] == [e["id"] for e in many[:2]]
    assert conversation.valid_history("nonsense") == []


def test_a_turn_saved_before_joined_to_was_kept_still_joins_its_subject() -> None:
    turn = conversation.previous_turn({"question": "and at night?", "asked": "How should I sleep? and at night?"})
    assert turn.joined_to == "How should I sleep?" and turn.subject == "How should I sleep?"


# ---------------------------------------------------------------- article page

TEXT = "Intro paragraph here.\n\nChill it\n\nIce is best in the first day. Then heat.\n\nKeep moving\n\nWalk daily.\n\nRest a little. Swim."


def test_the_article_page_has_a_way_back_the_disclaimer_and_opens_at_the_heading() -> None:
    document = StoredDocument("sub/a.txt", "An article", TEXT)
    start = TEXT.index("Ice")
    chunk = Chunk("sub/a.txt#1", "sub/a.txt", "An article", "Chill it", TEXT[start:start + 30], start, start + 30, 9)
    page = article_page.article_html(document, chunk, "Ice is best in the first day.", disclaimer="Not medical advice.")
    assert "<a class='back' href='../../'>" in page and "Not medical advice." in page
    assert '<h2 id="passage">Chill it</h2>' in page and page.count('id="passage"') == 1
    # A passage that starts inside its section (no heading just above it) names the section instead.
    later = TEXT.index("Rest a little")
    inner = Chunk("sub/a.txt#2", "sub/a.txt", "An article", "Keep moving", "Rest a little. Swim.", later, len(TEXT), 6)
    page = article_page.article_html(document, inner, "")
    assert 'id="passage"><p class="section-name">From the section “Keep moving”</p>' in page
