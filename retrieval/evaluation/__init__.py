"""Measuring it: the metrics, the ``retrieval eval`` command and the red-flag head's training
script (``python -m retrieval.evaluation.train_flags``)."""
from retrieval.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "evaluate": ("eval_command", "evaluate"),
    "questions": ("Question", "load_questions"),
    "writers": ("eval_writers_command",),
})
