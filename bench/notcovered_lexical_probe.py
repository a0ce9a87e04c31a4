"""Does a lexical signal tell "not covered" from "answerable" better than the best passage's
cosine alone? A probe, not a component (EVALUATION.md, "Fifth round" and "Sixth round": built
into the product, it did not earn a place on the test corpora).

For the consumer corpora of the "not covered" writers N2 (c, k), N3 (e, g), N4 (m, r), and, since
the sixth round, N6 (a, b), N7 (f, h), N8 (i, l), N9 (n, o), N10 (p, s) and N11 (t, w), every
answerable question of the consumer writers and every not-covered question is searched with the
product's retriever over the corpus built by the product's ``build``. Per question:

- ``d1``: the best passage's cosine (the shipped gate: declined below ``DENSE_THRESHOLD``);
- ``absent``: the share of the question's content words (BM25 tokens, stemmed, stop words and a
  few generic back-pain words dropped) found nowhere in the corpus;
- ``in_top3``: the share found in the three passages shown;
- ``qp``: the question's vector times the best passage's, dimension by dimension (384 numbers:
  which parts of their agreement matter, a linear "answers it" head over the relevance encoder).

A logistic regression over them is fitted leaving one "not covered" writer out (its two corpora),
with the decline threshold set so that 3% of the training corpora's answerable questions are
declined, and compared with ``d1`` alone at the same rate; and, to compare the curves rather
than the thresholds, at the held-out corpora's own 2%, 3% and 5% answerable-declined points;
``rule`` is check 1 of the sixth round's rule. N1 and N5 (corpora j and v, frozen test) are not
read. About 45 seconds on 2 cores once the indexes are cached by ``eval-writers`` (the first
build of the 18 corpora takes a few minutes):

    .venv/bin/python bench/notcovered_lexical_probe.py bench/results/notcovered-probe-sixth-round-2026-12-08.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.evaluation.writer_sets import not_covered_questions, writer_sets  # noqa: E402
from retrieval.evaluation.writers import default_cache, settings_for  # noqa: E402
from retrieval.index import build_index  # noqa: E402
from retrieval.index.bm25 import tokenize  # noqa: E402
from retrieval.search import Retriever  # noqa: E402

FOLDS = {"N2": "ck", "N3": "eg", "N4": "mr",  # the "not covered" writer and the corpora it wrote for
         "N6": "ab", "N7": "fh", "N8": "il", "N9": "no", "N10": "ps", "N11": "tw"}  # sixth round
GENERIC = frozenset(tokenize(["back pain hurt hurts ache aches sore get help good bad best thing way need know want feel make like day week"])[0])
FEATURE_SETS = {"d1 alone (the shipped gate)": ["d1"], "d1 + absent": ["d1", "absent"],
                "d1 + absent + in_top3": ["d1", "absent", "in_top3"], "d1 + qp": ["d1", "qp"]}
ANSWERABLE_DECLINED = 0.03


def question_rows() -> list[dict]:
    kinds = {q["query"]: q["topic"].split(":")[0] for q in not_covered_questions()}
    cache, rows = default_cache(), []
    letters = "".join(FOLDS.values())
    for writer_set in writer_sets(cache, which="all", include=lambda n: n.startswith("consumer-") and n[-1] in letters):
        settings = settings_for(writer_set, cache)
        build_index(settings)
        retriever = Retriever.load(settings)
        vocabulary = {t for path in writer_set.corpus.rglob("*") if path.is_file()
                      for t in tokenize([path.read_text(encoding="utf-8", errors="ignore")])[0]}
        for q in writer_set.questions:
            result = retriever.search(q.text, k=5)
            words = [t for t in dict.fromkeys(tokenize([q.text])[0]) if t not in GENERIC]
            shown = {t for p in result.passages[:3] for t in tokenize([p.chunk.text])[0]}
            n = max(len(words), 1)
            best = max(result.candidates[:10], key=lambda p: p.dense_score)
            qp = np.asarray(result.query_vector, dtype=np.float32).ravel() * retriever.data.vectors[best.row]
            rows.append({"corpus": writer_set.name[-1], "decline": q.expect == "decline", "kind": kinds.get(q.text, "answerable"),
                         "d1": best.dense_score, "qp": qp.tolist(),
                         "absent": sum(t not in vocabulary for t in words) / n, "in_top3": sum(t in shown for t in words) / n})
    return rows


def features(rows: list[dict], columns: list[str]) -> np.ndarray:
    return np.array([np.concatenate([np.atleast_1d(r[c]) for c in columns]) for r in rows], dtype=np.float64)


def leave_one_writer_out(rows: list[dict], columns: list[str]) -> dict:
    from sklearn.linear_model import LogisticRegression

    out = {}
    for writer, corpora in FOLDS.items():
        train = [r for r in rows if r["corpus"] not in corpora]
        test = [r for r in rows if r["corpus"] in corpora]
        x, y = features(train, columns), np.array([r["decline"] for r in train])
        mean, spread = x.mean(0), x.std(0) + 1e-9
        model = LogisticRegression(C=0.01 if "qp" in columns else 1.0, max_iter=3000).fit((x - mean) / spread, y)
        train_p = model.predict_proba((x - mean) / spread)[:, 1]
        threshold = np.quantile(train_p[~y], 1 - ANSWERABLE_DECLINED)
        test_p = model.predict_proba((features(test, columns) - mean) / spread)[:, 1]

        def shares(declined: np.ndarray) -> dict:
            share = lambda pick: round(float(np.mean([d for d, r in zip(declined, test) if pick(r)])), 3)  # noqa: E731
            return {"not_covered_declined": share(lambda r: r["decline"]),
                    "back_topics_not_covered_declined": share(lambda r: r["kind"] == "back topic not covered"),
                    "answerable_declined": share(lambda r: not r["decline"])}

        answerable_p = test_p[[not r["decline"] for r in test]]
        out[writer] = {"at_3_percent_of_training_answerable": shares(test_p >= threshold)} | {
            f"at_{rate:.0%}_of_held_out_answerable": shares(test_p > np.quantile(answerable_p, 1 - rate))
            for rate in (0.02, 0.03, 0.05)}
    return out


def sixth_round_rule(report: dict) -> dict:
    """Check 1 of EVALUATION.md's sixth-round rule, written before N6-N11 wrote: at each held-out
    fold's own 3% answerable-declined point, more not-covered questions declined than ``d1`` alone
    in at least 7 of the 9 folds, by at least 3 points on average."""
    at = "at_3%_of_held_out_answerable"
    base = report["d1 alone (the shipped gate)"]
    verdict = {}
    for name, folds in report.items():
        if name.startswith("d1 alone"):
            continue
        gains = [folds[w][at]["not_covered_declined"] - base[w][at]["not_covered_declined"] for w in FOLDS]
        verdict[name] = {"folds_better": sum(g > 0 for g in gains), "mean_gain": round(float(np.mean(gains)), 3),
                         "passes_check_1": sum(g > 0 for g in gains) >= 7 and float(np.mean(gains)) >= 0.03}
    return verdict


def main(path: str) -> None:
    rows = question_rows()
    report = {name: leave_one_writer_out(rows, columns) for name, columns in FEATURE_SETS.items()}
    report["rule"] = sixth_round_rule(report)
    Path(path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(sys.argv[1])
