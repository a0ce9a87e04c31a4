"""Stage 3, safety: read a message for red flags before anything else, and word the care card
and the disclaimer.

``triage`` combines the learned red-flag classifier (``learned_flags``: a MiniLM fine-tuned on
independent writers' messages) with the rules of the curated red-flag bank that earned their
place (``redflags``, whose lexicon, rules and wording live in ``data/`` as files a clinician can
review); ``care`` turns a triage into the card the user sees first.
"""
from retrieval.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "triage": ("Triage", "assess", "rule_level", "EMERGENCY", "URGENT", "NONE"),
    "normalise": ("normalise_text",),
    "learned_flags": ("FlagHead", "FlagModel", "GROUP_LEVELS", "HEAD_PATH", "MODEL_DIR", "message_units", "scoring_units",
                      "shipped_head", "shipped_model"),
    "startup": ("load_safety_layer",),
    "care": (
        "LOCALES", "care_card", "chat_disclaimer", "disclaimer", "disclaimer_markdown", "dosing_decline",
        "normalise_locale", "safety_net_line",
    ),
})
