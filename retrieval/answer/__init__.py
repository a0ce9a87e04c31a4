"""Stage 5, answer: put triage, search and coverage together into what the user reads.

``assemble`` (the answer: care card, passages or an honest "not covered", disclaimer),
``highlight`` (the sentence to mark), ``in_short`` (the best sentences, word for word, and which
passages match only loosely), ``context`` (a passage's neighbouring sentences),
``formatting`` (Markdown and plain text), ``followup`` (a message that cannot stand alone joined
to the question before it) and ``subjects`` (what a message is about: does it point back, which
of its words the articles never use; its words are in ``data/followups.yaml``).
"""
from retrieval.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "assemble": ("Answer", "answer_question", "highlight_of"),
    "followup": ("Turn", "answer_turn"),
    "subjects": ("load_followup_words", "points_back", "unfamiliar_words"),
    "formatting": (
        "escape_markdown", "passage_markdown", "passages_intro", "render_text", "compose_message", "source_label",
        "in_short_markdown",
    ),
    "in_short": ("ShortSentence",),
    "highlight": ("best_sentences", "passage_sentences"),
    "context": ("EdgeContext", "edge_context"),
})
