"""The public names of a stage package, imported on first use (PEP 562).

Each stage package (``retrieval.ingest``, ``retrieval.index``, ...) lists its public names in
its ``__init__.py`` with :func:`lazy_exports`. ``from retrieval.index import build_index``
then works without importing the rest of the stage, so a command pays only for what it uses
(``retrieval --help`` imports no numpy, the CLI's ``ask`` no Gradio) and the stages never
import each other at start-up. The tests check that every listed name exists and that no
stage imports a later one or another stage's private names (``tests/test_layout.py``).
"""
from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, modules: dict[str, tuple[str, ...]]) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``__all__``, ``__getattr__`` and ``__dir__`` for ``package``, whose public names live in
    the submodules ``modules`` maps them from."""
    home = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # found once; later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(home)

    return sorted(home), __getattr__, __dir__
