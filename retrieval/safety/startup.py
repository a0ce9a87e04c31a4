"""Load and check everything the safety layer reads from disk before the first question: the
data files (``data/*.yaml``, read and checked when their modules are imported) and the learned
red-flag classifier. A problem in any of them stops start-up with a message naming the file (and the
line, for a data file), instead of failing a person's first question."""
from __future__ import annotations

import importlib

from retrieval.safety.learned_flags import FlagModel


def load_safety_layer() -> FlagModel:
    """Read and check the red-flag bank, the modifier and spelling lists, the care wording and
    the learned classifier (its ONNX session opened); returns the classifier. Raises
    DataFileError or SafetyModelError."""
    from retrieval.safety.learned_flags import shipped_model

    for module in ("redflags", "normalise", "modifiers", "care"):  # importing one reads and checks its file
        importlib.import_module(f"retrieval.safety.{module}")

    return shipped_model()
