"""The independent training data, read where it lives, split by writer.

Two sources, never copied into the repository:

- ``../shared/train`` beside the project (``RETRIEVAL_TRAIN_DATA`` names another folder): the
  red-flag messages of writers 1-3 and the 8,325 lay questions of 31 writers, each with the
  passage that answers it and a triage level set by independent labellers (its README says
  how it was written);
- ``tests/data/independent``: the project's own independent writers (helper sessions briefed
  the same way; red-flag writers 4-6, seed and MedQuAD question sets).

``data/writer_split.yaml`` names the writers held out for testing; :func:`held_out` reads it.
Every reader returns plain dataclasses carrying their writer, so a caller can never split by
line by accident.

>>> split = writer_split()
>>> "writer2" in split.test["redflag"]
True
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OWN_DATA = ROOT / "tests" / "data" / "independent"
SPLIT_FILE = Path(__file__).resolve().parent / "data" / "writer_split.yaml"
_LEVELS = ("none", "urgent", "emergency")


class TrainingDataMissing(FileNotFoundError):
    """The shared training data is not where it should be."""


def shared_train() -> Path:
    """The shared training data folder, or TrainingDataMissing saying how to point at it."""
    folder = Path(os.environ.get("RETRIEVAL_TRAIN_DATA", ROOT.parent / "shared" / "train")).expanduser()
    if not (folder / "redflag_messages").is_dir() or not (folder / "relevance").is_dir():
        raise TrainingDataMissing(
            f"no training data in {folder} (expected redflag_messages/ and relevance/): put the shared "
            "folder beside the project (../shared/train) or set RETRIEVAL_TRAIN_DATA to its path"
        )
    return folder


@dataclass(frozen=True)
class WriterSplit:
    test: dict[str, tuple[str, ...]]  # source -> the writers held out for testing
    # source -> writers never trained on by the relevance encoder (not test: they decide what it learns from)
    encoder_holdout: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def is_test(self, source: str, writer: str) -> bool:
        return writer in self.test.get(source, ())

    def is_trained_on(self, source: str, writer: str) -> bool:
        """Whether the relevance encoder may learn from this writer (neither test nor held out)."""
        return not self.is_test(source, writer) and writer not in self.encoder_holdout.get(source, ())


@lru_cache(maxsize=1)
def writer_split() -> WriterSplit:
    from retrieval.datafiles import read_yaml

    data = read_yaml(SPLIT_FILE)
    def writers(key: str) -> dict[str, tuple[str, ...]]:
        return {source: tuple(str(w) for w in names) for source, names in (data.get(key) or {}).items()}

    return WriterSplit(writers("test"), writers("encoder_holdout"))


@dataclass(frozen=True)
class FlagMessage:
    """One labelled red-flag message: ``group`` is a group of ``learned_flags.GROUP_LEVELS``."""

    writer: str
    group: str
    text: str
    source: str  # file:line

    @property
    def level(self) -> str:
        from retrieval.safety import GROUP_LEVELS

        return GROUP_LEVELS[self.group]


@dataclass(frozen=True)
class LayQuestion:
    """One lay question with the passage that answers it and its independent triage level."""

    corpus: str  # "medquad" | "consumer"
    writer: str  # "01".."12" for MedQuAD, "a".."v" for consumer
    text: str
    level: str  # "none" | "urgent" | "emergency"
    passage: str  # the id of the answering passage: a MedQuAD pid, or "article_id#para"
    negative: str = ""  # the writer's hard negative, same form ("" when none)
    style: str = ""

    @property
    def key(self) -> str:
        return f"{self.corpus}-{self.writer}"


def read_flag_file(path: Path, writer: str) -> list[FlagMessage]:
    from retrieval.safety import GROUP_LEVELS

    messages = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        group, sep, text = line.partition("|")
        if not sep or group not in GROUP_LEVELS or not text.strip():
            raise ValueError(f"{path}:{number}: expected 'group|message' with a known group, got {line[:80]!r}")
        messages.append(FlagMessage(writer, group, text.strip(), f"{path.name}:{number}"))
    return messages


def flag_messages() -> list[FlagMessage]:
    """Every independent writer's red-flag messages: writer1-3 (shared), writer4-6 (own)."""
    files = sorted((shared_train() / "redflag_messages").glob("writer*.txt"))
    files += sorted((OWN_DATA / "redflag").glob("writer*.txt"))
    return [m for file in files for m in read_flag_file(file, file.stem)]


def lay_questions() -> list[LayQuestion]:
    """The relevance writers' questions (SKIP lines dropped), in file order: the shared writers',
    then the project's own consumer writers' (``tests/data/independent/consumer``, same format)."""
    out = []
    own = sorted((OWN_DATA / "consumer").glob("questions_*.jsonl"))
    for file in sorted((shared_train() / "relevance").glob("*/questions_*.jsonl")) + own:
        corpus, writer = file.parent.name, file.stem.split("_", 1)[1]
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            row = json.loads(line)
            if row.get("question") == "SKIP" or row.get("level") not in _LEVELS:
                continue
            if corpus == "medquad":
                passage, negative = row["pid"], ""
            else:
                passage = f"{row['article_id']}#{row['para']}"
                negative = f"{row['neg_article_id']}#{row['neg_para']}" if "neg_article_id" in row else ""
            out.append(LayQuestion(corpus, writer, row["question"].strip(), row["level"], passage, negative,
                                   str(row.get("style", ""))))
    return out
