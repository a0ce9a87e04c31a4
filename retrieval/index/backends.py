"""How the sentence-transformers model is run on the CPU: ONNX Runtime (default) or PyTorch.

Every backend returns an object with sentence-transformers' ``encode(texts, batch_size=...,
normalize_embeddings=...)`` so :class:`retrieval.index.embeddings.SentenceTransformerEmbedder`
does not care which one it has.

- ``onnx`` (``config.DEFAULT_BACKEND``): the weights exported once, locally, to ONNX with ``torch.onnx.export``
  (never downloaded), run by ONNX Runtime with the model's own ``tokenizers`` tokenizer and
  mean pooling. The same vectors as ``torch`` (cosine >= 0.9999, the same fingerprint, so
  either can use the other's index) at about twice the speed; neither torch nor
  sentence-transformers is imported once the export exists, so a process starts in well
  under a second instead of several.
- ``torch``: ``sentence_transformers.SentenceTransformer``, the reference.
- ``onnx-int8``: that export with its weights dynamically quantised to int8
  (``onnxruntime.quantization``; needs the ``onnx`` package too).

The exports live in a cache folder, not in site-packages:
``$XDG_CACHE_HOME/back-pain-retrieval/onnx/<model fingerprint>-v<recipe>/`` (``~/.cache/...``
by default). Each file is written under a temporary name and renamed into place, and a lock
file makes processes that start at the same time export once, so a file there is complete.

    >>> model = load_sentence_transformer(resolve_model_path("bundled"), "onnx")  # doctest: +SKIP
    >>> model.encode(["sore lower back"], normalize_embeddings=True).shape  # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from retrieval.errors import ModelNotFoundError
from retrieval.index.fingerprint import model_fingerprint

BACKENDS = ("torch", "onnx", "onnx-int8")
_EXPORT_VERSION = 1  # bump when the export recipe changes: old exports are then ignored
_OPSET = 17
_INSTALL_HINT = (
    "the {backend} backend needs ONNX Runtime, which `make setup` installs: run `make setup` "
    "(or pip install onnxruntime onnx), or use RETRIEVAL_BACKEND=torch"
)


def load_sentence_transformer(path: Path, backend: str, *, cache_dir: Path | None = None):  # type: ignore[no-untyped-def]
    """Load the model at ``path`` with the given backend; heavy imports happen here."""
    if backend not in BACKENDS:
        raise ModelNotFoundError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "torch":
        if ships_onnx(path):
            raise ModelNotFoundError(
                f"{path} ships int8 ONNX weights only ({SHIPPED_ONNX}); the torch backend needs PyTorch weights: "
                "use RETRIEVAL_BACKEND=onnx (the default)"
            )
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(path), device="cpu", local_files_only=True)
    return OnnxSentenceEncoder.load(path, quantized=backend == "onnx-int8", cache_dir=cache_dir)


def _onnxruntime(backend: str):  # type: ignore[no-untyped-def]
    """Import onnxruntime with its telemetry off, or explain how to install it.

    ONNX Runtime 1.29+ on Linux sends usage events and keeps a device id under
    ``$XDG_CACHE_HOME/Microsoft/`` unless ``ORT_DISABLE_TELEMETRY=1`` is set before it starts
    (microsoft/onnxruntime#27379). A local health tool should not phone home: off unless the
    user set the variable themselves.
    """
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    try:
        import onnxruntime
    except ImportError:
        raise ModelNotFoundError(_INSTALL_HINT.format(backend=backend)) from None
    return onnxruntime


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "back-pain-retrieval" / "onnx"


class OnnxSentenceEncoder:
    """A mean-pooling sentence encoder on ONNX Runtime with the parts of sentence-transformers'
    ``SentenceTransformer`` this project uses: ``encode``, ``get_sentence_embedding_dimension``,
    ``max_seq_length`` and ``tokenizer`` (callable like a transformers tokenizer)."""

    def __init__(self, session, path: Path, dimension: int, pooling: str) -> None:  # type: ignore[no-untyped-def]
        self.session = session
        self.dimension = dimension
        self.pooling = pooling
        self.max_seq_length = _max_seq_length(path)
        self.tokenizer = WordPieceTokenizer(path, self.max_seq_length)
        self._batch_tokenizer = _tokenizer(path)  # truncating and padding: what the model is fed
        self._inputs = {i.name for i in session.get_inputs()}

    @classmethod
    def load(cls, path: Path, *, quantized: bool = False, cache_dir: Path | None = None) -> OnnxSentenceEncoder:
        ort = _onnxruntime("onnx-int8" if quantized else "onnx")
        pooling, dimension = _pooling(path)
        model_file = ensure_onnx_export(path, quantized=quantized, cache_dir=cache_dir)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        threads = os.environ.get("RETRIEVAL_ONNX_THREADS", "")
        if threads.isdigit() and int(threads) > 0:  # a cluster actor owns one CPU, not the machine
            options.intra_op_num_threads = int(threads)
            options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        return cls(session, path, dimension, pooling)

    def get_sentence_embedding_dimension(self) -> int:
        return self.dimension

    def encode(
        self,
        sentences: str | list[str],
        batch_size: int = 32,
        normalize_embeddings: bool = False,
        convert_to_numpy: bool = True,
        show_progress_bar: bool = False,
        **_: object,
    ) -> np.ndarray:
        """float32 (n, dim) embeddings in input order; batches are formed from similar lengths."""
        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for begin in range(0, len(order), batch_size):
            rows = order[begin : begin + batch_size]
            out[rows] = self._encode_batch([texts[i] for i in rows])
        if normalize_embeddings:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out[0] if single else out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._batch_tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feed)[0]
        if self.pooling == "cls":
            return hidden[:, 0, :]
        weights = mask[:, :, None].astype(np.float32)
        return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


class WordPieceTokenizer:
    """The model's ``tokenizer.json`` through ``tokenizers`` (no transformers import), callable
    like the transformers tokenizer that sentence-transformers exposes as ``model.tokenizer``:

        >>> tokenizer = WordPieceTokenizer(resolve_model_path("bundled"), 256)  # doctest: +SKIP
        >>> tokenizer("sore back")["input_ids"]  # doctest: +SKIP
        [101, 7591, 2067, 102]
    """

    def __init__(self, path: Path, max_length: int) -> None:
        from tokenizers import Tokenizer

        self.model_max_length = max_length
        self._whole = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._whole.no_truncation()
        self._whole.no_padding()
        self._cut = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._cut.enable_truncation(max_length=max_length)
        self._cut.no_padding()

    def __call__(self, text: str | list[str], add_special_tokens: bool = True, truncation: bool = False) -> dict:
        texts = [text] if isinstance(text, str) else list(text)
        encodings = (self._cut if truncation else self._whole).encode_batch(texts, add_special_tokens=add_special_tokens)
        ids = [e.ids for e in encodings]
        mask = [e.attention_mask for e in encodings]
        return {"input_ids": ids[0], "attention_mask": mask[0]} if isinstance(text, str) else {"input_ids": ids, "attention_mask": mask}


SHIPPED_ONNX = "model-int8.onnx"  # a model folder that ships its own int8 weights (models/*/)


def ships_onnx(path: Path) -> bool:
    """Whether ``path`` is a model folder that ships its own int8 ONNX weights and no PyTorch
    weights (the project's fine-tuned models, ``models/``): nothing to export, nothing to cache."""
    return (path / SHIPPED_ONNX).is_file() and not any(path.glob("*.safetensors")) and not any(path.glob("*.bin"))


def ensure_onnx_export(path: Path, *, quantized: bool = False, cache_dir: Path | None = None) -> Path:
    """The cached ONNX file for the model at ``path``, exporting (and quantising) it first if
    needed. A folder that ships its own int8 weights (:func:`ships_onnx`) is used as it is, by
    both ONNX backends: there are no float weights to export."""
    if ships_onnx(path):
        return path / SHIPPED_ONNX
    folder = (cache_dir or default_cache_dir()) / f"{model_fingerprint(path)}-v{_EXPORT_VERSION}"
    fp32 = folder / "model.onnx"
    int8 = folder / "model-int8.onnx"
    target = int8 if quantized else fp32
    if target.exists():  # files appear only by atomic rename: one that exists is complete
        return target
    with _exclusive(folder):  # several processes starting at once export once, the others wait
        if not fp32.exists():
            _export(path, fp32)
        if quantized and not int8.exists():
            _quantize(fp32, int8)
    return target


_MODEL_FILES = ("config.json", "modules.json", "sentence_bert_config.json", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json", "vocab.txt", "1_Pooling/config.json")


def export_int8_folder(source: Path, target: Path) -> Path:
    """Write a model folder that ships int8 ONNX weights (:func:`ships_onnx`) from a
    sentence-transformers folder with PyTorch weights: the configuration and tokenizer files,
    and ``model-int8.onnx``. Used by the training scripts for the models committed in ``models/``."""
    import shutil
    import tempfile

    target.mkdir(parents=True, exist_ok=True)
    for name in _MODEL_FILES:
        if (source / name).exists():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / name, target / name)
    with tempfile.TemporaryDirectory() as scratch:
        fp32 = Path(scratch) / "model.onnx"
        _export(source, fp32)
        _quantize(fp32, target / SHIPPED_ONNX)
    return target / SHIPPED_ONNX


@contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder/.lock`` (no lock where fcntl is missing: the
    temporary-file-and-rename writes keep the cache consistent without it, at the cost of
    exporting more than once)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    with open(folder / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _temporary(target: Path) -> Path:
    """A fresh file name beside ``target`` for this process and thread (renamed over it when done)."""
    return target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.{time.time_ns()}.tmp")


def _export(path: Path, target: Path) -> None:
    """Export the transformer at ``path`` to ONNX (dynamic batch and length), then check it
    reproduces the PyTorch output. Written to a temporary name and renamed: atomic."""
    started = time.perf_counter()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import warnings

    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    warnings.filterwarnings("ignore", message="Exporting aten::index operator", category=UserWarning)
    target.parent.mkdir(parents=True, exist_ok=True)
    model = _LastHiddenState(AutoModel.from_pretrained(str(path), local_files_only=True)).eval()
    # Announced once the weights have loaded: a broken model folder gives one error line, not two.
    print(f"Exporting the embedding model to ONNX (once) into {target.parent}/ ...", file=sys.stderr, flush=True)
    sample = ["A short sentence.", "A slightly longer sentence about lower back pain and sciatica."]
    tokenizer = _tokenizer(path)
    encodings = tokenizer.encode_batch(sample)
    ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
    mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.long)
    types = torch.zeros_like(ids)
    tmp = _temporary(target)
    dynamic = {0: "batch", 1: "sequence"}
    try:
        with torch.inference_mode():
            torch.onnx.export(
                model,
                (ids, mask, types),
                str(tmp),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, "token_type_ids": dynamic,
                              "last_hidden_state": dynamic},
                opset_version=_OPSET,
                dynamo=False,
            )
            expected = model(ids, mask, types).numpy()
        _check_export(tmp, ids.numpy(), mask.numpy(), expected)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    print(f"Exported in {time.perf_counter() - started:.1f}s: {target}", file=sys.stderr, flush=True)


def _LastHiddenState(transformer):  # type: ignore[no-untyped-def]
    """Wrap a transformers model so it takes (ids, mask, types) positionally and returns one tensor."""
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    return LastHiddenState()


def _check_export(file: Path, ids: np.ndarray, mask: np.ndarray, expected: np.ndarray) -> None:
    ort = _onnxruntime("onnx")
    session = ort.InferenceSession(str(file), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
    worst = float(np.abs(got - expected)[mask.astype(bool)].max())
    if worst > 1e-3:
        raise ModelNotFoundError(f"the ONNX export does not reproduce the PyTorch model (max difference {worst:.2g})")


def _quantize(fp32: Path, target: Path) -> None:
    _onnxruntime("onnx-int8")
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        raise ModelNotFoundError(_INSTALL_HINT.format(backend="onnx-int8")) from None
    import logging

    print(f"Quantising the ONNX model to int8 (once) into {target.parent}/ ...", file=sys.stderr, flush=True)
    root = logging.getLogger()
    level, handlers = root.level, root.handlers[:]  # quantize_dynamic reconfigures the root logger
    tmp = _temporary(target)
    try:
        root.setLevel(logging.ERROR)
        quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        root.setLevel(level)
        root.handlers[:] = handlers


def _tokenizer(path: Path):  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=_max_seq_length(path))
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id("[PAD]") or 0, pad_token="[PAD]")
    return tokenizer


def _max_seq_length(path: Path) -> int:
    file = path / "sentence_bert_config.json"
    config = json.loads(file.read_text(encoding="utf-8")) if file.exists() else {}
    return int(config.get("max_seq_length", 256))


def _pooling(path: Path) -> tuple[str, int]:
    """("mean" or "cls", dimension) from the model's pooling config; other poolings are refused."""
    file = path / "1_Pooling" / "config.json"
    if not file.exists():
        raise ModelNotFoundError(f"{path} has no 1_Pooling/config.json; the ONNX backends need one (use the torch backend)")
    config = json.loads(file.read_text(encoding="utf-8"))
    # sentence-transformers < 5.x: pooling_mode_<mode>_token(s) flags; later: "pooling_mode": "<mode>".
    modes = [config["pooling_mode"]] if "pooling_mode" in config else [
        k.removeprefix("pooling_mode_") for k, v in config.items() if k.startswith("pooling_mode_") and v
    ]
    dimension = int(config.get("word_embedding_dimension") or config.get("embedding_dimension") or 0)
    if modes in (["mean"], ["mean_tokens"]):
        return "mean", dimension
    if modes in (["cls"], ["cls_token"]):
        return "cls", dimension
    raise ModelNotFoundError(f"the ONNX backends support mean or CLS pooling only, not {modes}; use the torch backend")
