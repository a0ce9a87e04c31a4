"""Stage 3, safety: read a message for red flags before anything else, and word the care card
and the disclaimer.

``triage`` combines the curated red-flag bank (``redflags``, whose lexicon, rules and wording
live in ``data/`` as files a clinician can review) with the learned red-flag head
(``learned_flags``); ``care`` turns a triage into the card the user sees first.
"""
from retrieval.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "triage": ("Triage", "assess", "EMERGENCY", "URGENT", "NONE"),
    "findings": ("has_cancelled_finding",),
    "normalise": ("normalise_text",),
    "learned_flags": ("FlagHead", "GROUP_LEVELS", "HEAD_PATH", "message_units", "scoring_units", "shipped_head"),
    "startup": ("load_safety_layer",),
    "care": (
        "LOCALES", "care_card", "chat_disclaimer", "disclaimer", "disclaimer_markdown", "dosing_decline",
        "normalise_locale", "safety_net_line",
    ),
})
