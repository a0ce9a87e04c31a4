"""Stage 1, ingest: read a file (text, Markdown, HTML, PDF), clean the scraped junk out of it,
drop duplicates, and cut it into passages that fit the model's input limit.

``reading`` -> ``cleaning`` -> ``dedup`` -> ``chunking``; ``sentences`` is the one sentence split
the highlight and the sentence vectors share.
"""
from retrieval.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "reading": ("RawDocument", "SUPPORTED_SUFFIXES", "parse_document", "read_bytes", "read_document"),
    "characters": ("without_invisible",),
    "cleaning": ("clean_text",),
    "dedup": ("deduplicate",),
    "chunking": ("Chunk", "chunk_text", "is_heading"),
    "sentences": ("split_sentences",),
})
