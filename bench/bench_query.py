"""Query speed against its floor, per backend and corpus size, with exact vs approximate search.

    .venv/bin/python bench/bench_query.py                               # seed and MedQuAD small
    .venv/bin/python bench/bench_query.py --corpora seed,small,large --backends torch,onnx,onnx-int8

For each corpus (index built once per backend into bench/data/, updated incrementally) and
backend, with the model loaded once, every question (tests/eval/seed_questions.jsonl plus the
MedQuAD qrels_small questions: 453) is timed twice, alternately:

- answer: ``retrieval.answer.assemble.answer_question`` (triage, search, coverage, highlight), as ``ask``
  does for each stdin line;
- floor: ``embedder.embed([q])`` + ``faiss_index.search`` (top 10), nothing else.

Reported: p50/p95 of each, their ratio, a per-stage breakdown of answer (a separate pass,
timed by wrapping the functions), the whole ``ask`` process in batch mode (startup, then per
question), retrieval quality (hit@k with ``retrieval.evaluation.evaluate.evaluate``) and cosine
agreement of each backend's embeddings with torch's; then exact (flat) vs HNSW search:
recall@10 and latency at the real sizes and at synthetic larger sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from retrieval.config import Settings  # noqa: E402
from retrieval.evaluation.questions import load_questions  # noqa: E402

MEDQUAD = Path("/work/shared/eval/medquad")
DATA = ROOT / "bench" / "data"
CORPORA = {"seed": ROOT / "corpus", "small": MEDQUAD / "corpus_small", "large": DATA / "corpus_large"}
SEED_QUESTIONS = ROOT / "tests" / "eval" / "seed_questions.jsonl"
QRELS = MEDQUAD / "qrels_small.jsonl"
# The question set each corpus is scored on (qrels files exist in the large corpus too).
QUALITY_SET = {"seed": SEED_QUESTIONS, "small": QRELS, "large": QRELS}


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def get_index(corpus: str, backend: str, embedder) -> Path:  # type: ignore[no-untyped-def]
    """bench/data/index-<corpus>-<backend>, brought up to date (cheap when nothing changed)."""
    from retrieval.index.build import build_index

    index = DATA / f"index-{corpus}-{backend}"
    started = time.perf_counter()
    report = build_index(Settings(corpus_dir=CORPORA[corpus], index_dir=index, backend=backend), embedder=embedder)
    if report.wrote_index:
        print(f"  built {index.name}: {report.chunks} chunks in {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)
    return index


class SameFingerprint:
    """An embedder that reports another fingerprint, so a backend can be timed on an index a
    different backend built (latency only: the vectors differ slightly, quality is not scored)."""

    def __init__(self, embedder, fingerprint: str) -> None:  # type: ignore[no-untyped-def]
        self._embedder, self.fingerprint = embedder, fingerprint

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._embedder, name)


def time_queries(retriever, questions: list[str]) -> dict:  # type: ignore[no-untyped-def]
    from retrieval.answer.assemble import answer_question

    embedder, faiss_index = retriever.embedder, retriever.data.faiss_index
    k = retriever.settings.top_k

    def floor(q: str) -> None:
        vector = embedder.embed([q])
        faiss_index.search(vector, 10)

    for q in questions[:10]:  # warm-up
        answer_question(retriever, q, k=k)
        floor(q)
    answer_ms, floor_ms = [], []
    for i, q in enumerate(questions):
        pair = [("answer", lambda: answer_question(retriever, q, k=k)), ("floor", lambda: floor(q))]
        for label, call in pair if i % 2 else pair[::-1]:
            begin = time.perf_counter()
            call()
            (answer_ms if label == "answer" else floor_ms).append(1000 * (time.perf_counter() - begin))
    return {
        "n": len(questions),
        "answer_p50": pct(answer_ms, 50), "answer_p95": pct(answer_ms, 95),
        "floor_p50": pct(floor_ms, 50), "floor_p95": pct(floor_ms, 95),
        "ratio_p50": pct(answer_ms, 50) / pct(floor_ms, 50), "ratio_p95": pct(answer_ms, 95) / pct(floor_ms, 95),
        "ratio_of_sums": sum(answer_ms) / sum(floor_ms),
    }


def stage_breakdown(retriever, questions: list[str]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Median milliseconds per question spent in each step of answer_question (wrapped functions)."""
    import retrieval.answer.assemble as answer
    import retrieval.search.retriever as search

    per_question: dict[str, list[float]] = {}
    current: dict[str, float] = {}
    originals = []

    def timed(owner, name: str, label: str) -> None:  # type: ignore[no-untyped-def]
        original = getattr(owner, name)
        originals.append((owner, name, original))

        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            begin = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                current[label] = current.get(label, 0.0) + 1000 * (time.perf_counter() - begin)

        setattr(owner, name, wrapper)

    timed(answer, "assess", "triage")
    timed(type(retriever), "encode", "encode query")
    timed(search, "dense_scores", "dense scores")
    timed(search, "lexical_scores", "BM25")
    timed(search, "diversify", "diversify")
    timed(type(retriever), "search", "search (all)")
    timed(answer, "assess_coverage", "coverage")
    timed(answer, "_with_highlight", "highlight")
    timed(answer, "compose_message", "compose message")
    try:
        for q in questions:
            current.clear()
            begin = time.perf_counter()
            answer.answer_question(retriever, q, k=retriever.settings.top_k)
            current["answer (all)"] = 1000 * (time.perf_counter() - begin)
            for label, ms in current.items():
                per_question.setdefault(label, []).append(ms)
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    # Questions that stop at triage never search: report medians over the questions that ran each step.
    return {label: statistics.median(values) for label, values in per_question.items()} | {
        "questions searched": float(len(per_question.get("search (all)", [])))
    }


def cli_batch(index: Path, backend: str, questions: list[str]) -> dict:
    """``python -m retrieval ask --json`` reading questions from stdin: startup and per-question cost."""
    env = dict(os.environ, RETRIEVAL_BACKEND=backend, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))

    def run(lines: list[str]) -> float:
        begin = time.perf_counter()
        subprocess.run([sys.executable, "-m", "retrieval", "ask", "--json", "--index", str(index)], input="\n".join(lines) + "\n",
                       text=True, capture_output=True, check=True, env=env, cwd=ROOT)
        return time.perf_counter() - begin

    one = statistics.median(run(questions[:1]) for _ in range(2))
    everything = run(questions)
    return {"startup_s": one, "all_s": everything, "per_question_ms": 1000 * (everything - one) / (len(questions) - 1)}


def quality(retriever, corpus: str) -> dict:  # type: ignore[no-untyped-def]
    from retrieval.evaluation.evaluate import evaluate

    questions = load_questions(QUALITY_SET[corpus])
    out = {"set": QUALITY_SET[corpus].name}
    for mode in ("hybrid", "dense"):
        r = evaluate(retriever, questions, mode=mode)
        out[mode] = {"hit@1": r.hit_at.get(1, 0.0), "hit@3": r.hit_at.get(3, 0.0), "hit@5": r.hit_at.get(5, 0.0),
                     "hit@10": r.hit_at.get(10, 0.0), "mrr": r.mrr, "declined": r.declined, "wrongly_declined": r.wrongly_declined}
    return out


def agreement(embedders: dict, texts: list[str], reference: str = "torch") -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    """Cosine of each backend's embedding with the reference backend's, and batch encode speed."""
    out: dict[str, dict[str, float]] = {}
    vectors = {}
    for name, embedder in embedders.items():
        begin = time.perf_counter()
        vectors[name] = embedder.embed(texts)
        out[name] = {"chunks_per_s": len(texts) / (time.perf_counter() - begin)}
    if reference in vectors:
        for name, v in vectors.items():
            cos = (v * vectors[reference]).sum(axis=1)
            out[name] |= {"cos_min": float(cos.min()), "cos_mean": float(cos.mean())}
    return out


def ann_table(vectors: np.ndarray, queries: np.ndarray, label: str) -> dict:
    """Exact flat inner product vs HNSW (the settings store.build_faiss_index uses) on these vectors."""
    import faiss

    from retrieval.index import store

    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    truth = flat.search(queries, 10)[1]
    began = time.perf_counter()
    saved = store.HNSW_THRESHOLD
    store.HNSW_THRESHOLD = 0
    try:
        hnsw = store.build_faiss_index(vectors)
    finally:
        store.HNSW_THRESHOLD = saved
    build_s = time.perf_counter() - began

    def latency(index) -> list[float]:  # type: ignore[no-untyped-def]
        times = []
        for q in queries:
            begin = time.perf_counter()
            index.search(q[None, :], 50)  # the retriever asks for 50 candidates
            times.append(1000 * (time.perf_counter() - begin))
        return times

    flat_ms, hnsw_ms = latency(flat), latency(hnsw)
    found = hnsw.search(queries, 10)[1]
    recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, found)]))
    return {"label": label, "n": len(vectors), "flat_p50": pct(flat_ms, 50), "flat_p95": pct(flat_ms, 95),
            "hnsw_p50": pct(hnsw_ms, 50), "hnsw_p95": pct(hnsw_ms, 95), "hnsw_recall@10": recall, "hnsw_build_s": build_s}


def synthetic(vectors: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` vectors made from the real ones plus noise (near-duplicates: a hard case for HNSW)."""
    rng = np.random.default_rng(seed)
    rows = vectors[rng.integers(0, len(vectors), n)] + rng.normal(0, 0.03, (n, vectors.shape[1])).astype(np.float32)
    rows[: len(vectors)] = vectors
    return np.ascontiguousarray(rows / np.linalg.norm(rows, axis=1, keepdims=True), dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default="seed,small", help="comma-separated: seed, small, large [seed,small]")
    parser.add_argument("--backends", default="torch", help="comma-separated backends; the first builds the index the same-fingerprint ones share [torch]")
    parser.add_argument("--synthetic", default="100000,200000", help="extra index sizes for flat vs HNSW, '' for none")
    parser.add_argument("--no-cli", action="store_true", help="skip the whole-process ask measurement")
    parser.add_argument("--json", type=Path, help="write all results here")
    args = parser.parse_args()
    from retrieval.index.embeddings import SentenceTransformerEmbedder
    from retrieval.search.retriever import Retriever

    backends = args.backends.split(",")
    embedders = {b: SentenceTransformerEmbedder(backend=b) for b in backends}
    questions = [q.query for q in load_questions(SEED_QUESTIONS)] + [q.query for q in load_questions(QRELS)]
    results: dict = {"questions": len(questions), "corpora": {}}
    for corpus in args.corpora.split(","):
        entry: dict = {"backends": {}}
        results["corpora"][corpus] = entry
        for backend in backends:
            # Backends with the same fingerprint (torch, onnx: the same vectors) share one index,
            # built by the first of them; onnx-int8 has its own.
            builder = next(b for b in backends if embedders[b].fingerprint == embedders[backend].fingerprint)
            index, embedder = DATA / f"index-{corpus}-{builder}", embedders[backend]
            borrowed = sorted(DATA.glob(f"index-{corpus}-*")) if corpus == "large" and not index.exists() else []
            if borrowed:  # latency only: building the large index once per backend takes too long here
                index, builder = borrowed[0], borrowed[0].name.removeprefix(f"index-{corpus}-")
                embedder = SameFingerprint(embedder, json.loads((index / "manifest.json").read_text())["model"]["fingerprint"])
            else:
                index = get_index(corpus, builder, embedders[builder])
            retriever = Retriever.load(Settings(index_dir=index, backend=backend), embedder=embedder)
            row = {"index_built_with": builder, "chunks": len(retriever.data.chunks)}
            row["latency"] = time_queries(retriever, questions)
            row["stages_ms"] = stage_breakdown(retriever, questions)
            row["quality"] = None if borrowed else quality(retriever, corpus)
            if not args.no_cli and not borrowed:  # the CLI checks the fingerprint: it cannot borrow an index
                row["cli"] = cli_batch(index, backend, questions)
            entry["backends"][backend] = row
            lat = row["latency"]
            print(f"  {corpus}/{backend}: answer p50 {lat['answer_p50']:.1f} p95 {lat['answer_p95']:.1f} ms, floor p50 "
                  f"{lat['floor_p50']:.1f} p95 {lat['floor_p95']:.1f} ms (index built with {builder})", file=sys.stderr, flush=True)
            if args.json:
                args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
        data = retriever.data
        sample = [c.embedded_text(embed_title=True) for c in data.chunks[:: max(1, len(data.chunks) // 400)]][:400]
        entry["agreement"] = agreement(embedders, sample, reference="torch" if "torch" in embedders else backends[0])
        queries = embedders[backends[0]].embed(questions)
        entry["ann"] = [ann_table(np.ascontiguousarray(data.vectors, dtype=np.float32), queries, f"{corpus} (real)")]
        if corpus == args.corpora.split(",")[-1] and args.synthetic:
            for n in (int(s) for s in args.synthetic.split(",")):
                entry["ann"].append(ann_table(synthetic(data.vectors, n), queries, f"synthetic {n:,}"))
        if args.json:
            args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(table(results))


def table(results: dict) -> str:
    lines = [f"{results['questions']} questions per corpus and backend; milliseconds.", "",
             "| corpus | backend | chunks | answer p50 / p95 | floor p50 / p95 | ratio p50 / p95 | ask: startup s, ms per question | hit@1 / hit@5 (hybrid) | hit@5 dense |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for corpus, entry in results["corpora"].items():
        for backend, row in entry["backends"].items():
            lat, q, cli = row["latency"], row["quality"], row.get("cli")
            cli_text = f"{cli['startup_s']:.1f}, {cli['per_question_ms']:.1f}" if cli else "-"
            hits = (f"{q['hybrid']['hit@1']:.3f} / {q['hybrid']['hit@5']:.3f} | {q['dense']['hit@5']:.3f}" if q
                    else f"(index built with {row['index_built_with']}) | -")
            lines.append(
                f"| {corpus} | {backend} | {row['chunks']:,} | {lat['answer_p50']:.1f} / {lat['answer_p95']:.1f} | "
                f"{lat['floor_p50']:.1f} / {lat['floor_p95']:.1f} | {lat['ratio_p50']:.2f} / {lat['ratio_p95']:.2f} | {cli_text} | {hits} |"
            )
    lines += ["", "Answer stages (median ms per question that reached the step):", ""]
    rows = [(c, b, r["stages_ms"]) for c, e in results["corpora"].items() for b, r in e["backends"].items()]
    labels = list(dict.fromkeys(k for _, _, s in rows for k in s))
    lines.append("| step | " + " | ".join(f"{c}/{b}" for c, b, _ in rows) + " |")
    lines.append("|---|" + "---:|" * len(rows))
    for label in labels:
        lines.append(f"| {label} | " + " | ".join(f"{s.get(label, 0.0):.2f}" for _, _, s in rows) + " |")
    lines += ["", "Embedding agreement with torch and batch speed (sample of chunk texts):", "",
              "| corpus | backend | chunks/s | cosine min / mean |", "|---|---|---:|---:|"]
    for corpus, entry in results["corpora"].items():
        for backend, a in entry.get("agreement", {}).items():
            cos = f"{a['cos_min']:.4f} / {a['cos_mean']:.4f}" if "cos_min" in a else "-"
            lines.append(f"| {corpus} | {backend} | {a['chunks_per_s']:.1f} | {cos} |")
    lines += ["", "Exact (flat) vs HNSW (store.build_faiss_index's settings), one query, 50 candidates:", "",
              "| vectors | n | flat p50 / p95 ms | HNSW p50 / p95 ms | HNSW recall@10 | HNSW build s |", "|---|---:|---:|---:|---:|---:|"]
    for entry in results["corpora"].values():
        for a in entry.get("ann", []):
            lines.append(f"| {a['label']} | {a['n']:,} | {a['flat_p50']:.2f} / {a['flat_p95']:.2f} | {a['hnsw_p50']:.2f} / {a['hnsw_p95']:.2f} | "
                         f"{a['hnsw_recall@10']:.3f} | {a['hnsw_build_s']:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
