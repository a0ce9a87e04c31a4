"""Sixth-round ideas for issue #4, replayed over a built seed index; none shipped (EVALUATION.md,
"Tried in the sixth round, not shipped"). Research code: it patches a Retriever at run time.

    .venv/bin/python -m retrieval build --corpus corpus --index /tmp/h-seed
    .venv/bin/python bench/sixth_round_experiments.py maxsim --index /tmp/h-seed
    .venv/bin/python bench/sixth_round_experiments.py filler --index /tmp/h-seed
    .venv/bin/python bench/sixth_round_experiments.py unknown-words --index /tmp/h-seed

- ``maxsim``: late interaction with MiniLM's token vectors (untrained ColBERT-style MaxSim) added to
  the fused score of the top 10 passages; hit@1 / hit@3 per weight.
- ``filler``: the question vector blended with the vector of the question stripped of filler.
- ``unknown-words``: for the 183 calibration questions, each question word the corpus does not
  contain, matched to its nearest corpus word by the model's vectors (lowest first).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from retrieval.config import Settings  # noqa: E402
from retrieval.evaluation.evaluate import evaluate  # noqa: E402
from retrieval.evaluation.metrics import load_questions, passage_hits_phrases  # noqa: E402
from retrieval.search.retriever import Retriever  # noqa: E402

SEED_QUESTIONS = ROOT / "tests" / "eval" / "seed_questions.jsonl"
FILLER = re.compile(
    r"\b(?:any tips|is that normal|what can i do|what should i do|how do i|how do you|how can i|can you|is it"
    r"|should i|whats|what is|what are|why|what|actually|really|just|please|wat|is there|anything|does|do|i|my"
    r"|me|a|an|the|and|or|it|is|are|can|could|would|will|of|to|for|with|on|in|at)\b",
    re.I,
)


def maxsim(retriever: Retriever) -> None:
    from sentence_transformers import SentenceTransformer

    from retrieval.index.embeddings import resolve_model_path

    model = SentenceTransformer(str(resolve_model_path(retriever.settings.model)), device="cpu")
    cache: dict[str, np.ndarray] = {}

    def tokens(text: str) -> np.ndarray:
        if text not in cache:
            vectors = np.asarray(model.encode(text, output_value="token_embeddings", convert_to_numpy=True))[1:-1]
            cache[text] = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return cache[text]

    rows = []
    for question in load_questions(SEED_QUESTIONS):
        if question.expect == "decline":
            continue
        passages = retriever.search(question.query, k=10).passages[:10]
        late = [float((tokens(question.query) @ tokens(p.chunk.text).T).max(axis=1).mean()) for p in passages]
        relevant = [passage_hits_phrases(p.chunk.text, question.any_of) for p in passages]
        rows.append((np.array([p.score for p in passages]), np.array(late), relevant))
    for weight in (0.0, 0.1, 0.3, 0.5, 1.0, 100.0):
        ranked = [[relevant[i] for i in np.argsort(-(fused + weight * late))] for fused, late, relevant in rows]
        print(f"weight {weight:>5}: hit@1 {np.mean([any(r[:1]) for r in ranked]):.3f}  hit@3 {np.mean([any(r[:3]) for r in ranked]):.3f}")


def filler(retriever: Retriever) -> None:
    encode = retriever.encode
    questions = load_questions(SEED_QUESTIONS)
    for weight in (0.0, 0.2, 0.35, 0.5):
        def blended(query: str, weight: float = weight) -> np.ndarray:
            vector = encode(query)
            if weight == 0:
                return vector
            stripped = re.sub(r"\s+", " ", FILLER.sub(" ", query)).strip() or query
            mixed = (1 - weight) * vector + weight * encode(stripped)
            return mixed / np.linalg.norm(mixed)

        retriever.encode = blended  # type: ignore[method-assign]
        result = evaluate(retriever, questions, mode="hybrid")
        print(f"weight {weight}: hit@1 {result.hit_at[1]:.3f}  hit@3 {result.hit_at[3]:.3f}  MRR {result.mrr:.3f}  "
              f"declined {result.declined:.3f}  wrongly {result.wrongly_declined:.3f}")


def unknown_words(retriever: Retriever) -> None:
    from calibrate_coverage import labelled_questions

    from retrieval.search.coverage import best_dense_score

    vocabulary = sorted({w for c in retriever.data.chunks for w in re.findall(r"[a-z]+", f"{c.title} {c.text}".lower())})
    vectors = np.asarray(retriever.embedder.embed(vocabulary), dtype=np.float32)
    known = set(vocabulary)
    lines = []
    for query, covered, _source in labelled_questions():
        words = [w for w in re.findall(r"[a-z]+", query.lower()) if len(w) > 3 and w not in known]
        if not words:
            continue
        similarities = np.asarray(retriever.embedder.embed(words), dtype=np.float32) @ vectors.T
        nearest = [(w, float(row.max()), vocabulary[int(row.argmax())]) for w, row in zip(words, similarities)]
        worst = min(n[1] for n in nearest)
        best = best_dense_score(retriever.search(query, k=10))
        matches = ", ".join(f"{w}->{v} {s:.2f}" for w, s, v in nearest)
        lines.append((worst, f"{worst:.2f} {'covered' if covered else 'OFF-TOPIC'} dense {best:.2f} {query} | {matches}"))
    for _worst, line in sorted(lines):
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment", choices=["maxsim", "filler", "unknown-words"])
    parser.add_argument("--index", type=Path, default=Path("/tmp/h-seed"))
    args = parser.parse_args()
    retriever = Retriever.load(dataclasses.replace(Settings(), index_dir=args.index))
    {"maxsim": maxsim, "filler": filler, "unknown-words": unknown_words}[args.experiment](retriever)


if __name__ == "__main__":
    main()
