"""Per question of chosen writer sets, what the "not covered" choice needs: whether it should be
answered, its best passage's cosine, its card, whether it names another part of the body, and
the rank of its first hit. Written as JSON for ``bench/coverage_writers_sweep.py``.

    RETRIEVAL_MODEL=models/relevance-encoder DUMP_CACHE=/tmp/wc .venv/bin/python \\
        bench/coverage_writers_dump.py /tmp/dump.json dev seed-C consumer-z seed-A seed-D seed-E consumer-c consumer-k

(EVALUATION.md, "Second round": how DENSE_THRESHOLD 0.25 was chosen; about 15 minutes on 2 cores.)
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.answer import answer_question  # noqa: E402
from retrieval.evaluation.writer_sets import writer_sets  # noqa: E402
from retrieval.evaluation.writers import default_cache, settings_for  # noqa: E402
from retrieval.index import build_index  # noqa: E402
from retrieval.search import Retriever  # noqa: E402
from retrieval.search.coverage import assess_coverage  # noqa: E402


def main(out: str, which: str, names: list[str]) -> None:
    cache = Path(os.environ["DUMP_CACHE"]) if "DUMP_CACHE" in os.environ else default_cache()
    rows = []
    for writer_set in writer_sets(cache, which=which, include=lambda n: n.startswith(tuple(names))):
        settings = settings_for(writer_set, cache)
        build_index(settings)
        retriever = Retriever.load(settings)
        for q in writer_set.questions:
            answer = answer_question(retriever, q.text, k=5)
            result = retriever.search(q.text, k=5)
            coverage = assess_coverage(result, question=q.text, nerve_pain=answer.triage.safety_net)
            rank = next((i for i, p in enumerate(result.passages) if q.is_hit(p.chunk.text, p.chunk.doc_id)), None)
            rows.append(dict(set=writer_set.name, q=q.text, expect=q.expect, level=q.level, triage=answer.triage.level,
                             shown=bool(answer.passages), covered=coverage.covered, dense=round(coverage.best_dense, 4),
                             parts=bool(coverage.uncovered_parts), rank=rank, animal=answer.triage.about_animal))
        print(writer_set.name, file=sys.stderr)
    Path(out).write_text(json.dumps(rows), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
