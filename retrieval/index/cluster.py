"""Cluster builds on Ray: ``python -m retrieval build --cluster ray``.

:class:`RayStages` runs the build's three parallel stages (:mod:`retrieval.index.stages`) as Ray Data
pipelines, and the rest of the build is the local one: the same discovery, deduplication,
incremental bookkeeping and index writer, under the same lock, writing the same atomic
generation. So an incremental build sends only new and changed documents to the cluster.

* **reading and cleaning**: the files' bytes stream from this process in blocks; workers parse
  and clean them (``stages.clean_file``), so workers need no access to the corpus folder;
* **chunking**: new and changed documents, chunked by workers with the model's tokenizer;
* **embedding**: an actor pool; each actor loads the model once and embeds batches of
  ``EMBED_BATCH`` texts, with ONNX Runtime limited to the actor's CPUs.

``RAY_ADDRESS`` chooses the cluster (``ray start --head`` prints it); with none set, a local
one is started for the build. Every node needs this project installed (``pip install -e
'.[cluster]'``), which brings the model too: nothing is downloaded. Ray retries the work of a
worker that dies; a cluster that goes away fails the build with a message, and the previous
index keeps serving (nothing is written until every vector is back).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.errors import RetrievalError
from retrieval.index.stages import ChunkRequest, CleanedFile, Progress, chunk_document, clean_file, file_bytes
from retrieval.ingest import Chunk

INSTALL_HINT = "cluster builds need Ray: pip install -e '.[cluster]' (or pip install 'ray[data]')"
CLUSTERS = ("ray",)
# Texts per actor call; RETRIEVAL_CLUSTER_BATCH overrides it. Measured with
# bench/bench_cluster.py --batches (BENCHMARKS.md, "Cluster builds").
EMBED_BATCH = 256
READ_BLOCK = 64  # files per reading task
READ_WINDOW = 2048  # files whose bytes are in flight at once: the corpus streams through in windows
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


class ClusterError(RetrievalError):
    """The cluster cannot be used (Ray missing, unreachable, or gone during the build)."""


def stages_for(cluster: str | None) -> Any:
    """The stages for ``--cluster`` / RETRIEVAL_CLUSTER: None or "" for local, "ray" for Ray."""
    if not cluster or cluster == "local":
        from retrieval.index.stages import LocalStages

        return LocalStages()
    if cluster not in CLUSTERS:
        raise ClusterError(f"unknown cluster {cluster!r}; use one of: {', '.join(CLUSTERS)} (or leave it unset for a local build)")
    return RayStages()


CONNECT_TIMEOUT = 5.0  # seconds; ray.init itself waits minutes for a head that is not there


def _check_reachable(address: str | None) -> None:
    """Fail fast, with a message, when RAY_ADDRESS names a head that does not answer."""
    import socket

    if not address or address in ("auto", "local"):
        return
    hostport = address.split("://", 1)[-1].rsplit("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"RAY_ADDRESS={address!r} is not host:port (e.g. 10.0.0.5:6379)")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT).close()
    except OSError as error:
        raise ClusterError(
            f"cannot reach the Ray cluster at {address}: {error.strerror or error}; "
            "start it with `ray start --head` or fix RAY_ADDRESS (unset it for a local cluster)"
        ) from None


def _ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ClusterError(INSTALL_HINT) from None
    return ray


class RayStages:
    """The build's stages on a Ray cluster; same inputs, same outputs as ``LocalStages``."""

    name = "ray"

    def __init__(self, address: str | None = None, *, actors: int | None = None) -> None:
        self.address = address if address is not None else os.environ.get("RAY_ADDRESS") or None
        self.actors = actors
        self._ray = _ray()

    # ------------------------------------------------------------------ connection

    def connect(self) -> Any:
        ray = self._ray
        if not ray.is_initialized():
            import logging

            _check_reachable(self.address)
            os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")  # the C++ core's own log lines (a known, harmless actor warning)
            for name in ("ray", "ray.data"):
                logging.getLogger(name).setLevel(logging.ERROR)
            try:
                ray.init(
                    address=self.address,
                    include_dashboard=False,
                    log_to_driver=False,
                    logging_level="ERROR",
                    runtime_env={"env_vars": OFFLINE},
                )
            except Exception as error:  # ConnectionError, RuntimeError, ...: all mean "no cluster"
                where = self.address or "a new local cluster"
                raise ClusterError(f"cannot reach the Ray cluster ({where}): {error}; check RAY_ADDRESS or run `ray start --head`") from None
            from ray.data import DataContext

            context = DataContext.get_current()
            context.enable_progress_bars = False
            context.print_on_execution_start = False
        return ray

    def close(self) -> None:
        """Disconnect from the cluster (a local one started for this build stops)."""
        if self._ray.is_initialized():
            self._ray.shutdown()

    def cpus(self) -> int:
        return max(1, int(self.connect().cluster_resources().get("CPU", 1)))

    def _run_iter(self, what: str, items: Iterator[Any]) -> Iterator[Any]:
        """Like :meth:`_run`, for a stage that yields its results as they come."""
        with _failures(what):
            yield from items

    def _run(self, what: str, work: Callable[[], Any]) -> Any:
        with _failures(what):
            return work()

    # ------------------------------------------------------------------ stages

    def clean(self, files: Sequence[tuple[Path, str]], progress: Progress | None) -> Iterator[CleanedFile]:
        if not files:
            return iter(())
        ray = self.connect()
        import ray.data

        def window(start: int) -> list[dict[str, Any]]:
            items = []
            for position in range(start, min(start + READ_WINDOW, len(files))):
                path, doc_id = files[position]
                data, reason = file_bytes(path)
                items.append({"position": position, "doc_id": doc_id, "name": path.name, "data": data or b"", "reason": reason})
            return items

        def work() -> Iterator[CleanedFile]:
            # The files' bytes leave this process a window at a time (memory stays bounded for
            # any corpus size); within a window, blocks of READ_BLOCK files are cleaned in parallel.
            done = 0
            for start in range(0, len(files), READ_WINDOW):
                items = window(start)
                dataset = ray.data.from_items(items, override_num_blocks=max(1, len(items) // READ_BLOCK))
                results: dict[int, CleanedFile] = {}
                for batch in dataset.map_batches(_clean_batch, batch_format="pandas").iter_batches(batch_size=None, batch_format="pandas"):
                    for position, item in zip(batch["position"], batch["item"]):
                        results[int(position)] = item
                    done += len(batch)
                    if progress:
                        progress("reading", done, len(files))
                yield from (results[position] for position in sorted(results))

        return self._run_iter("reading and cleaning the articles", work())

    def chunk(self, requests: Sequence[ChunkRequest], embedder: Any) -> list[list[Chunk]]:
        if not requests:
            return []
        ray = self.connect()
        import ray.data

        def work() -> list[list[Chunk]]:
            rows = [{"position": i, "request": request} for i, request in enumerate(requests)]
            dataset = ray.data.from_items(rows, override_num_blocks=max(1, min(len(rows), self.cpus() * 4)))
            results: list[list[Chunk]] = [[] for _ in requests]
            mapped = dataset.map_batches(_chunk_batch, batch_format="pandas", fn_kwargs={"model": embedder.model_name})
            for batch in mapped.iter_batches(batch_size=None, batch_format="pandas"):
                for position, chunks in zip(batch["position"], batch["chunks"]):
                    results[int(position)] = list(chunks)
            return results

        return self._run("chunking the articles", work)

    def embed(self, embedder: Any, texts: Sequence[str], progress: Callable[[int], None]) -> np.ndarray:
        if not texts:
            return np.zeros((0, embedder.dimension), dtype=np.float32)
        ray = self.connect()
        import ray.data

        actors = self.actors or self.cpus()

        def work() -> np.ndarray:
            out = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
            filled = np.zeros(len(texts), dtype=bool)
            dataset = ray.data.from_items(
                [{"row": i, "text": text} for i, text in enumerate(texts)],
                override_num_blocks=max(actors, len(texts) // embed_batch()),
            )
            mapped = dataset.map_batches(
                EmbedActor,
                batch_size=embed_batch(),
                batch_format="numpy",
                # At least one actor: if a node dies, the build goes on with the actors left.
                compute=ray.data.ActorPoolStrategy(min_size=1, max_size=actors),
                num_cpus=1,
                fn_constructor_kwargs={"model_name": embedder.model_name, "backend": getattr(embedder, "backend", "onnx")},
            )
            for batch in mapped.iter_batches(batch_size=None, batch_format="numpy"):
                rows = batch["row"].astype(np.int64)
                out[rows] = batch["vector"]
                filled[rows] = True
                progress(len(rows))
            if not filled.all():
                raise ClusterError(f"the cluster returned {int(filled.sum())} of {len(texts)} vectors")
            return out

        return self._run("embedding the passages", work)


@contextmanager
def _failures(what: str) -> Iterator[None]:
    """Any error from Ray inside the block becomes a ClusterError saying which stage failed."""
    try:
        yield
    except ClusterError:
        raise
    except Exception as error:  # the cluster went away, or a task failed for good
        raise ClusterError(f"the Ray cluster failed while {what}: {type(error).__name__}: {str(error)[:300]}") from None


def embed_batch() -> int:
    value = os.environ.get("RETRIEVAL_CLUSTER_BATCH", "")
    return int(value) if value.isdigit() and int(value) > 0 else EMBED_BATCH


def _clean_batch(batch: Any) -> Any:
    """Ray task: parse and clean a block of files (a pandas DataFrame of bytes)."""
    items = []
    for doc_id, name, data, reason in zip(batch["doc_id"], batch["name"], batch["data"], batch["reason"]):
        items.append(clean_file(doc_id, bytes(data), name) if not reason else CleanedFile(doc_id, skipped=reason))
    return batch.assign(item=items)[["position", "item"]]


def _chunk_batch(batch: Any, model: str) -> Any:
    """Ray task: chunk a block of documents with the model's own tokenizer (no model weights)."""
    from retrieval.index.embeddings import SentenceTransformerEmbedder

    counter = SentenceTransformerEmbedder(model)
    return batch.assign(chunks=[chunk_document(request, counter.count_tokens) for request in batch["request"]])[["position", "chunks"]]


class EmbedActor:
    """Ray actor: loads the model once, then embeds batches of texts."""

    def __init__(self, model_name: str, backend: str) -> None:
        os.environ.update(OFFLINE)
        os.environ["RETRIEVAL_ONNX_THREADS"] = "1"  # one CPU per actor: no oversubscription
        from retrieval.index.embeddings import SentenceTransformerEmbedder

        self.embedder = SentenceTransformerEmbedder(model_name, backend=backend)
        self.embedder.embed(["warm up"])

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.embed([str(text) for text in batch["text"]])
        return {"row": batch["row"], "vector": vectors}
