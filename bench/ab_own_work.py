"""Our own work per question (answer_question with the query vector precomputed), for an A/B of
two checkouts of this repository on the same index, in separate processes:

    git worktree add /tmp/old <commit>
    .venv/bin/python bench/ab_own_work.py /tmp/old bench/data/index-small-onnx
    .venv/bin/python bench/ab_own_work.py . bench/data/index-small-onnx

Prints the median over 5 passes of the 453 evaluation questions (seed set + MedQuAD qrels_small).
"""
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
root = sys.argv[1]
sys.path.insert(0, os.path.abspath(root))
from retrieval.config import Settings  # package-level names: the same before and after the layout change
from retrieval.answer import answer_question
from retrieval.search import Retriever
r = Retriever.load(Settings.from_env().with_overrides(index_dir=sys.argv[2]))
qs = [json.loads(l)["query"] for l in open(HERE + '/tests/eval/seed_questions.jsonl')] + [json.loads(l)["query"] for l in open(HERE + '/tests/data/medquad_small/qrels_small.jsonl')]
vecs = {q: r.encode(q) for q in qs}
r.encode = lambda q: vecs[q]  # the floor's encode removed: our own work only
for q in qs: answer_question(r, q)
rounds = []
for _ in range(5):
    t = time.perf_counter()
    for q in qs: answer_question(r, q)
    rounds.append((time.perf_counter() - t) / len(qs) * 1000)
print(root, sys.argv[2], "ms/question (answer minus encode), median of 5:", round(statistics.median(rounds), 3), [round(x,3) for x in rounds])
