"""Stage 5, answer: put triage, search and coverage together into what the user reads.

``assemble`` (the answer: care card, passages or an honest "not covered", disclaimer),
``highlight`` (the sentence to mark), ``context`` (a passage's neighbouring sentences),
``formatting`` (Markdown and plain text) and ``followup`` (a short follow-up joined to the
previous question).
"""
from retrieval.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "assemble": ("Answer", "answer_question", "highlight_of"),
    "followup": ("Turn", "answer_turn"),
    "formatting": ("escape_markdown", "passage_markdown", "passages_intro", "render_text", "compose_message"),
    "highlight": ("best_sentences", "passage_sentences"),
    "context": ("EdgeContext", "edge_context"),
})
