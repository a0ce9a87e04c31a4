"""Stage 4, search: find the passages that answer a question, and say honestly when none do.

``retriever`` (dense + BM25 fusion, title and document support, diversity), ``coverage`` (the
"not covered" decision) and ``anatomy`` (which body parts a question and a title name).
"""
from retrieval.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "retriever": ("Retriever",),
    "results": ("Passage", "SearchResult"),
    "scoring": ("sentence_similarities",),
    "titles": ("names_title", "title_match"),
    "coverage": ("Coverage", "answer_declines", "assess_coverage"),
    "anatomy": ("body_parts", "name_parts"),
})
