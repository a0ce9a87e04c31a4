"""Stage 4, search: find the passages that answer a question, and say honestly when none do.

``retriever`` (dense + BM25 fusion, title and document support, diversity), ``coverage`` (the
"not covered" decision) and ``anatomy`` (which body parts a question and a title name).
"""
from retrieval.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "retriever": ("Passage", "Retriever", "SearchResult", "sentence_similarities"),
    "coverage": ("Coverage", "answer_declines", "assess_coverage"),
    "anatomy": ("body_parts", "name_parts"),
})
