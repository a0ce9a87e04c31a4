"""The fault tests' reference: an index built by the CLI, and its answers before and after a
corpus change, built once for the session and copied by each test that breaks something."""
from __future__ import annotations

import shutil

import pytest

from retrieval.config import Settings
from retrieval.index import build_index
from tests.index.faults import ROOT, SEED, Library, Reference, answers, change_corpus, cli, cli_answers


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory, embedder) -> Reference:  # type: ignore[no-untyped-def]
    """The old index (built by the CLI) and the answers before and after the change."""
    base = tmp_path_factory.mktemp("faults")
    (base / "old" / "corpus").mkdir(parents=True)
    for name in SEED:
        shutil.copy(ROOT / "corpus" / name, base / "old" / "corpus" / name)
    old = Library(base / "old" / "corpus", base / "old" / "index")
    assert cli("build", "--corpus", str(old.corpus), "--index", str(old.index)).returncode == 0
    new = old.copy_to(base / "new")
    change_corpus(new.corpus)
    report = build_index(Settings(corpus_dir=new.corpus, index_dir=new.index), embedder=embedder)
    assert report.reused > 0
    return Reference(old, cli_answers(old.index), answers(new.index, embedder))
