"""Sweep chunk size, overlap and title embedding on an evaluation set; print one row per setting.

    .venv/bin/python bench/sweep_chunking.py tests/eval/seed_questions.jsonl corpus
    .venv/bin/python bench/sweep_chunking.py ../shared/eval/medquad/qrels_small.jsonl ../shared/eval/medquad/corpus_small

Each setting builds a real index (real model) in a temporary folder; the model is loaded once.
"""

from __future__ import annotations

import itertools
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.config import Settings  # noqa: E402
from retrieval.index.embeddings import SentenceTransformerEmbedder  # noqa: E402
from retrieval.evaluation.evaluate import evaluate  # noqa: E402
from retrieval.index.build import build_index  # noqa: E402
from retrieval.evaluation.questions import load_questions  # noqa: E402
from retrieval.search.retriever import Retriever  # noqa: E402


def main() -> None:
    questions = load_questions(sys.argv[1])
    corpus = Path(sys.argv[2])
    sizes = [int(s) for s in (sys.argv[3].split(",") if len(sys.argv) > 3 else ["96", "128", "160", "200", "256"])]
    embedder = SentenceTransformerEmbedder()
    print(f"{'tokens':>6} {'overlap':>7} {'title':>5} {'mode':<7} {'hit@1':>6} {'hit@3':>6} {'hit@5':>6} {'MRR':>6} {'decl':>6} {'wrong':>6} {'chunks':>6}")
    for tokens, overlap, title in itertools.product(sizes, [1], [True, False]):
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(corpus_dir=corpus, index_dir=Path(tmp), chunk_tokens=tokens, overlap_sentences=overlap, embed_title=title)
            report = build_index(settings, embedder=embedder)
            retriever = Retriever.load(settings, embedder=embedder)
            for mode in ("hybrid", "dense", "bm25"):
                r = evaluate(retriever, questions, mode=mode)
                print(f"{tokens:>6} {overlap:>7} {str(title):>5} {mode:<7} {r.hit_at[1]:>6.3f} {r.hit_at[3]:>6.3f} {r.hit_at[5]:>6.3f} "
                      f"{r.mrr:>6.3f} {r.declined:>6.3f} {r.wrongly_declined:>6.3f} {report.chunks:>6}", flush=True)


if __name__ == "__main__":
    main()
