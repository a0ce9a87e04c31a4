"""A rebuild that lands while a question is being answered never mixes two index generations.

The app refreshes its retriever every few seconds while 16 clients ask questions; a question
whose search began on the old generation must be answered wholly from it (rows, titles, IDF
and highlights), not half from the new one.
"""

from __future__ import annotations

from pathlib import Path

from retrieval.answer.assemble import answer_question
from retrieval.config import Settings
from retrieval.index.build import build_index
from retrieval.search.retriever import Retriever

QUESTION = "What is sciatica and how is sciatic nerve pain treated?"
# Sorts before every seed file, so each old row number points at a different chunk afterwards.
NEW_ARTICLE = """# Sciatica: a sciatic nerve guide

Sciatica is pain that travels along the sciatic nerve, from the lower back through the buttock
and down the back of the leg. It is usually caused by a herniated disc pressing on a nerve root.

Most sciatica improves within six weeks with staying active, heat, gentle stretching and
simple pain relief. Physiotherapy helps many people. Surgery is considered only when
symptoms are severe or do not improve.
"""


def answers_around_a_rebuild(tmp_path: Path, seed_corpus: Path, embedder, question: str) -> tuple[dict, dict, dict]:  # type: ignore[no-untyped-def]
    """``question``'s answer before, during (an article added, the index rebuilt and refreshed
    in the middle of the search, after it took its generation) and after a rebuild."""
    import retrieval.index as index_stage  # the retriever looks tokenize up here, on each search

    settings = Settings(corpus_dir=seed_corpus, index_dir=tmp_path / "index")
    build_index(settings, embedder=embedder)
    retriever = Retriever.load(settings, embedder=embedder)
    old = answer_question(retriever, question).to_json()

    real_tokenize = index_stage.tokenize
    hooks = []

    def tokenize_after_a_rebuild(texts):  # type: ignore[no-untyped-def]
        while hooks:
            hooks.pop()()
        return real_tokenize(texts)

    def add_article_and_refresh() -> None:
        (seed_corpus / "000-sciatica-guide.md").write_text(NEW_ARTICLE, encoding="utf-8")
        assert build_index(settings, embedder=embedder).wrote_index
        assert retriever.refresh()

    hooks.append(add_article_and_refresh)
    index_stage.tokenize = tokenize_after_a_rebuild
    try:
        during = answer_question(retriever, question).to_json()
    finally:
        index_stage.tokenize = real_tokenize
    assert not hooks, "the rebuild never ran inside the search: this test would prove nothing"
    return old, during, answer_question(retriever, question).to_json()


def test_a_refresh_during_a_question_does_not_mix_generations(tmp_path: Path, seed_corpus: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    old, during, new = answers_around_a_rebuild(tmp_path, seed_corpus, embedder, QUESTION)
    assert new != old, "the new article changed nothing: this test would prove nothing"
    assert during == old


def test_a_refresh_during_a_declined_question_does_not_mix_generations(tmp_path: Path, seed_corpus: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """The "not covered" message lists the articles of the generation that searched, not of one
    a rebuild swapped in meanwhile (16 clients during a rebuild once saw such a mixed answer)."""
    old, during, new = answers_around_a_rebuild(tmp_path, seed_corpus, embedder, "how much does a new car cost")
    assert old["covered"] is False and new["covered"] is False
    assert new["message"] != old["message"], "the new article's title is not listed: this test would prove nothing"
    assert during == old


def test_search_result_carries_the_idf_of_its_own_generation(seed_retriever: Retriever) -> None:
    result = seed_retriever.search("lumbar leg pain")
    assert result.idf is seed_retriever.idf
    assert result.idf["lumbar"] > result.idf["pain"] > 0
