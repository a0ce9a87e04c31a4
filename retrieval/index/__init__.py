"""Stage 2, index: embed the passages and write them where search can read them.

``embeddings`` (the model, on ``backends``: ONNX Runtime or torch), ``bm25`` (the word index),
``store`` (the on-disk format: FAISS, BM25 files, chunks, manifest), ``build`` (an incremental
build that embeds only what changed), ``stages`` (read, clean, chunk and embed as swappable
stages) and ``cluster`` (the same stages on Ray).
"""
from retrieval.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "embeddings": ("Embedder", "SentenceTransformerEmbedder", "resolve_model_path"),
    "backends": ("export_int8_folder",),
    "fingerprint": ("model_fingerprint",),
    "bm25": ("tokenize", "bm25_scores", "idf_from_bm25"),
    "store": ("IndexData", "StoredDocument", "load_index", "read_manifest"),
    "build": ("build_index",),
    "report": ("BuildReport",),
    "lock": ("index_lock",),
    "stages": ("Progress", "LocalStages", "ChunkRequest", "chunk_document", "clean_file"),
    "cluster": ("stages_for",),
})
