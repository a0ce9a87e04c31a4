"""Follow-up handling per kind of message, on the labelled conversations.

    .venv/bin/python bench/eval_followups.py                  # own set (tests/data/followups/own_labelled.jsonl)
    .venv/bin/python bench/eval_followups.py --writer-f       # the independent writer's frozen set
    .venv/bin/python bench/eval_followups.py --alone          # every message answered on its own

Prints one Markdown table per set (EVALUATION.md, "Follow-up questions"). What counts as right
for each kind is in tests/answer/followup_scoring.py.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writer-f", action="store_true", help="score the independent writer's frozen set")
    parser.add_argument("--alone", action="store_true", help="answer every message on its own (no follow-ups)")
    args = parser.parse_args()

    from retrieval.answer import answer_question
    from retrieval.answer.followup import Turn, answer_turn
    from retrieval.config import Settings
    from retrieval.index import SentenceTransformerEmbedder, build_index
    from retrieval.search import Retriever
    from tests.answer.followup_scoring import OWN, WRITER_F, read_conversations, score, table

    def alone(ask, question, previous):  # type: ignore[no-untyped-def]
        return Turn(question, question), ask(question)

    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(ROOT / "corpus", Path(folder) / "corpus")
        settings = Settings(corpus_dir=Path(folder) / "corpus", index_dir=Path(folder) / "index")
        embedder = SentenceTransformerEmbedder(settings.model, backend=settings.backend)
        build_index(settings, embedder=embedder)
        retriever = Retriever.load(settings, embedder=embedder)
        path = WRITER_F if args.writer_f else OWN
        tally = score(read_conversations(path), lambda text: answer_question(retriever, text), alone if args.alone else answer_turn)
    print(f"{path.relative_to(ROOT)} ({'each message alone' if args.alone else 'follow-up rule'})\n")
    print(table(tally))


if __name__ == "__main__":
    main()
