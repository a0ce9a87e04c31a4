"""The independent writers' questions as retrieval test sets, each over its own corpus.

- ``consumer-<w>``: a consumer writer's 10 articles, written out as text files (title, then
  the paragraphs) and built with the product's own ``build`` (cleaning and chunking included);
  a hit is a shown passage that holds most of the paragraph the question was written for
  (:func:`holds_paragraph`).
- ``medquad-<w>``: a MedQuAD writer's questions ranked over all 1,306 MedQuAD passages of the
  relevance data (one file per passage, so any writer's passage can be shown); a hit is the
  passage the question was written for.
- ``seed-<w>`` and ``medquad_lay-M``: the project's own independent writers' key-phrase and
  file-level sets (``tests/data/independent``), read with ``load_questions``.

:func:`writer_sets` writes the corpora under a cache folder once and returns the sets; the
evaluation (``evaluation/writers.py``) builds each corpus and asks every question.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.evaluation.training_data import OWN_DATA, LayQuestion, lay_questions, shared_train, writer_split

ROOT = Path(__file__).resolve().parents[2]
SEED_CORPUS = ROOT / "corpus"
MEDQUAD_SMALL = ROOT.parent / "shared" / "eval" / "medquad" / "corpus_small"
HOLDS_MOST = 0.5  # share of the paragraph's word trigrams a passage must hold to answer it
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class SetQuestion:
    text: str
    level: str = "none"  # the independent triage label, where there is one
    paragraph: str = ""  # consumer: the paragraph that answers it
    files: tuple[str, ...] = ()  # medquad: the file(s) that answer it
    phrases: tuple[str, ...] = ()  # seed: verbatim key phrases
    expect: str = "answer"  # or "decline"

    def is_hit(self, passage_text: str, source: str) -> bool:
        if self.files:
            return Path(source).name in self.files
        if self.phrases:
            from retrieval.evaluation.metrics import passage_hits_phrases

            return passage_hits_phrases(passage_text, self.phrases)
        return holds_paragraph(passage_text, self.paragraph)


@dataclass(frozen=True)
class WriterSet:
    name: str  # "consumer-j", "medquad-11", "seed-B", ...
    corpus: Path
    questions: tuple[SetQuestion, ...] = field(repr=False)
    test: bool = False  # a frozen test writer (retrieval/evaluation/data/writer_split.yaml)


def trigrams(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i:i + 3]) for i in range(max(len(words) - 2, 0))} or ({tuple(words)} if words else set())


def holds_paragraph(passage: str, paragraph: str, share: float = HOLDS_MOST) -> bool:
    """Whether ``passage`` holds most of ``paragraph``: at least ``share`` of its word trigrams
    (robust to the cleaner's small edits and to a chunk boundary inside a long paragraph).

    >>> holds_paragraph("Intro. Heat helps a stiff back in the morning. Ice is for new injuries.",
    ...                 "Heat helps a stiff back in the morning.")
    True
    >>> holds_paragraph("Something else entirely about pillows.", "Heat helps a stiff back in the morning.")
    False
    """
    wanted = trigrams(paragraph)
    return bool(wanted) and len(wanted & trigrams(passage)) >= share * len(wanted)


def _write(folder: Path, name: str, text: str) -> None:
    file = folder / name
    if not file.exists() or file.read_text(encoding="utf-8") != text:
        file.write_text(text, encoding="utf-8")


def consumer_articles() -> dict[str, dict]:
    """article_id -> {"title", "paragraphs", "writer", "style"} for every consumer writer (the
    shared writers', then the project's own in ``tests/data/independent/consumer``)."""
    articles = {}
    own = sorted((OWN_DATA / "consumer").glob("articles_*.jsonl"))
    for file in sorted((shared_train() / "relevance" / "consumer").glob("articles_*.jsonl")) + own:
        writer = file.stem.split("_", 1)[1]
        for line in file.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            articles[row["article_id"]] = {"title": row["title"], "paragraphs": row["paragraphs"], "writer": writer,
                                           "style": row.get("style", "")}
    return articles


def medquad_passages() -> dict[str, dict]:
    """pid -> {"title", "passage", "doc_id"} over every MedQuAD writer's passage file."""
    passages = {}
    for file in sorted((shared_train() / "relevance" / "medquad").glob("passages_*.jsonl")):
        for line in file.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            passages[row["pid"]] = {"title": row["title"], "passage": row["passage"], "doc_id": row["doc_id"]}
    return passages


def article_text(article: dict) -> str:
    """A consumer article as a text file: its title, then its paragraphs."""
    return article["title"].strip() + "\n\n" + "\n\n".join(p.strip() for p in article["paragraphs"]) + "\n"


def consumer_set(writer: str, cache: Path, questions: Sequence[LayQuestion], articles: dict[str, dict],
                 not_covered: Sequence[dict] = ()) -> WriterSet:
    """A consumer writer's set; ``not_covered`` (``not_covered_questions()``, read once by the
    caller) adds the questions written for this writer's articles that should be declined."""
    folder = cache / f"consumer-{writer}" / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    for article_id, article in articles.items():
        if article["writer"] == writer:
            _write(folder, f"{article_id}.txt", article_text(article))
    asked = []
    for q in questions:
        article_id, para = q.passage.split("#")
        asked.append(SetQuestion(q.text, q.level, paragraph=articles[article_id]["paragraphs"][int(para)]))
    asked += [SetQuestion(q["query"], expect="decline") for q in not_covered if q["corpus"] == writer]
    return WriterSet(f"consumer-{writer}", folder, tuple(asked), writer_split().is_test("consumer", writer))


def not_covered_questions() -> list[dict]:
    """The own "not covered" writers' questions: ``{"corpus", "query", "expect": "decline", "topic"}``,
    each asked of one consumer writer's articles (``corpus`` is that writer's letter)."""
    rows = []
    for file in sorted((OWN_DATA / "notcovered").glob("writer*.jsonl")):
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                if row.get("expect") != "decline" or not str(row.get("query", "")).strip() or not row.get("corpus"):
                    raise ValueError(f"{file}:{number}: expected a decline line with \"corpus\" and \"query\"")
                rows.append({**row, "writer": file.stem.removeprefix("writer")})
    return rows


def medquad_corpus(cache: Path, passages: dict[str, dict]) -> Path:
    folder = cache / "medquad-passages" / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    for pid, p in passages.items():
        _write(folder, f"{pid}.txt", f"{p['title'].strip()}\n\n{p['passage'].strip()}\n")
    return folder


def writer_sets(cache: Path, *, which: str = "test", include: Callable[[str], bool] | None = None) -> list[WriterSet]:
    """The sets of the test writers (``which="test"``), the others (``"dev"``) or all of them.
    ``include(name)`` narrows further (e.g. only consumer sets)."""
    from retrieval.evaluation.questions import load_questions

    split = writer_split()
    keep = {"test": lambda test: test, "dev": lambda test: not test, "all": lambda test: True}[which]
    sets: list[WriterSet] = []
    by_writer: dict[tuple[str, str], list[LayQuestion]] = {}
    for q in lay_questions():
        by_writer.setdefault((q.corpus, q.writer), []).append(q)
    articles = consumer_articles()
    not_covered = not_covered_questions()
    passages = None
    for (corpus, writer), questions in sorted(by_writer.items()):
        name = f"{corpus}-{writer}"
        if not keep(split.is_test(corpus, writer)) or (include and not include(name)):
            continue
        if corpus == "consumer":
            sets.append(consumer_set(writer, cache, questions, articles, not_covered))
        else:
            passages = passages or medquad_passages()
            folder = medquad_corpus(cache, passages)
            asked = tuple(SetQuestion(q.text, q.level, files=(f"{q.passage}.txt",)) for q in questions)
            sets.append(WriterSet(name, folder, asked, split.is_test("medquad", writer)))
    for file in sorted((OWN_DATA / "seed").glob("writer*.jsonl")):
        writer = file.stem.removeprefix("writer")
        name = f"seed-{writer}"
        if keep(split.is_test("seed", writer)) and (not include or include(name)):
            asked = tuple(SetQuestion(q.query, phrases=q.any_of, expect=q.expect) for q in load_questions(file))
            sets.append(WriterSet(name, SEED_CORPUS, asked, split.is_test("seed", writer)))
    lay_file = OWN_DATA / "medquad" / "writerM.jsonl"
    if which != "test" and MEDQUAD_SMALL.is_dir() and (not include or include("medquad_lay-M")):
        asked = tuple(SetQuestion(q.query, files=tuple(Path(f).name for f in q.relevant)) for q in load_questions(lay_file))
        sets.append(WriterSet("medquad_lay-M", MEDQUAD_SMALL, asked, False))
    return sets
