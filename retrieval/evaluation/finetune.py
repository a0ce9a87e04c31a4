"""What both trained models share: the bundled MiniLM loaded for fine-tuning with a fixed seed,
its mean-pooled, L2-normalised sentence vector (as sentence-transformers computes it), and the
fine-tuned encoder saved as a model folder with int8 ONNX weights (what the product loads).

Used by ``flag_training`` (the red-flag classifier) and ``train_relevance`` (the relevance
encoder). Heavy imports (torch, transformers) happen inside the functions.
"""
from __future__ import annotations

import random
import shutil
import tempfile
from pathlib import Path

# The sentence-transformers files a model folder needs besides the encoder's own.
_SENTENCE_FILES = ("modules.json", "sentence_bert_config.json", "1_Pooling/config.json")


def load_bundled(seed: int, threads: int):  # type: ignore[no-untyped-def]
    """(tokenizer, encoder, rng): torch seeded and limited to ``threads``, the bundled MiniLM
    loaded from the installed package, and a ``random.Random(seed)`` for batching."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from retrieval.index import resolve_model_path

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = random.Random(seed)
    path = resolve_model_path("bundled")
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    encoder = AutoModel.from_pretrained(str(path), local_files_only=True)
    return tokenizer, encoder, rng


def pooled(encoder, tokenizer, texts: list[str], max_length: int):  # type: ignore[no-untyped-def]
    """The texts' mean-pooled, L2-normalised vectors (a torch tensor, with gradients)."""
    import torch

    batch = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    hidden = encoder(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=-1)


def save_int8(encoder, tokenizer, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """``encoder`` as a sentence-transformers model folder with int8 ONNX weights in ``folder``."""
    from retrieval.index import export_int8_folder, resolve_model_path

    bundled = resolve_model_path("bundled")
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "encoder"
        encoder.save_pretrained(str(source))
        tokenizer.save_pretrained(str(source))
        for name in _SENTENCE_FILES:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(bundled / name, source / name)
        export_int8_folder(source, folder)
