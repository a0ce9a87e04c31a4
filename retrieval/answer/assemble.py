"""Answer a question: triage first, then retrieval, coverage, highlighting and the reply.

The order is the safety order: the emergency check runs on the raw question before anything
else, so no topic filter, injected instruction or retrieval failure can hide a care card; a
dosing question is declined even when the articles mention the medicine; every answer,
declines included, carries the disclaimer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from retrieval.answer.context import EdgeContext, edge_context
from retrieval.answer.formatting import compose_message
from retrieval.answer.highlight import passage_sentences, scored_highlight
from retrieval.answer.in_short import ShortSentence, loose_passages, pick_sentences
from retrieval.answer.subjects import unfamiliar_words
from retrieval.config import MAX_K
from retrieval.index import StoredDocument
from retrieval.ingest import without_invisible
from retrieval.safety import (
    Triage, assess, care_card, disclaimer, disclaimer_markdown, dosing_decline, normalise_locale, safety_net_line,
)
from retrieval.search import (
    Coverage, Passage, Retriever, SearchResult, assess_coverage, name_parts, sentence_similarities,
)

_GREETING = re.compile(r"^\W*(?:hi|hello|hey|hiya|good\s+(?:morning|afternoon|evening)|thanks?|thank\s+you|cheers)\W*$", re.I)


@dataclass
class Answer:
    """What the CLI, the chat and ``/ask`` return for one question."""

    query: str
    passages: list[Passage]
    disclaimer: str
    message: str
    triage: Triage
    covered: bool
    care_card: str | None = None
    not_covered_reason: str = ""
    notes: list[str] = field(default_factory=list)
    safety_net_text: str = ""
    body: str = ""  # the reply shown instead of, or before, passages (a decline, a scope note)
    locale: str = "uk"  # whose numbers and services the wording names
    # What the question is about that the articles are not (read by the follow-up rule): body
    # parts no article is about, and words no article uses (set only when the articles were searched).
    uncovered_parts: frozenset[str] = frozenset()
    unfamiliar: tuple[str, ...] = ()
    # "In short": the best one to three sentences of the passages, word for word (in_short.py)
    in_short: tuple[ShortSentence, ...] = ()
    loose: frozenset[int] = frozenset()  # numbers (1-based) of the passages that only loosely match

    def to_json(self) -> dict[str, Any]:
        """The stable JSON contract: query, passages[text, source, title, score], disclaimer,
        message; extended with triage, covered, highlight and more (never removed)."""
        return {
            "query": self.query,
            "passages": [{**passage_json(p), "loose": n in self.loose} for n, p in enumerate(self.passages, 1)],
            "disclaimer": self.disclaimer,  # plain text
            "disclaimer_markdown": disclaimer_markdown(self.disclaimer),
            "message": self.message,
            "triage": self.triage.level,
            "covered": self.covered,
            "care_card": self.care_card,
            "safety_net": self.triage.safety_net,
            "dosing": self.triage.dosing,
            "triage_reasons": list(self.triage.reasons),
            "notes": self.notes,
            "in_short": [{"text": s.text, "passage": s.passage} for s in self.in_short],
        }


def passage_json(passage: Passage) -> dict[str, Any]:
    chunk = passage.chunk
    return {
        "text": chunk.text,
        "source": chunk.doc_id,
        "title": chunk.title,
        "score": round(passage.score, 6),
        "section": chunk.section,
        "pages": list(chunk.pages),
        "highlight": passage.highlight,
        "chunk_id": chunk.id,
        "dense_score": round(passage.dense_score, 4),
        "bm25_score": round(passage.lexical_score, 4),
        "context_before": passage.context_before,
        "context_after": passage.context_after,
    }


def _sanitise(question: str) -> str:
    """Any input made safe to process: no control characters, NULs or lone surrogates."""
    text = question.encode("utf-8", "replace").decode("utf-8", "replace")
    text = unicodedata.normalize("NFC", without_invisible(text))
    return re.sub(r"\s+", " ", text).strip()


def _shorten(text: str, max_chars: int) -> tuple[str, list[str]]:
    if len(text) <= max_chars:
        return text, []
    text = text[:max_chars].rsplit(" ", 1)[0] if " " in text[:max_chars] else text[:max_chars]
    return text, [f"Your question was longer than {max_chars:,} characters; only the first {len(text):,} were used."]


def answer_question(retriever: Retriever, question: str, *, k: int | None = None, locale: str | None = None) -> Answer:
    settings = retriever.settings
    locale = locale or settings.locale
    k = max(1, min(int(k or settings.top_k), MAX_K))
    full_text = _sanitise(question if isinstance(question, str) else str(question))
    text, notes = _shorten(full_text, settings.max_question_chars)
    # Triage reads the whole message (a red flag may come at the end of a long one; the learned
    # classifier scores every sentence of it on its own); only retrieval works on the shortened text.
    has_words = bool(re.search(r"\w", text))
    triage = assess(full_text)
    card = care_card(triage, locale)
    note_disclaimer = disclaimer(locale)

    def reply(passages: list[Passage], covered: bool, reason: str = "", body: str = "", **about: Any) -> Answer:
        safety_net = safety_net_line(locale) if triage.safety_net and triage.level == "none" else ""
        message = compose_message(
            card=card, body=body, passages=passages, safety_net=safety_net, disclaimer=note_disclaimer,
            in_short=about.get("in_short", ()),
        )
        return Answer(
            text, passages, note_disclaimer, message, triage, covered, card, reason, notes, safety_net, body,
            normalise_locale(locale), **about,
        )

    if not has_words:
        return reply([], False, "empty question", "Please type a question about back or leg pain.")
    if triage.level == "emergency":
        # Nothing before or beside the care card: no self-care passages that could distract.
        return reply([], False, "emergency: passages withheld")
    if triage.about_animal:
        # Before the dosing check: "can I give my dog ibuprofen" needs a vet, not a pharmacist.
        return reply([], False, "about an animal", ANIMAL_TEXT)
    if triage.dosing:
        return reply([], False, "medicine dosing question", dosing_decline(locale))
    if _GREETING.match(text):
        return reply([], False, "greeting", _scope_text(retriever))
    result = retriever.search(text, k=k)
    # the generation that answered, not the retriever's latest (a rebuild may swap it meanwhile)
    documents = result.data.documents if result.data is not None else {}
    coverage = assess_coverage(result, question=text, nerve_pain=triage.safety_net)
    about = {"uncovered_parts": coverage.uncovered_parts, "unfamiliar": unfamiliar_words(text, result.idf)}
    if triage.off_topic and coverage.covered:  # "write me a poem": not a health question, whatever it matched
        coverage = replace(coverage, covered=False, reason="not a health question", uncovered_parts=frozenset())
    if not coverage.covered:
        return reply([], False, coverage.reason, _not_covered_text(documents, coverage), **about)
    similarities = shown_sentence_similarities(retriever.embedder, result)
    scored = [_with_highlight(p, text, result, documents, sim) for p, sim in zip(result.passages, similarities)]
    passages = [passage for passage, _ in scored]
    loose = loose_passages(passages, gap=settings.loose_match_gap, floor=settings.loose_match_floor)
    short = pick_sentences([(passage.highlight, score) for passage, score in scored], loose)
    return reply(passages, True, "", "", in_short=short, loose=loose, **about)


def shown_sentence_similarities(embedder, result: SearchResult) -> list[np.ndarray | None]:  # type: ignore[no-untyped-def]
    """For each passage of ``result``, the cosine of the question with each of its sentences
    (``passage_sentences`` order): read from the index when it stores sentence vectors
    (RETRIEVAL_SENTENCE_VECTORS=on), else embedded now, the shown passages' sentences in one
    batch (a few milliseconds, instead of embedding every sentence of the corpus at build time)."""
    stored = [sentence_similarities(result.data, p.row, result.query_vector) for p in result.passages]
    if result.query_vector is None or all(s is not None for s in stored):
        return stored
    sentences = [list(passage_sentences(p.chunk.text)) if s is None else [] for p, s in zip(result.passages, stored)]
    flat = [sentence for group in sentences for sentence in group]
    vectors = embedder.embed(flat) if flat else np.zeros((0, len(result.query_vector)), dtype=np.float32)
    cosines = vectors @ np.asarray(result.query_vector, dtype=np.float32)
    out, start = [], 0
    for s, group in zip(stored, sentences):
        out.append(s if s is not None else cosines[start:start + len(group)])
        start += len(group)
    return out


def _with_highlight(
    passage: Passage, question: str, result: SearchResult, documents: dict[str, StoredDocument],
    similarity: np.ndarray | None = None,
) -> tuple[Passage, float]:
    """The passage with its best sentence(s) and, when they sit at its edge, the neighbour; and
    the best sentence's score."""
    highlight, score = scored_highlight(question, passage.chunk.text, idf=result.idf, similarity=similarity)
    document = documents.get(passage.chunk.doc_id)
    context = edge_context(document.text, passage.chunk, highlight) if document is not None else EdgeContext()
    return replace(passage, highlight=highlight, context_before=context.before, context_after=context.after), score


def highlight_of(passage: Passage, question: str, result: SearchResult, embedder) -> str:  # type: ignore[no-untyped-def]
    """The sentence(s) of ``passage`` that best answer ``question``, as the answer shows them:
    words in common, and each sentence's similarity with the question."""
    similarity = shown_sentence_similarities(embedder, replace(result, passages=[passage]))[0]
    return scored_highlight(question, passage.chunk.text, idf=result.idf, similarity=similarity)[0]


def covered_topics(documents: dict[str, StoredDocument], limit: int = 6) -> list[str]:
    titles = sorted({doc.title for doc in documents.values()}, key=len)
    return titles[:limit]


ANIMAL_TEXT = (
    "The articles here are about people's back and leg pain, so they do not cover animals, and I have "
    "no passage to show you. If your pet is in pain, limping, dragging its legs or not itself, please "
    "contact a vet; if it cannot stand or walk, call the vet today."
)


def _not_covered_text(documents: dict[str, StoredDocument], coverage: Coverage) -> str:
    topics = "; ".join(covered_topics(documents))
    if coverage.uncovered_parts:
        opening = (
            f"The articles here are about {name_parts(coverage.covered_parts)}, not "
            f"{name_parts(coverage.uncovered_parts)}, so they do not cover that question and I have no "
            "passage to show you. "
        )
    else:
        opening = "The articles here do not cover that question, so I have no passage to show you. "
    return (
        opening
        + "This assistant only finds passages about back and leg pain in its articles"
        + (f", which cover: {_end_sentence(topics)}" if topics else ".")
        + " Try asking about causes of low back pain, stretches and exercises, sleeping positions, posture, or lifting."
    )


def _end_sentence(text: str) -> str:
    """``text`` ending a sentence: a full stop added unless it ends in one, or in ? or !
    (a title such as "...what's the matter?" must not read "matter?.")."""
    return text if text.rstrip().endswith((".", "?", "!")) else f"{text}."


def _scope_text(retriever: Retriever) -> str:
    return (
        "Hello! Ask me a question about back or leg pain, for example \"how should I sleep with low back "
        "pain?\" and I will show you the most relevant passages from the articles, with their sources."
    )
