"""How the sentence-transformers model is run on the CPU: PyTorch (default) or ONNX Runtime.

The ONNX backends export the bundled weights locally (never from a hub) into a cache folder
beside the model the first time they are used.
"""

from __future__ import annotations

from pathlib import Path

from retrieval.errors import ModelNotFoundError

BACKENDS = ("torch", "onnx", "onnx-int8")


def load_sentence_transformer(path: Path, backend: str):  # type: ignore[no-untyped-def]
    """Load the model at ``path`` with the given backend; heavy imports happen here."""
    if backend not in BACKENDS:
        raise ModelNotFoundError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    from sentence_transformers import SentenceTransformer

    if backend == "torch":
        return SentenceTransformer(str(path), device="cpu", local_files_only=True)
    raise ModelNotFoundError(
        f"the {backend} backend needs the optional ONNX packages: pip install 'sentence-transformers[onnx]'"
    )
