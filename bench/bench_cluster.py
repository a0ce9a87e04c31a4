"""Local build against a Ray cluster build of the same corpus, in one run; and replicas.

    .venv/bin/python bench/bench_cluster.py [--docs N] [--out bench/results/cluster.md] [--skip-replicas]

1. Writes the 5,486-document MedQuAD corpus (bench/make_large_corpus.py), or its first N files.
2. A full local build (``python -m retrieval build --full --json``), timed.
3. A local Ray cluster started here (``ray start --head`` with 2 CPUs: the same 2 cores, so the
   ratio is the cluster's overhead, not a speed-up), then the same build with ``--cluster ray``.
   Per-worker throughput = texts embedded / seconds / actors.
4. Replicas: 1 and 2 ``app.py`` processes over the built index, 16 clients asking ``/ask`` for
   30 s, requests answered per second.

Target: cluster build <= 1.3x the local build on this machine. Results as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RAY = Path(sys.executable).parent / "ray"
QUESTIONS = ["What are the symptoms of sciatica?", "How is low back pain treated?", "What causes muscle cramps?",
             "How do I know if I have a herniated disc?", "What helps neck pain?", "Is walking good for arthritis?"]


def env(**extra: str) -> dict[str, str]:
    from tests.apprunner import clean_environment

    return clean_environment(RAY_AUTH_MODE="disabled", **extra)


def timed_build(corpus: Path, index: Path, *extra: str, environment: dict[str, str]) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "retrieval", "build", "--corpus", str(corpus), "--index", str(index), "--full", "--json", *extra],
                          cwd=ROOT, env=environment, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"build failed: {done.stderr[-2000:]}")
    return time.perf_counter() - started, json.loads(done.stdout)


def throughput(urls: list[str], clients: int = 16, seconds: float = 30.0) -> float:
    from gradio_client import Client

    count = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(n: int) -> None:
        nonlocal count
        client = Client(urls[n % len(urls)], verbose=False)
        turn = n
        while time.monotonic() < stop_at:
            client.predict(QUESTIONS[turn % len(QUESTIONS)], api_name="/ask")
            turn += 1
            with lock:
                count += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count / (time.monotonic() - started)


def start_head() -> str:
    from ray._private.services import get_node_ip_address

    from tests.apprunner import free_port

    port = free_port()
    subprocess.run([str(RAY), "start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats"],
                   env=env(), check=True, capture_output=True)
    return f"{get_node_ip_address()}:{port}"


def batch_sizes(corpus: Path, work: Path, sizes: list[int], lines: list[str], out: Path | None) -> int:
    """The embedding batch size per actor call: one cluster build per size, same cluster."""
    address = start_head()
    try:
        lines += ["| texts per actor call | cluster build, seconds |", "|---:|---:|"]
        for size in sizes:
            seconds, _ = timed_build(corpus, work / f"index-{size}", "--cluster", "ray", environment=env(RAY_ADDRESS=address, RETRIEVAL_CLUSTER_BATCH=str(size)))
            lines.append(f"| {size} | {seconds:.1f} |")
            print(lines[-1], flush=True)
    finally:
        subprocess.run([str(RAY), "stop", "--force"], env=env(), capture_output=True)
    text = "\n".join(lines)
    print(text)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=0, help="only the first N files (0: all 5,486)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--skip-replicas", action="store_true")
    parser.add_argument("--batches", default="", help="e.g. 64,256,1024: only cluster builds, one per embedding batch size")
    args = parser.parse_args()
    from ray._private.services import get_node_ip_address

    from tests.apprunner import app_process, free_port

    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    subprocess.run([sys.executable, str(ROOT / "bench" / "make_large_corpus.py"), "--out", str(work / "all")], check=True, capture_output=True)
    corpus = work / "corpus"
    corpus.mkdir()
    for path in sorted((work / "all").glob("*.txt"))[: args.docs or None]:
        shutil.copy(path, corpus / path.name)
    files = len(list(corpus.glob("*.txt")))
    lines = [f"Machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; corpus: {files} MedQuAD files", ""]

    if args.batches:
        return batch_sizes(corpus, work, [int(b) for b in args.batches.split(",")], lines, args.out)
    local_seconds, local = timed_build(corpus, work / "index-local", environment=env())
    texts = local["embedded"] + local["embedded_sentences"]
    print(f"local: {local_seconds:.0f} s, {texts} texts", flush=True)

    port = free_port()
    address = f"{get_node_ip_address()}:{port}"
    subprocess.run([str(RAY), "start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats"],
                   env=env(), check=True, capture_output=True)
    try:
        cluster_seconds, cluster = timed_build(corpus, work / "index-cluster", "--cluster", "ray", environment=env(RAY_ADDRESS=address))
    finally:
        subprocess.run([str(RAY), "stop", "--force"], env=env(), capture_output=True)
    print(f"cluster: {cluster_seconds:.0f} s", flush=True)
    ratio = cluster_seconds / local_seconds
    lines += [
        "| build | seconds | texts embedded (passages + sentences) | texts/s | per worker (texts/s) |",
        "|---|---:|---:|---:|---:|",
        f"| local (one process, ONNX Runtime on both cores) | {local_seconds:.0f} | {texts:,} | {texts / local_seconds:.1f} | |",
        f"| Ray cluster on the same machine (2 actors, 1 CPU each) | {cluster_seconds:.0f} | {cluster['embedded'] + cluster['embedded_sentences']:,} "
        f"| {texts / cluster_seconds:.1f} | {texts / cluster_seconds / 2:.1f} |",
        "",
        f"Cluster / local: **{ratio:.2f}x** (target <= 1.3x on this machine, where the cluster adds no cores).",
    ]
    if not args.skip_replicas:
        with app_process(corpus, work / "index-local", work / "a.log", env=env(RETRIEVAL_WATCH="off"), timeout=600) as first, \
             app_process(corpus, work / "index-local", work / "b.log", env=env(RETRIEVAL_WATCH="off"), timeout=600) as second:
            one = throughput([first])
            two = throughput([first, second])
        lines += ["", "| replicas (16 clients, 30 s, `/ask`) | answers/s |", "|---|---:|",
                  f"| 1 process | {one:.1f} |", f"| 2 processes over one index folder | {two:.1f} ({two / one:.2f}x) |"]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
