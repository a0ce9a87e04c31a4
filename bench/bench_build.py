"""Build speed against its floor: whole-process builds vs loading the model and embedding the same texts.

    .venv/bin/python bench/bench_build.py                      # seed (5 docs) and MedQuAD small (315)
    .venv/bin/python bench/bench_build.py --large              # + the 5,486-document corpus (minutes)
    .venv/bin/python bench/bench_build.py --backends torch,onnx --repeats 3 --json bench/results/build.json

For each corpus and backend, every measurement is a fresh ``python -m retrieval build --json``
subprocess (wall time, and peak RSS of that process from ``os.wait4``):

- full: a new, empty index folder;
- floor: a subprocess that loads the same model with the same backend and encodes exactly the
  texts the build embedded (``retrieval chunks --json`` -> ``compose_embedded_text``, then each
  distinct sentence of the chunks, ``ingest.split_sentences``), same batch size; run alternately with the full builds so machine noise hits both alike;
- no-change: the same build again (nothing to embed);
- add-one: one new article copied into the corpus, then removed again (remove-one).

The final index is copied to bench/data/index-<corpus>-<backend> for bench_query.py. Also a
stage breakdown of one in-process build (reading+cleaning, chunking, model load,
embedding, BM25, FAISS, writing), timed by wrapping the pipeline's functions (not on the large
corpus unless --large-stages).

Timings on a shared machine are noisy: compare ratios from the same run, and medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEDQUAD = Path("/work/shared/eval/medquad")
DATA = ROOT / "bench" / "data"
LARGE = DATA / "corpus_large"
CORPORA = {"seed": ROOT / "corpus", "small": MEDQUAD / "corpus_small", "large": LARGE}
# The article added in the add-one test: new to each corpus.
EXTRA = {"seed": MEDQUAD / "corpus_small" / "ninds-0000037-back-pain.txt"}
EXTRA_DEFAULT = sorted((ROOT / "corpus").glob("*.txt"))[0]
PY = sys.executable


def env_for(backend: str) -> dict[str, str]:
    env = dict(os.environ, RETRIEVAL_BACKEND=backend, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``cmd``; return (wall seconds, peak RSS of that process in MiB, stdout)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({process.returncode}):\n{stderr[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, stdout


def build(corpus: Path, index: Path, backend: str) -> dict:
    seconds, rss, out = run([PY, "-m", "retrieval", "build", "--corpus", str(corpus), "--index", str(index), "--json"], env_for(backend))
    report = json.loads(out)
    return {"seconds": seconds, "rss_mb": rss, "chunks": report["chunks"], "embedded": report["embedded"],
            "embedded_sentences": report.get("embedded_sentences", 0),
            "documents": report["documents"], "wrote_index": report["wrote_index"], "inner_seconds": report["seconds"]}


def embedded_texts(index: Path) -> list[str]:
    from retrieval.config import Settings
    from retrieval.ingest.chunking import compose_embedded_text

    _, _, out = run([PY, "-m", "retrieval", "chunks", "--index", str(index), "--json"], env_for("torch"))
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    from retrieval.ingest.sentences import split_sentences

    embed_title = Settings().embed_title
    chunks = [compose_embedded_text(r["title"], r["section"], r["text"], embed_title=embed_title) for r in rows]
    sentences = dict.fromkeys(s for r in rows for s in split_sentences(r["text"]))  # distinct, in order
    return chunks + list(sentences)


def floor(texts_file: Path, backend: str) -> dict:
    seconds, rss, out = run([PY, __file__, "--floor-worker", str(texts_file), "--backend", backend], env_for(backend))
    return {"seconds": seconds, "rss_mb": rss, **json.loads(out)}


def floor_worker(texts_file: Path, backend: str) -> None:
    """The floor: load the model, encode the texts, nothing else (no reading, chunking or writing)."""
    started = time.perf_counter()
    from retrieval.index.embeddings import SentenceTransformerEmbedder

    texts = json.loads(texts_file.read_text(encoding="utf-8"))
    embedder = SentenceTransformerEmbedder(backend=backend)
    model = embedder.model
    loaded = time.perf_counter()
    model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    done = time.perf_counter()
    print(json.dumps({"load_seconds": loaded - started, "encode_seconds": done - loaded, "texts": len(texts)}))


def stages_worker(corpus: Path, index: Path, backend: str) -> None:
    """One in-process full build with each pipeline step timed (wrapping, not profiling)."""
    started = time.perf_counter()
    import retrieval.index.backends as backends
    import retrieval.index.embeddings as embeddings
    import retrieval.index.build as indexing
    import retrieval.index.stages as stages
    from retrieval.config import Settings

    times: dict[str, float] = {"import retrieval": time.perf_counter() - started}

    def timed(module, name: str, label: str) -> None:  # type: ignore[no-untyped-def]
        original = getattr(module, name)

        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            begin = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                times[label] = times.get(label, 0.0) + time.perf_counter() - begin

        setattr(module, name, wrapper)

    timed(indexing, "prepare_documents", "read + clean + dedup")
    timed(indexing, "_previous_index", "load previous index")
    timed(stages, "chunk_text", "chunk (pysbd + tokenizer)")
    timed(embeddings.SentenceTransformerEmbedder, "count_tokens", "  of which count_tokens")
    timed(backends, "load_sentence_transformer", "import + load model")
    timed(indexing, "_embed", "embed (incl. model load)")
    timed(indexing, "_build_bm25", "BM25")
    timed(indexing, "build_faiss_index", "FAISS")
    timed(indexing, "_manifest", "manifest")
    timed(indexing, "write_index", "write (fsync, sha256)")
    settings = Settings(corpus_dir=corpus, index_dir=index, backend=backend)
    report = indexing.build_index(settings, full=True)
    times["total in process"] = time.perf_counter() - started
    if "embed (incl. model load)" in times:
        times["embed only"] = times["embed (incl. model load)"] - times.get("import + load model", 0.0)
    print(json.dumps({"stages": times, "chunks": report.chunks}))


def stages(corpus: Path, index: Path, backend: str) -> dict:
    _, rss, out = run([PY, __file__, "--stages-worker", str(corpus), str(index), "--backend", backend], env_for(backend))
    return json.loads(out)


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def bench_corpus(name: str, backend: str, repeats: int, work: Path, *, with_stages: bool = True) -> dict:
    corpus = work / f"{name}-corpus"
    if not corpus.exists():
        shutil.copytree(CORPORA[name], corpus)
    extra = EXTRA.get(name, EXTRA_DEFAULT)
    added = corpus / f"zz-added-{extra.name}"
    added.unlink(missing_ok=True)
    index = work / f"{name}-{backend}-index"
    texts_file = work / f"{name}-texts.json"
    full, floors = [], []
    warm = work / "warm-up.json"  # untimed: model files into the page cache, first-use ONNX export
    warm.write_text(json.dumps(["warm up"]), encoding="utf-8")
    floor(warm, backend)
    for r in range(repeats):
        shutil.rmtree(index, ignore_errors=True)
        if r % 2:  # alternate the order, so drift on a shared machine hits both alike
            floors.append(floor(texts_file, backend))
        full.append(build(corpus, index, backend))
        if not texts_file.exists():
            texts_file.write_text(json.dumps(embedded_texts(index)), encoding="utf-8")
        if not r % 2:
            floors.append(floor(texts_file, backend))
        print(f"  {name}/{backend} run {r + 1}: full {full[-1]['seconds']:.1f}s, floor {floors[-1]['seconds']:.1f}s, "
              f"{full[-1]['chunks']} chunks", file=sys.stderr, flush=True)
    no_change = [build(corpus, index, backend) for _ in range(repeats)]
    add, remove = [], []
    for _ in range(repeats):
        shutil.copyfile(extra, added)
        add.append(build(corpus, index, backend))
        added.unlink()
        remove.append(build(corpus, index, backend))
    print(f"  {name}/{backend} no-change {median(no_change, 'seconds'):.2f}s, add-one {median(add, 'seconds'):.2f}s", file=sys.stderr, flush=True)
    # The final index (same documents as the corpus) is kept for bench_query.py to reuse.
    keep = DATA / f"index-{name}-{backend}"
    shutil.rmtree(keep, ignore_errors=True)
    shutil.copytree(index, keep)
    breakdown = {"stages": {}}
    if with_stages:
        breakdown = stages(corpus, work / f"{name}-{backend}-stages", backend)
        shutil.rmtree(work / f"{name}-{backend}-stages", ignore_errors=True)
    chunks = full[0]["chunks"]
    result = {
        "corpus": name, "backend": backend, "documents": full[0]["documents"], "chunks": chunks, "repeats": repeats,
        "full_s": median(full, "seconds"), "full_rss_mb": max(r["rss_mb"] for r in full),
        "floor_s": median(floors, "seconds"), "floor_rss_mb": max(r["rss_mb"] for r in floors),
        "floor_load_s": median(floors, "load_seconds"), "floor_encode_s": median(floors, "encode_seconds"),
        "no_change_s": median(no_change, "seconds"), "no_change_rss_mb": max(r["rss_mb"] for r in no_change),
        "add_one_s": median(add, "seconds"), "add_one_rss_mb": max(r["rss_mb"] for r in add),
        "add_one_embedded": add[0]["embedded"], "remove_one_s": median(remove, "seconds"),
        "embedded_sentences": full[0]["embedded_sentences"],
        "stages": breakdown["stages"],
        "raw": {"full": full, "floor": floors, "no_change": no_change, "add_one": add, "remove_one": remove},
    }
    result["chunks_per_s"] = chunks / result["full_s"]
    result["floor_chunks_per_s"] = chunks / result["floor_s"]
    result["build_over_floor"] = result["full_s"] / result["floor_s"]
    result["no_change_over_full"] = result["no_change_s"] / result["full_s"]
    result["add_one_over_full"] = result["add_one_s"] / result["full_s"]
    return result


def table(results: list[dict]) -> str:
    lines = [
        "| corpus | backend | docs | chunks | full s | floor s | build/floor | chunks/s (build / floor) | no-change s (÷full) | add-one s (÷full) | remove-one s | peak MiB (build / floor) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['corpus']} | {r['backend']} | {r['documents']:,} | {r['chunks']:,} | {r['full_s']:.1f} | {r['floor_s']:.1f} | "
            f"{r['build_over_floor']:.2f} | {r['chunks_per_s']:.1f} / {r['floor_chunks_per_s']:.1f} | "
            f"{r['no_change_s']:.2f} ({100 * r['no_change_over_full']:.1f}%) | {r['add_one_s']:.2f} ({100 * r['add_one_over_full']:.1f}%) | "
            f"{r['remove_one_s']:.2f} | {r['full_rss_mb']:.0f} / {r['floor_rss_mb']:.0f} |"
        )
    lines += ["", "Stages of one in-process full build (seconds):", ""]
    names = list(dict.fromkeys(k for r in results for k in r["stages"]))
    lines.append("| stage | " + " | ".join(f"{r['corpus']}/{r['backend']}" for r in results) + " |")
    lines.append("|---|" + "---:|" * len(results))
    for stage in names:
        lines.append(f"| {stage} | " + " | ".join(f"{r['stages'].get(stage, 0.0):.2f}" for r in results) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also the 5,486-document corpus (run bench/make_large_corpus.py first)")
    parser.add_argument("--corpora", default="seed,small", help="comma-separated: seed, small, large [seed,small]")
    parser.add_argument("--backends", default="torch", help="comma-separated backends to compare [torch]")
    parser.add_argument("--repeats", type=int, default=3, help="repeats per measurement; medians are reported [3]")
    parser.add_argument("--large-repeats", type=int, default=1, help="repeats on the large corpus [1]")
    parser.add_argument("--large-stages", action="store_true", help="also the stage breakdown on the large corpus (one more build)")
    parser.add_argument("--json", type=Path, help="write all results (raw runs included) here")
    parser.add_argument("--floor-worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--stages-worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--backend", default="torch", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_worker:
        return floor_worker(args.floor_worker, args.backend)
    if args.stages_worker:
        return stages_worker(*args.stages_worker, args.backend)
    corpora = [c for c in args.corpora.split(",") if c]
    if args.large and "large" not in corpora:
        corpora.append("large")
    if "large" in corpora and not LARGE.is_dir():
        sys.exit("error: bench/data/corpus_large/ is missing: run bench/make_large_corpus.py first")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        for name in corpora:
            for backend in args.backends.split(","):
                repeats = args.large_repeats if name == "large" else args.repeats
                with_stages = name != "large" or args.large_stages
                results.append(bench_corpus(name, backend, repeats, Path(tmp), with_stages=with_stages))
                if args.json:  # write as we go: a long run that dies keeps what it measured
                    args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(table(results))


if __name__ == "__main__":
    main()
