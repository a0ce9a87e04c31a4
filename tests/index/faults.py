"""What the fault tests share (test_faults.py, test_faults_index.py): the corpus change they make,
the questions they ask, the CLI run as a real process, and the checks on what a fault leaves."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from retrieval.answer import answer_question
from retrieval.config import Settings
from retrieval.search import Retriever

ROOT = Path(__file__).resolve().parents[2]
MEDQUAD = Path(__file__).resolve().parents[1] / "data" / "medquad_subset"
SEED = ["back-pain-relief-sleep-posture.txt", "low-back-pain-and-exercise.txt", "waist-and-leg-soreness.txt"]
REMOVED = "waist-and-leg-soreness.txt"
ADDED = "cycling-and-stenosis.md"
ADDED_TEXT = """# Cycling with spinal stenosis

Cycling with a slight forward lean often suits people with lumbar spinal stenosis, because bending
forward opens the spinal canal and eases the leg pain that walking brings on.

A stationary bike lets you build up slowly: start with ten minutes at an easy pace and add a few
minutes each week while the leg symptoms stay settled.

Stop and see your doctor if cycling brings on numbness that does not fade after you rest.
"""
QUESTIONS = [
    "How should I sleep with low back pain?",
    "Is lack of exercise a cause of low back pain?",
    "What is waist and leg soreness?",
    "Does cycling help spinal stenosis leg pain?",
]
STEPS = ["read", "embed", "write:chunks", "write:vectors", "write:faiss", "write:bm25", "write:sentences", "before-manifest", "after-manifest"]
# For this one the checks after the kill use the CLI itself; the others use the same code
# in-process, which prints the same JSON and saves a model load per check.
CLI_CHECKED = {"before-manifest"}


def cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RETRIEVAL_")}
    environment.update(HF_HUB_OFFLINE="1", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "retrieval", *args], input=stdin, capture_output=True, text=True, cwd=ROOT, env=environment, timeout=timeout
    )


def cli_answers(index: Path, env: dict[str, str] | None = None) -> list[dict]:
    result = cli("ask", "--json", "--index", str(index), stdin="\n".join(QUESTIONS) + "\n", env=env)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def answers(index: Path, embedder) -> list[dict]:  # type: ignore[no-untyped-def]
    retriever = Retriever.load(Settings(index_dir=index), embedder=embedder)
    return [answer_question(retriever, question).to_json() for question in QUESTIONS]


def one_line_error(result: subprocess.CompletedProcess[str], *phrases: str) -> str:
    """Assert a failed command printed one friendly line (no traceback) holding ``phrases``."""
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for phrase in phrases:
        assert phrase in lines[0], (phrase, lines[0])
    return lines[0]


def change_corpus(corpus: Path) -> None:
    (corpus / ADDED).write_text(ADDED_TEXT, encoding="utf-8")
    (corpus / REMOVED).unlink()


def stray_entries(index: Path) -> list[str]:
    """Anything in the index folder that is neither the manifest, the lock, nor a generation
    the manifest names (current or previous)."""
    manifest = json.loads((index / "manifest.json").read_text())
    wanted = {"manifest.json", ".lock", manifest["generation"], manifest.get("previous_generation", "")}
    return sorted(entry.name for entry in index.iterdir() if entry.name not in wanted)


@dataclass(frozen=True)
class Library:
    corpus: Path
    index: Path

    def copy_to(self, target: Path) -> Library:
        shutil.copytree(self.corpus, target / "corpus", symlinks=True)
        shutil.copytree(self.index, target / "index", ignore=shutil.ignore_patterns(".lock"))
        return Library(target / "corpus", target / "index")


@dataclass(frozen=True)
class Reference:
    old: Library
    old_answers: list[dict]  # the CLI's answers from the old index
    new_answers: list[dict]  # the CLI's answers after a normal incremental build of the change
