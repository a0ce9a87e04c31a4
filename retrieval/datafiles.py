"""Reading the YAML data files (lexicons, banks, wording) with the line of every value, so that
a malformed entry is reported as ``file:line: what is wrong`` instead of a traceback.

:func:`read_yaml` returns plain dicts, lists and strings; each dict and list also carries
``.line`` (where it starts) and ``.lines`` (the line of each key or item). :class:`Checker`
holds the few checks every file needs (the right type, known keys, a regular expression that
compiles) and raises :class:`~retrieval.errors.DataFileError` naming the line.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from retrieval.errors import DataFileError


class LineDict(dict):  # type: ignore[type-arg]
    """A YAML mapping: ``.line`` is where it starts, ``.lines[key]`` where each value starts."""

    line = 0
    lines: dict[Any, int]


class LineList(list):  # type: ignore[type-arg]
    """A YAML sequence: ``.line`` is where it starts, ``.lines[i]`` where item ``i`` starts."""

    line = 0
    lines: list[int]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (no Python objects), keeping line numbers and refusing repeated keys."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line, out.lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise DataFileError(loader.name, key_node.start_mark.line + 1, f"{key!r} appears twice (first on line {out.lines[key]})")
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = value_node.start_mark.line + 1
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line, out.lines = node.start_mark.line + 1, [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def read_yaml(path: Path) -> LineDict:
    """The mapping at the top of ``path``; :class:`DataFileError` if it is missing or malformed."""
    shown = _shown(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DataFileError(shown, None, f"cannot be read ({error})") from error
    loader = _Loader(text)
    loader.name = shown
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise DataFileError(shown, mark.line + 1 if mark else None, f"not valid YAML: {error.problem or error.context}") from error
    except yaml.YAMLError as error:
        raise DataFileError(shown, None, f"not valid YAML: {error}") from error
    finally:
        loader.dispose()
    if not isinstance(data, LineDict):
        raise DataFileError(shown, 1, "should hold a mapping of names to entries at the top level")
    return data


def _shown(path: Path) -> str:
    """The path relative to the repository when it is inside it (shorter messages)."""
    try:
        return str(path.resolve().relative_to(Path(__file__).resolve().parents[1]))
    except ValueError:
        return str(path)


PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")  # {{name}}: a fragment, in the lexicon files


class Checker:
    """Checks for one data file; every failure names the file and the line."""

    def __init__(self, path: Path) -> None:
        self.path = _shown(path)

    def fail(self, line: int | None, problem: str) -> DataFileError:
        return DataFileError(self.path, line, problem)

    def mapping(self, parent: LineDict | LineList, key: Any, what: str, *, allowed: Iterable[str] = (), required: Iterable[str] = ()) -> LineDict:
        """``parent[key]``, which must be a mapping with the ``required`` keys and no key outside
        ``allowed`` and ``required`` (any key when both are empty)."""
        value = parent[key]
        if not isinstance(value, LineDict):
            raise self.fail(_line(parent, key), f"{what} should be a mapping (key: value lines)")
        self.keys(value, what, allowed=allowed, required=required)
        return value

    def keys(self, value: LineDict, what: str, *, allowed: Iterable[str] = (), required: Iterable[str] = ()) -> None:
        """Fail on a key outside ``allowed`` and ``required`` (named at its line), then on a
        missing required key."""
        allowed = set(allowed) | set(required)
        unknown = [name for name in value if allowed and name not in allowed]
        if unknown:  # first: a misspelt key is also a missing one, and this names its line
            raise self.fail(value.lines[unknown[0]], f"{what} has an unknown key {unknown[0]!r} (known: {', '.join(sorted(allowed))})")
        missing = [name for name in required if name not in value]
        if missing:
            raise self.fail(value.line, f"{what} lacks {', '.join(missing)}")

    def strings(self, parent: LineDict | LineList, key: Any, what: str, *, allow_empty: bool = False) -> list[str]:
        value = parent[key]
        if not isinstance(value, LineList) or not (value or allow_empty):
            raise self.fail(_line(parent, key), f"{what} should be a{'' if allow_empty else ' non-empty'} list")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(value.lines[i], f"{what}: item {i + 1} should be non-empty text")
        return list(value)

    def string(self, parent: LineDict | LineList, key: Any, what: str) -> str:
        value = parent[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(_line(parent, key), f"{what} should be non-empty text")
        return value

    def regex(self, pattern: str, line: int | None, what: str) -> re.Pattern[str]:
        try:
            return re.compile(pattern)
        except re.error as error:
            raise self.fail(line, f"{what} is not a valid regular expression: {error}") from error

    def fill(self, text: str, fragments: dict[str, str], line: int | None, what: str) -> str:
        """``text`` with every ``{{name}}`` replaced by ``fragments[name]``; an unknown name fails."""

        def fragment(match: re.Match[str]) -> str:
            if match.group(1) not in fragments:
                raise self.fail(line, f"{what}: unknown fragment {{{{{match.group(1)}}}}} (known: {', '.join(fragments)})")
            return fragments[match.group(1)]

        return PLACEHOLDER.sub(fragment, text)


def _line(parent: LineDict | LineList, key: Any) -> int | None:
    try:
        return parent.lines[key]
    except (KeyError, IndexError, AttributeError):
        return getattr(parent, "line", None)
