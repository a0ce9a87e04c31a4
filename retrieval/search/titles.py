"""How well an article's title matches a question: the IDF-weighted overlap of their BM25 terms
(:func:`title_match`), and whether the question names the whole title word for word
(:func:`names_title`). Hybrid search adds TITLE_WEIGHT x the first, doubled by the second."""
from __future__ import annotations

import re
from functools import lru_cache

# Plus TITLE_WEIGHT x how well the article title matches the question (``title_match``), counted
# NAMED_TITLE_FACTOR times when the question names the whole title, word for word
# (``names_title``): "What is arthritis?" names "Arthritis", not "Rheumatoid Arthritis".
TITLE_WEIGHT = 0.2
NAMED_TITLE_FACTOR = 2.0
_WORD = re.compile(r"\w+")


@lru_cache(maxsize=4096)
def _spelled(text: str) -> str:
    """Lower-case words of ``text`` joined by single spaces, with a space at each end."""
    return " " + " ".join(_WORD.findall(text.lower())) + " "


def names_title(question: str, title: str) -> bool:
    """Whether ``question`` contains every word of ``title``, in order and spelled the same.

    Stems cannot tell "Paget's Disease of Bone" from "Paget Disease of Bone", or "Spinal Cord
    Injuries" from "Spinal Cord Injury"; the words as written can. MedQuAD hit@1 0.922 -> 0.973
    (EVALUATION.md, "Document support and named titles"; its questions are written from the titles).

        >>> names_title("What is (are) Paget's Disease of Bone ?", "Paget's Disease of Bone")
        True
        >>> names_title("What is (are) Paget's Disease of Bone ?", "Paget disease of bone")
        False
        >>> names_title("back pain when sleeping", "Back Pain Relief Sleep Posture")
        False
    """
    words = _spelled(title)
    return words != "  " and words in _spelled(question)


def title_match(question: frozenset[str], title: frozenset[str], idf: dict[str, float]) -> float:
    """The IDF-weighted F1 of the question's and the title's BM25 terms: recall is the share of
    the question's words found in the title, precision the share of the title's words found in
    the question.

    Precision tells "Arthritis" from "Rheumatoid Arthritis" for "What is arthritis?": recall
    alone gives both titles 1.0. With F1 instead of recall (same weight 0.2), MedQuAD hit@1
    went 0.875 -> 0.888 and MRR 0.930 -> 0.937; the seed set hit@1 0.691 -> 0.709 and MRR
    0.784 -> 0.795 (EVALUATION.md, "Ranking experiments").

        >>> idf = {"arthriti": 2.0, "rheumatoid": 3.0}
        >>> title_match(frozenset({"arthriti"}), frozenset({"arthriti"}), idf)
        1.0
        >>> round(title_match(frozenset({"arthriti"}), frozenset({"rheumatoid", "arthriti"}), idf), 3)
        0.571
    """
    common = sum(idf.get(t, 0.0) for t in question & title)
    if not common:
        return 0.0
    recall = common / sum(idf.get(t, 0.0) for t in question)
    precision = common / sum(idf.get(t, 0.0) for t in title)
    return 2 * recall * precision / (recall + precision)
