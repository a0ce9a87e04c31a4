"""How likely it is that the articles do *not* answer a question, from three pieces of evidence
the search already has (``data/answerability.yaml``: a logistic model fitted by
``python -m retrieval.evaluation.train_not_covered``):

- ``best_cosine``: the best passage's cosine with the question (the relevance encoder's score);
- ``absent``: the share of the question's content words that no passage of the corpus uses
  ("sauna", "bunion": the articles never mention them);
- ``in_shown``: the share of them that the three passages shown use.

Content words are the BM25 tokens (stemmed, without stop words), less a few that every
back-pain question shares ("back", "pain", "help"). Fitted on development writers' questions
over 18 consumer corpora (answerable ones, and questions written to be "not covered"); the
threshold declines 3% of those answerable questions. EVALUATION.md, "Sixth round", has the
rule it passed before it replaced the cosine threshold alone.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from retrieval.datafiles import Checker, read_yaml
from retrieval.search.results import SearchResult

MODEL_PATH = Path(__file__).resolve().parent / "data" / "answerability.yaml"
FEATURES = ("best_cosine", "absent", "in_shown")
SHOWN = 3  # passages whose words count as shown
# Words nearly every question here uses: they say nothing about whether it is covered.
GENERIC_WORDS = ("back pain hurt hurts ache aches sore get help good bad best thing way need know want feel make like "
                 "day week")


@dataclass(frozen=True)
class Evidence:
    best_cosine: float
    absent: float
    in_shown: float

    def values(self) -> tuple[float, ...]:
        return tuple(getattr(self, name) for name in FEATURES)


@dataclass(frozen=True)
class AnswerabilityModel:
    """``P(not covered) = sigmoid(intercept + sum(weight * (x - mean) / spread))``; declined at or
    above ``threshold``."""

    mean: tuple[float, ...]
    spread: tuple[float, ...]
    weights: tuple[float, ...]
    intercept: float
    threshold: float

    def not_covered_probability(self, evidence: Evidence) -> float:
        z = self.intercept + sum(w * (x - m) / s for w, x, m, s in zip(self.weights, evidence.values(), self.mean, self.spread))
        return 1.0 / (1.0 + math.exp(-max(min(z, 60.0), -60.0)))

    def declines(self, evidence: Evidence) -> bool:
        return self.not_covered_probability(evidence) >= self.threshold


@lru_cache(maxsize=1)
def _generic() -> frozenset[str]:
    from retrieval.index import tokenize

    return frozenset(tokenize([GENERIC_WORDS])[0])


def content_words(question: str) -> list[str]:
    """The question's BM25 tokens, once each, less the generic ones."""
    from retrieval.index import tokenize

    generic = _generic()
    return [t for t in dict.fromkeys(tokenize([question])[0]) if t not in generic]


def gather_evidence(result: SearchResult, best_cosine: float) -> Evidence:
    """The evidence for ``result`` (its question, its corpus's vocabulary, the passages shown)."""
    from retrieval.index import tokenize

    words = content_words(result.query)
    if not words:
        return Evidence(best_cosine, 0.0, 0.0)
    shown = {t for p in result.passages[:SHOWN] for t in tokenize([p.chunk.text])[0]}
    return Evidence(best_cosine, sum(t not in result.idf for t in words) / len(words), sum(t in shown for t in words) / len(words))


def load_model(path: Path = MODEL_PATH) -> AnswerabilityModel:
    """Read and check ``path``; :class:`~retrieval.errors.DataFileError` names the line at fault."""
    check = Checker(path)
    data = read_yaml(path)
    check.keys(data, "answerability model", required=("features", "mean", "spread", "weights", "intercept", "threshold"),
               allowed=("fitted_on", "figures"))
    if list(data["features"]) != list(FEATURES):
        raise check.fail(data.lines["features"], f"features should be {list(FEATURES)}")
    numbers = {}
    for key in ("mean", "spread", "weights"):
        value = data[key]
        if not isinstance(value, list) or len(value) != len(FEATURES) or not all(isinstance(v, (int, float)) for v in value):
            raise check.fail(data.lines[key], f"{key} should be {len(FEATURES)} numbers, one per feature")
        numbers[key] = tuple(float(v) for v in value)
    if any(s <= 0 for s in numbers["spread"]):
        raise check.fail(data.lines["spread"], "spread should be positive")
    for key in ("intercept", "threshold"):
        if not isinstance(data[key], (int, float)):
            raise check.fail(data.lines[key], f"{key} should be a number")
    if not 0.0 < float(data["threshold"]) < 1.0:
        raise check.fail(data.lines["threshold"], "threshold should be a probability between 0 and 1")
    return AnswerabilityModel(numbers["mean"], numbers["spread"], numbers["weights"], float(data["intercept"]), float(data["threshold"]))


@lru_cache(maxsize=1)
def shipped_model() -> AnswerabilityModel:
    return load_model()
