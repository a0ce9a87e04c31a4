"""Stage 4, search: find the passages that answer a question, and say honestly when none do.

``retriever`` (dense + BM25 fusion, document support, diversity), ``coverage`` (the "not
covered" decision) and ``anatomy`` (which body parts a question and a title name: said in the
"not covered" reply, and read by the follow-up rule).
"""
from retrieval.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "retriever": ("Retriever",),
    "results": ("Passage", "SearchResult"),
    "scoring": ("sentence_similarities",),
    "coverage": ("Coverage", "answer_declines", "assess_coverage"),
    "anatomy": ("body_parts", "name_parts"),
})
