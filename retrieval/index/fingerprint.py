"""A short, stable fingerprint of a model folder: the index records it, and the ONNX export
cache is keyed by it, so a changed model is noticed without reading all of its weights."""
from __future__ import annotations

import hashlib
from pathlib import Path


def model_fingerprint(path: Path) -> str:
    """A short hash of the model's configuration and weights (size plus head and tail bytes)."""
    digest = hashlib.sha256()
    for name in ("modules.json", "config.json", "sentence_bert_config.json", "tokenizer.json", "1_Pooling/config.json"):
        file = path / name
        if file.exists():
            digest.update(name.encode() + file.read_bytes())
    for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")) + sorted(path.glob("*.onnx")):
        size = weights.stat().st_size
        digest.update(f"{weights.name}:{size}".encode())
        with weights.open("rb") as handle:
            digest.update(handle.read(1 << 16))
            handle.seek(max(size - (1 << 16), 0))
            digest.update(handle.read(1 << 16))
    return digest.hexdigest()[:16]
