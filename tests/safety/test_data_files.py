"""The safety wording and word lists are data files a clinician can review without reading
Python (retrieval/safety/data/*.yaml, retrieval/search/data/body_parts.yaml). Each is read and
checked at start-up; a malformed one stops the start with the file's name, the line and what is
wrong there, never a traceback or a silently weaker safety layer.

Each test copies the shipped file, breaks one line, and loads the copy with the real loader.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from retrieval.errors import DataFileError
from retrieval.safety.care import CARE_PATH, load_wording
from retrieval.safety.modifiers import MODIFIERS_PATH, load_modifiers
from retrieval.safety.normalise import SPELLING_PATH, load_spelling
from retrieval.safety.redflags import BANK_PATH, load_bank
from retrieval.search import anatomy

ROOT = Path(__file__).resolve().parents[2]


def _broken(tmp_path: Path, original: Path, old: str, new: str) -> tuple[Path, int]:
    """A copy of ``original`` with the first ``old`` replaced by ``new``; and that line's number."""
    text = original.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {original.name} any more: update this test"
    at = text.index(old)
    copy = tmp_path / original.name
    copy.write_text(text[:at] + new + text[at + len(old):], encoding="utf-8")
    return copy, text.count("\n", 0, at) + 1


def _fails_at(load: Callable[[Path], object], path: Path, line: int, *words: str) -> str:
    with pytest.raises(DataFileError) as caught:
        load(path)
    message = str(caught.value)
    assert f"{path.name}:{line}:" in message, message
    for word in words:
        assert word in message, message
    return message


def test_the_shipped_files_load_and_hold_the_whole_safety_layer() -> None:
    bank = load_bank()
    # the rules kept by the audit beside the classifier (red_flags.yaml's "rules:" comment)
    assert len(bank.findings) >= 10 and len(bank.rules) >= 9
    assert {rule.level for rule in bank.rules} == {"emergency", "urgent"}
    assert {"saddle_numbness", "crisis", "night_pain"} <= {rule.id for rule in bank.rules}
    wording = load_wording()
    assert set(wording.locales) == {"uk", "us", "eu"}
    assert "999" in wording.texts["disclaimer"].format(**vars(wording.locales["uk"]))
    assert load_spelling().token_fixes["u"] == "you"
    assert load_modifiers()["negation"].search("no")
    assert anatomy.body_parts("frozen shoulder") == frozenset({"shoulder"})


def test_a_pattern_that_does_not_compile_names_its_line(tmp_path: Path) -> None:
    path, line = _broken(tmp_path, BANK_PATH, "      - '{{fever}}'", "      - '{{fever}}(unclosed'")
    _fails_at(load_bank, path, line, "finding 'fever'", "not a valid regular expression")


def test_an_unknown_fragment_names_its_line(tmp_path: Path) -> None:
    path, line = _broken(tmp_path, BANK_PATH, "      - '{{fever}}'", "      - '{{feverr}}'")
    _fails_at(load_bank, path, line, "unknown fragment {{feverr}}")


def test_a_broken_fragment_is_named_at_its_own_line(tmp_path: Path) -> None:
    path, line = _broken(tmp_path, BANK_PATH, "  short_gap: '[^.!?;\\n]{0,25}?'", "  short_gap: '[^.!?;\\n{0,25}?'")
    _fails_at(load_bank, path, line, "fragment 'short_gap' is not a valid regular expression")


def test_a_rule_naming_a_finding_that_does_not_exist_names_its_line(tmp_path: Path) -> None:
    path, line = _broken(tmp_path, BANK_PATH, "all_of: [fever, back]", "all_of: [fever, bakc]")
    _fails_at(load_bank, path, line, "rule 'fever_with_back_pain'", "'bakc', which is not a finding")


def test_a_wrong_level_and_an_unknown_modifier_are_caught(tmp_path: Path) -> None:
    path, line = _broken(tmp_path, BANK_PATH, "{id: fever_with_back_pain, level: urgent", "{id: fever_with_back_pain, level: soon")
    _fails_at(load_bank, path, line, "level should be emergency or urgent")
    path, line = _broken(tmp_path, BANK_PATH, "  - id: fever\n    cancelled_by: [symptom]", "  - id: fever\n    cancelled_by: [sympton]")
    _fails_at(load_bank, path, line + 1, "unknown modifier 'sympton'")


def test_a_repeated_finding_or_key_is_refused(tmp_path: Path) -> None:
    path, line = _broken(tmp_path, BANK_PATH, "  - id: fever\n", "  - id: bowel\n")
    _fails_at(load_bank, path, line, "finding 'bowel' appears twice")
    path, line = _broken(tmp_path, CARE_PATH, "  night_pain: ", "  night_pain: 'twice'\n  night_pain: ")
    _fails_at(load_wording, path, line + 1, f"'night_pain' appears twice (first on line {line})")


def test_broken_yaml_names_its_line(tmp_path: Path) -> None:
    path, line = _broken(tmp_path, BANK_PATH, "all_of: [fever, back]", "all_of: [fever, back")
    with pytest.raises(DataFileError, match=r"red_flags\.yaml:\d+: not valid YAML") as caught:
        load_bank(path)
    reported = int(str(caught.value).split(".yaml:")[1].split(":")[0])
    assert abs(reported - line) <= 1


def test_care_wording_with_an_unknown_placeholder_or_a_missing_text_is_refused(tmp_path: Path) -> None:
    path, line = _broken(tmp_path, CARE_PATH, "In an emergency, call {emergency_number}.'", "In an emergency, call {emergency_phone}.'")
    _fails_at(load_wording, path, line, "unknown placeholder {emergency_phone}")
    path, line = _broken(tmp_path, CARE_PATH, "  safety_net: ", "  safety_nett: ")
    _fails_at(load_wording, path, line, "unknown key 'safety_nett'")
    path, line = _broken(tmp_path, CARE_PATH, "    doctor: 'doctor'\n", "")
    message = str(pytest.raises(DataFileError, load_wording, path).value)
    assert "region 'us' lacks doctor" in message and "care.yaml:" in message


def test_the_spelling_modifier_and_body_part_lists_are_checked_too(tmp_path: Path) -> None:
    path, line = _broken(tmp_path, SPELLING_PATH, "  - ['\\bwon''?t\\b', 'will not']", "  - ['\\bwon''?t\\b(', 'will not']")
    _fails_at(load_spelling, path, line, "rewrite 3", "not a valid regular expression")
    path, line = _broken(tmp_path, MODIFIERS_PATH, "  post_negation: ", "  post_negations: ")
    _fails_at(load_modifiers, path, line, "unknown key 'post_negations'")
    path, line = _broken(tmp_path, anatomy.BODY_PARTS_PATH, "'knees?'", "'knees?('")
    with pytest.raises(DataFileError, match=r"body_parts\.yaml:\d+: part 'knee': words is not a valid regular expression"):
        anatomy._load(path)


def test_the_cli_stops_with_the_file_and_line_not_a_traceback(tmp_path: Path, seed_index) -> None:  # type: ignore[no-untyped-def]
    """The real start: a copy of the package whose red-flag bank has one bad line."""
    shutil.copytree(ROOT / "retrieval", tmp_path / "retrieval", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "models", tmp_path / "models")
    bank = tmp_path / "retrieval" / "safety" / "data" / "red_flags.yaml"
    _, line = _broken(tmp_path / "retrieval" / "safety" / "data", BANK_PATH, "      - '{{fever}}'", "      - '{{fever}}('")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "retrieval", "ask", "my back hurts", "--index", str(seed_index.index_dir)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"error: retrieval/safety/data/red_flags.yaml:{line}: finding 'fever', pattern 1 is not a valid regular expression" in result.stderr
    assert "git checkout -- retrieval/safety/data/red_flags.yaml" in result.stderr
    assert bank.exists()


def test_the_app_stops_with_the_file_and_line_not_a_traceback(tmp_path: Path) -> None:
    """``python app.py`` with a care card text naming a placeholder the code does not fill."""
    shutil.copytree(ROOT / "retrieval", tmp_path / "retrieval", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "app.py", tmp_path / "app.py")
    _, line = _broken(tmp_path / "retrieval" / "safety" / "data", CARE_PATH, "call {emergency_number}.'", "call {emergency_phone}.'")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "HF_HUB_OFFLINE": "1", "RETRIEVAL_WATCH": "off"}
    result = subprocess.run(
        [sys.executable, "app.py", "--port", "1", "--index", str(tmp_path / "index")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"error: retrieval/safety/data/care.yaml:{line}: text 'disclaimer': unknown placeholder {{emergency_phone}}" in result.stderr
    assert not (tmp_path / "index").exists(), "nothing is built or served with a broken safety layer"
