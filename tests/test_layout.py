"""The package layout reads as the pipeline, and stays that way.

The stages are folders in the order data flows: ingest -> index -> safety -> search -> answer
-> web, with evaluation (which measures all of them) and the command line on top. These tests
read the import statements of every module (with ``ast``, nothing is imported) and fail when a
stage imports a later one, when two modules import each other, when a module reaches into
another stage's private names, or when a module grows past the size a reader can hold.
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "retrieval"
STAGES = ["ingest", "index", "safety", "search", "answer", "web"]
# Shared by every stage; they import no stage themselves.
FOUNDATION = {"config", "errors", "exports", "datafiles"}
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) for every import in ``path``, also inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("retrieval"):
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names if alias.name.startswith("retrieval")]
    return found


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _targets(module: str, names: list[str]) -> set[str]:
    """The modules an import statement loads: ``from retrieval.web import feedback`` loads a module."""
    targets = {module}
    for name in names:
        if f"{module}.{name}" in MODULES:
            targets.add(f"{module}.{name}")
    return targets


def test_every_stage_is_a_folder_in_pipeline_order() -> None:
    for stage in STAGES + ["evaluation"]:
        assert (PACKAGE / stage / "__init__.py").is_file(), stage
    flat = {path.stem for path in PACKAGE.glob("*.py")}
    assert flat <= {"__init__", "__main__", "cli"} | FOUNDATION, f"modules outside a stage folder: {sorted(flat)}"


@pytest.mark.parametrize("stage", STAGES + ["evaluation"])
def test_each_stage_names_its_public_functions_and_they_exist(stage: str) -> None:
    package = importlib.import_module(f"retrieval.{stage}")
    assert package.__doc__ and len(package.__doc__.split()) > 10, f"retrieval.{stage} says what it is for"
    assert package.__all__, f"retrieval.{stage} lists its public names"
    for name in package.__all__:
        assert not name.startswith("_")
        assert getattr(package, name) is not None, f"retrieval.{stage}.{name}"
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        package.nothing_here  # noqa: B018


def test_no_stage_imports_a_later_stage() -> None:
    wrong = []
    for module, path in MODULES.items():
        here = _stage(module)
        for imported, names in _imports(path):
            there = _stage(imported)
            if here in FOUNDATION and there not in FOUNDATION | {None}:
                wrong.append(f"{module} (shared by all) imports {imported}")
            if here in STAGES and there in STAGES and STAGES.index(there) > STAGES.index(here):
                wrong.append(f"{module} ({here}) imports {imported} ({there}, a later stage)")
            if here in STAGES and there in {"evaluation", "cli"}:
                wrong.append(f"{module} imports {imported}")
    assert not wrong, "\n".join(wrong)


def test_no_two_modules_import_each_other() -> None:
    edges = {module: set() for module in MODULES}
    for module, path in MODULES.items():
        for imported, names in _imports(path):
            edges[module] |= {target for target in _targets(imported, names) if target in MODULES} - {module}
    pairs = sorted({tuple(sorted((a, b))) for a in edges for b in edges[a] if a in edges.get(b, set())
                    and not (a.startswith(b + ".") or b.startswith(a + "."))})
    assert not pairs, f"modules that import each other: {pairs}"


def test_no_module_reaches_into_another_stages_private_names() -> None:
    wrong = []
    for module, path in MODULES.items():
        here = _stage(module)
        for imported, names in _imports(path):
            if _stage(imported) == here:
                continue
            private = [name for name in names if name.startswith("_")]
            if private or any(part.startswith("_") and part != "__init__" for part in imported.split(".")):
                wrong.append(f"{module}: from {imported} import {', '.join(names)}")
    assert not wrong, "\n".join(wrong)


def test_other_stages_come_in_through_the_front_door() -> None:
    """Another stage's names come from its package (``from retrieval.index import build_index``),
    so a stage can reorganise its modules without breaking the others."""
    wrong = []
    for module, path in MODULES.items():
        here = _stage(module)
        for imported, names in _imports(path):
            there = _stage(imported)
            if there in STAGES + ["evaluation"] and there != here and imported.count(".") > 1:
                wrong.append(f"{module}: from {imported} import {', '.join(names)}")
    assert not wrong, "\n".join(wrong)


def test_no_module_is_too_long_to_read() -> None:
    """The package, its tests, the benchmarks and app.py (trained weights and test data are not modules)."""
    paths = [*MODULES.values(), ROOT / "app.py", *(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").glob("*.py")]
    long = {str(path.relative_to(ROOT)): n for path in paths if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"over {MAX_LINES} lines: {long}"


def test_app_py_only_wires() -> None:
    source = (ROOT / "app.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    functions = [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    assert set(functions) <= {"parse_args", "main"}, functions
    assert len(source.splitlines()) <= 80
    assert "import gradio" not in source
