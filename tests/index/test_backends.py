"""The model backends (retrieval/index/backends.py) with the real models, the real ONNX export and
the real CLI. On the bundled MiniLM (PyTorch weights): onnx and torch agree, the export lands in
the configured cache and survives processes starting together, an int8 index is refused by the
full-precision backends. On the shipped relevance encoder (int8 ONNX only): both ONNX backends
run it as it is, and torch says what to do. A missing onnxruntime says how to install it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from retrieval.config import BUNDLED_MODEL, DEFAULT_BACKEND, Settings
from retrieval.errors import IndexMismatchError, REBUILD_HINT
from retrieval.index.build import build_index
from retrieval.index.embeddings import SentenceTransformerEmbedder
from retrieval.search.retriever import Retriever

ROOT = Path(__file__).resolve().parents[2]
SENTENCES = [
    "How should I sleep when my lower back hurts?",
    "sciatica pain going down the back of my leg into my foot",
    "Is heat or ice better for a pulled muscle in the back?",
    "Exercise can make your back stronger and lower your risk of back pain.",
    "x",
]


def _python(code: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RETRIEVAL_")}
    environment.update(env or {}, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=environment, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RETRIEVAL_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "retrieval", *args], capture_output=True, text=True, cwd=ROOT, env=environment, timeout=300
    )


def _loaded(backend: str, session: SentenceTransformerEmbedder) -> SentenceTransformerEmbedder:
    """The bundled MiniLM on ``backend`` (the shipped encoder has no PyTorch weights), loaded now."""
    model = SentenceTransformerEmbedder(model_name=BUNDLED_MODEL, backend=backend)
    model.model
    return model


@pytest.fixture(scope="module")
def torch_embedder(embedder: SentenceTransformerEmbedder) -> SentenceTransformerEmbedder:
    return _loaded("torch", embedder)


@pytest.fixture(scope="module")
def onnx_embedder(embedder: SentenceTransformerEmbedder) -> SentenceTransformerEmbedder:
    return _loaded("onnx", embedder)


def test_one_default_backend_and_each_backend_can_be_chosen() -> None:
    assert Settings().backend == SentenceTransformerEmbedder().backend == DEFAULT_BACKEND
    for backend in ("torch", "onnx", "onnx-int8"):
        assert Settings.from_env({"RETRIEVAL_BACKEND": backend}).backend == backend


def test_onnx_embeddings_match_torch(onnx_embedder: SentenceTransformerEmbedder, torch_embedder: SentenceTransformerEmbedder) -> None:
    torch_vectors, onnx_vectors = torch_embedder.embed(SENTENCES), onnx_embedder.embed(SENTENCES)
    assert onnx_vectors.shape == torch_vectors.shape == (len(SENTENCES), 384)
    cosine = (torch_vectors * onnx_vectors).sum(axis=1)
    assert cosine.min() >= 0.9999, cosine
    # Same vectors, so the same fingerprint: either backend can use the other's index.
    assert onnx_embedder.fingerprint == torch_embedder.fingerprint


def test_the_onnx_tokenizer_counts_as_sentence_transformers_does(
    onnx_embedder: SentenceTransformerEmbedder, torch_embedder: SentenceTransformerEmbedder
) -> None:
    ours, theirs = onnx_embedder.model.tokenizer, torch_embedder.model.tokenizer
    long = " ".join(SENTENCES * 20)
    for text in [*SENTENCES, long]:
        for truncation in (False, True):
            assert ours(text, truncation=truncation)["input_ids"] == theirs(text, truncation=truncation)["input_ids"]
    assert onnx_embedder.model.max_seq_length == torch_embedder.model.max_seq_length == 256


def test_the_shipped_int8_encoder_runs_on_both_onnx_backends_and_torch_says_what_to_do(
    seed_index: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    """models/relevance-encoder ships int8 ONNX weights only: onnx and onnx-int8 load that one
    file (the same vectors, the same fingerprint, so either can use the index); torch cannot."""
    int8 = SentenceTransformerEmbedder(backend="onnx-int8")
    assert int8.fingerprint == embedder.fingerprint
    assert np.allclose(int8.embed(SENTENCES), embedder.embed(SENTENCES), atol=1e-6)
    question = "How should I sleep when my lower back hurts?"
    answers = {}
    for backend in ("onnx", "onnx-int8"):
        result = _cli("ask", question, "--index", str(seed_index.index_dir), "--json", env={"RETRIEVAL_BACKEND": backend})
        assert result.returncode == 0, result.stderr
        answers[backend] = [(p["source"], p["chunk_id"]) for p in json.loads(result.stdout)["passages"]]
    assert answers["onnx"] and answers["onnx"] == answers["onnx-int8"]
    refused = _cli("ask", question, "--index", str(seed_index.index_dir), env={"RETRIEVAL_BACKEND": "torch"})
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "int8 ONNX weights only" in refused.stderr and "RETRIEVAL_BACKEND=onnx" in refused.stderr, refused.stderr


@pytest.mark.slow
def test_processes_exporting_at_once_into_a_fresh_cache_export_once(tmp_path: Path) -> None:
    """Three processes start together with an empty cache ($XDG_CACHE_HOME): one exports, the
    others wait for it; the export lands under the configured folder with no temporary files."""
    code = (
        "import sys, json\n"
        "from retrieval.index.embeddings import SentenceTransformerEmbedder\n"
        "e = SentenceTransformerEmbedder(model_name='bundled', backend='onnx')\n"
        "print(json.dumps(e.embed([sys.argv[1]])[0].tolist()))\n"
    )
    cache = tmp_path / "cache"
    processes = [_python(code, SENTENCES[0], env={"XDG_CACHE_HOME": str(cache)}) for _ in range(3)]
    outputs = [p.communicate(timeout=600) for p in processes]
    for process, (_, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr
    assert sum("Exporting the embedding model to ONNX" in stderr for _, stderr in outputs) == 1
    exports = list((cache / "back-pain-retrieval" / "onnx").glob("*/model.onnx"))
    assert len(exports) == 1 and exports[0].stat().st_size > 10_000_000
    assert sorted(p.name for p in exports[0].parent.iterdir()) == [".lock", "model.onnx"]
    assert sorted(p.name for p in cache.iterdir()) == ["back-pain-retrieval"]  # no ONNX Runtime telemetry id
    vectors = [np.array(json.loads(stdout)) for stdout, _ in outputs]
    assert all(np.allclose(v, vectors[0], atol=1e-6) for v in vectors)


def test_an_int8_index_is_refused_by_the_full_precision_backends(
    tmp_path: Path, onnx_embedder: SentenceTransformerEmbedder, torch_embedder: SentenceTransformerEmbedder
) -> None:
    settings = Settings(corpus_dir=ROOT / "corpus", index_dir=tmp_path / "index", backend="onnx-int8", model=BUNDLED_MODEL)
    int8 = SentenceTransformerEmbedder(model_name=BUNDLED_MODEL, backend="onnx-int8")
    build_index(settings, embedder=int8)
    assert Retriever.load(settings, embedder=int8).search("sciatica", k=1).passages
    for other in (onnx_embedder, torch_embedder):
        with pytest.raises(IndexMismatchError) as refused:
            Retriever.load(settings, embedder=other)
        message = str(refused.value)
        assert int8.fingerprint in message and other.fingerprint in message and REBUILD_HINT in message


def test_a_missing_onnxruntime_gives_an_install_hint(seed_index: Settings) -> None:
    """The CLI with onnxruntime unimportable (blocked in sys.modules before anything loads)."""
    code = (
        "import sys\n"
        "sys.modules['onnxruntime'] = None  # import onnxruntime now raises ImportError\n"
        "sys.argv[0] = 'retrieval'\n"
        "from retrieval.cli import main\n"
        "main()\n"
    )
    process = _python(code, "ask", "sciatica", "--index", str(seed_index.index_dir), env={"RETRIEVAL_BACKEND": "onnx"})
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode != 0
    assert "Traceback" not in stderr
    assert "pip install onnxruntime" in stderr and "RETRIEVAL_BACKEND=torch" in stderr, stderr


def test_texts_are_embedded_in_batches_of_similar_length(embedder: SentenceTransformerEmbedder) -> None:
    # An added article: a few long passages and many short sentences. A batch is padded to its
    # longest text, so they must not share one; and the vectors come back in input order.
    from retrieval.index.embeddings import _similar_lengths

    texts = ["Long passage about lifting and discs. " * 12] * 5 + [f"Short sentence number {i}." for i in range(27)]
    groups = _similar_lengths(texts, 128)
    assert sorted(i for group in groups for i in group) == list(range(len(texts)))
    assert all(max(len(texts[i]) for i in g) <= 2 * min(len(texts[i]) for i in g) for g in groups)
    assert len(groups) == 2
    # Full-precision weights give the same vector in any batch. The shipped encoder's int8 weights
    # are quantised per batch (dynamic quantisation), so a text's vector moves a little with its
    # batch-mates: the same text, the same direction, not the same bits.
    bundled = SentenceTransformerEmbedder(model_name=BUNDLED_MODEL, backend="onnx")
    for model, close in ((bundled, lambda a, b: np.allclose(a, b, atol=1e-5)),
                         (embedder, lambda a, b: float((a * b).sum(axis=1).min()) >= 0.98)):  # measured 0.988
        together = model.embed(texts)
        alone = np.vstack([model.embed([text]) for text in (texts[0], texts[-1])])
        assert close(together[[0, -1]], alone), model.model_name
