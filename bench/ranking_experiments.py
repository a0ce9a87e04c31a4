"""Ranking experiments for issue #4: variants of hybrid scoring replayed over a built index.

Every row of EVALUATION.md's "Ranking experiments" table came from this script. It replays the
shipped hybrid scoring with one change at a time (neighbour smoothing, sentence-level dense
scores, Rocchio feedback, weights, title F1, spelling fixes, a lay-word list) and scores each
variant with ``retrieval.evaluation.evaluate.evaluate``; the baseline variant reproduces the shipped figures.

    .venv/bin/python -m retrieval build --corpus corpus --index /tmp/q-seed
    .venv/bin/python -m retrieval build --corpus tests/data/medquad_small/corpus --index /tmp/q-medquad
    .venv/bin/python bench/ranking_experiments.py seed 'V(title_f1=True), V("sent-0.3", sent=0.3, sent_kind="bare", title_f1=True)'
    .venv/bin/python bench/ranking_experiments.py medquad 'V(title_f1=True)'

The shipped scoring is ``V(title_f1=True, exact_f1=1.0, docagg=0.07)`` (title F1, counted twice
for a title named word for word, plus document support); ``V(title_f1=True)`` is the scoring
before the third round.

Sentence vectors are embedded once per index and cached in /tmp/ranking-experiments/. Research
code: it patches ``retrieval.search.retriever`` at run time and is not used by the product.
"""
from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from retrieval.search import retriever as S  # noqa: E402
from retrieval.config import Settings
from retrieval.evaluation.evaluate import evaluate
from retrieval.evaluation.metrics import load_questions
from retrieval.search.retriever import Passage, Retriever, SearchResult


@dataclass(frozen=True)
class V:
    name: str = "base"
    nb: float = 0.0          # neighbour weight
    nb_how: str = "max"      # max | mean | sum
    sent: float = 0.0        # weight of best sentence in dense
    sent_kind: str = "title"  # bare | title | win2 | win3
    prf: float = 0.0         # Rocchio alpha
    prf_m: int = 3
    lexw: float = 0.5
    titlew: float = 0.2
    sent_pool: str = "max"   # max | top2
    title_prec: float = 0.0  # weight of the IDF share of the title's words found in the question
    title_f1: bool = False
    within: bool = False
    spell: bool = False
    lay: bool = False
    overlap_frac: float = 0.0  # >0: same-doc chunks redundant only if overlap > frac * shorter
    hub: float = 0.0         # CSLS-style hubness penalty weight
    hub_k: int = 10
    hub_how: str = "knn"     # knn | knn_other | mean
    docagg: float = 0.0
    exact: float = 0.0       # title named whole in the question: flat bonus
    exact_f1: float = 0.0    # ... or title F1 x (1 + exact_f1)
    docagg_m: int = 3


def split_sentences(text: str) -> list[str]:
    from retrieval.ingest.chunking import _segmenter
    out = []
    for line in text.split("\n"):
        s = line.strip()
        if not s:
            continue
        if s.startswith("- ") or len(s) < 40:
            out.append(s)
            continue
        for piece in _segmenter().segment(s):
            t = piece.sent.strip()
            if t:
                out.append(t)
    return out


_SENT_CACHE: dict = {}


def sentence_vectors(retriever: Retriever, kind: str, cache_dir: Path):
    key = (id(retriever.data), kind)
    if key in _SENT_CACHE:
        return _SENT_CACHE[key]
    path = cache_dir / f"sent-{kind}.npz"
    data = retriever.data
    owners, texts = [], []
    for row, chunk in enumerate(data.chunks):
        sents = split_sentences(chunk.text)
        if kind.startswith(("win", "twin")):
            w = int(kind[-1])
            sents = [" ".join(sents[i:i + w]) for i in range(max(1, len(sents) - w + 1))]
        for s in sents:
            owners.append(row)
            if kind == "sec":
                from retrieval.ingest.chunking import compose_embedded_text
                texts.append(compose_embedded_text(chunk.title, chunk.section, s, embed_title=True))
            elif kind.startswith("twin"):
                texts.append(f"{chunk.title}. {s}")
            else:
                texts.append(s if kind in ("bare",) or kind.startswith("win") else f"{chunk.title}. {s}")
    if path.exists():
        z = np.load(path)
        vecs, seconds = z["vecs"], float(z["seconds"])
    else:
        t = time.perf_counter()
        vecs = retriever.embedder.embed(texts)
        seconds = time.perf_counter() - t
        np.savez(path, vecs=vecs, seconds=seconds)
    owners = np.array(owners)
    print(f"  sentence vectors {kind}: {len(texts)} texts, embed {seconds:.1f}s", file=sys.stderr)
    _SENT_CACHE[key] = (owners, vecs)
    return owners, vecs


def make_search(retriever: Retriever, v: V, cache_dir: Path):
    data = retriever.data
    n = len(data.chunks)
    doc = [c.doc_id for c in data.chunks]
    prev_row = np.array([i - 1 if i > 0 and doc[i - 1] == doc[i] else -1 for i in range(n)])
    next_row = np.array([i + 1 if i + 1 < n and doc[i + 1] == doc[i] else -1 for i in range(n)])
    if v.sent:
        owners, svecs = sentence_vectors(retriever, v.sent_kind, cache_dir)
    from retrieval.index.bm25 import tokenize
    hubr = None
    if v.hub:
        X = data.vectors.astype(np.float32)
        if v.hub_how == "mean":
            mu = X.mean(axis=0); mu /= np.linalg.norm(mu)
            hubr = (X @ mu).astype(np.float64)
        else:
            G = X @ X.T
            np.fill_diagonal(G, -np.inf)
            if v.hub_how == "knn_other":
                da = np.array(doc)
                G[da[:, None] == da[None, :]] = -np.inf
            kk = min(v.hub_k, n - 1)
            part = -np.partition(-G, kk - 1, axis=1)[:, :kk]
            part = np.where(np.isfinite(part), part, np.nan)
            hubr = np.nan_to_num(np.nanmean(part, axis=1)).astype(np.float64)

    def dense_all(vec):
        every = S._inner_products(data.vectors, vec).astype(np.float64)
        if hubr is not None:
            every = every - v.hub * hubr
        if v.sent:
            s = S._inner_products(svecs, vec).astype(np.float64)
            best = np.full(n, -1.0)
            if v.sent_pool == "max":
                np.maximum.at(best, owners, s)
            every = (1 - v.sent) * every + v.sent * best
        return every

    idf = retriever.idf
    tterms = retriever._title_terms_of(data, {c.title for c in data.chunks})
    row_title = [tterms[c.title] for c in data.chunks]

    vocab = getattr(data.bm25, "vocab_dict", {}) or {}
    vlist = [w for w in vocab if len(w) >= 3]

    def correct(t):
        if t in vocab or len(t) < 6:
            return t
        best = None
        for w in vlist:
            if abs(len(w) - len(t)) <= 1 and edit1(t, w):
                if best is None or idf.get(w, 99) < idf.get(best, 99):
                    best = w
        return best or t

    def title_scores(terms):
        q = set(terms)
        total = sum(idf.get(t, 0.0) for t in q)
        rec = np.zeros(n); prec = np.zeros(n)
        if not total:
            return rec, prec
        cache = {}
        for i, tt in enumerate(row_title):
            if tt not in cache:
                common = sum(idf.get(t, 0.0) for t in q & tt)
                tot_t = sum(idf.get(t, 0.0) for t in tt)
                cache[tt] = (common / total, common / tot_t if tot_t else 0.0)
            rec[i], prec[i] = cache[tt]
        return rec, prec

    title_words = {t: " " + " ".join(re.findall(r"\w+", t.lower())) + " " for t in {c.title for c in data.chunks}}
    query_words = [""]

    def exact_titles(qw):
        named = {t: (w.strip() != "" and w in qw) for t, w in title_words.items()}
        return [named[c.title] for c in data.chunks]

    def fuse_plain(vec, terms):
        return fuse(vec, terms, plain=True)

    def fuse(vec, terms, plain=False):
        every = dense_all(vec) if not plain else S._inner_products(data.vectors, vec).astype(np.float64)
        lex = S._lexical_scores(data, terms).astype(np.float64)
        d = (every - every.min()) / (every.max() - every.min() + 1e-9)
        lo, hi = lex.min(initial=0.0), lex.max(initial=0.0)
        f = d + (v.lexw * (lex - lo) / (hi - lo) if hi > lo else 0)
        if v.titlew or v.title_prec:
            rec, prec = title_scores(terms)
            if v.title_f1:
                f1 = np.where(rec + prec > 0, 2 * rec * prec / np.maximum(rec + prec, 1e-9), 0)
                if v.exact or v.exact_f1:
                    named = exact_titles(query_words[0])
                    ex = np.array([1.0 if named[i] else 0.0 for i in range(n)])
                    f = f + v.exact * ex * (f1 > 0)
                    f1 = f1 * (1 + v.exact_f1 * ex)
                f = f + v.titlew * f1
            else:
                f = f + v.titlew * rec + v.title_prec * prec
        return f, every, lex

    def search(query, *, k=3, mode=None, query_vector=None):
        vec = retriever.encode(query)
        q = query
        query_words[0] = " " + " ".join(re.findall(r"\w+", query.lower())) + " "
        if v.lay:
            words = re.findall(r"\w+", q.lower())
            q = q + " " + " ".join(LAY[w] for w in words if w in LAY)
        terms = tokenize([q])[0]
        if v.spell:
            words = [w for w in re.findall(r"(?u)\b\w\w+\b", q.lower())]
            unknown = {tokenize([w])[0][0] for w in words if tokenize([w])[0] and retriever.embedder.count_tokens([w])[0] > 1}
            terms = [correct(t) if t in unknown else t for t in terms]
        f, every, lex = fuse(vec, terms)
        if v.within:
            f0, _, _ = fuse_plain(vec, terms)
            import collections
            best0 = collections.defaultdict(lambda: -1e9); best1 = collections.defaultdict(lambda: -1e9)
            for i, d in enumerate(doc):
                best0[d] = max(best0[d], f0[i]); best1[d] = max(best1[d], f[i])
            f = np.array([best0[d] - (best1[d] - f[i]) for i, d in enumerate(doc)])
            every = _  if False else every
        if v.prf:
            top = np.argsort(-f)[: v.prf_m]
            q2 = vec + v.prf * data.vectors[top].mean(axis=0)
            q2 = (q2 / np.linalg.norm(q2)).astype(np.float32)
            f, _, _ = fuse(q2, terms)
        if v.nb:
            pv = np.where(prev_row >= 0, f[np.maximum(prev_row, 0)], np.nan)
            nv = np.where(next_row >= 0, f[np.maximum(next_row, 0)], np.nan)
            both = np.stack([pv, nv])
            if v.nb_how == "max":
                add = np.nan_to_num(np.nanmax(np.where(np.isnan(both), -np.inf, both), axis=0), neginf=0.0)
            elif v.nb_how == "mean":
                add = np.nan_to_num(np.nanmean(both, axis=0))
            else:
                add = np.nansum(both, axis=0)
            f = f + v.nb * add
        if v.docagg:
            import collections
            # over the candidates, as the shipped code does: dense top 50 + lexical top 50
            top = set(np.argsort(-every, kind="stable")[: S.CANDIDATES].tolist()) | set(S._best_rows(lex.astype(np.float32), S.CANDIDATES))
            per = collections.defaultdict(list)
            for r_ in top:
                per[doc[r_]].append(f[r_])
            agg = {d: (sorted(xs, reverse=True)[1:1 + v.docagg_m]) for d, xs in per.items()}
            agg = {d: (sum(xs) / v.docagg_m) for d, xs in agg.items()}
            f = f + v.docagg * np.array([agg.get(d, 0.0) for d in doc])
        # candidate set as in the shipped code: dense top 50 + lexical top 50
        want = min(n, 4 * S.CANDIDATES)
        dense_order = np.argsort(-every, kind="stable")[: S.CANDIDATES].tolist()
        lexical_order = S._best_rows(lex.astype(np.float32), want)
        lexical_rank = {row: r for r, row in enumerate(lexical_order, 1)}
        rows = set(dense_order) | set(lexical_order[: S.CANDIDATES])
        order = sorted(rows, key=lambda r: -f[r])[: 2 * S.CANDIDATES]
        cos = S._inner_products(data.vectors[order], vec).tolist()
        cands = [Passage(chunk=data.chunks[r], score=float(f[r]), dense_score=c, lexical_score=float(lex[r]),
                         lexical_rank=lexical_rank.get(r)) for r, c in zip(order, cos)]
        chosen = S._diversify(cands, [data.vectors[r] for r in order], k)
        return SearchResult(query, chosen, query_vector=vec, candidates=cands, data=data)

    return search


_orig_redundant = S._is_redundant


def redundant_frac(frac):
    def _is_redundant(index, chosen, candidates, vectors):
        chunk = candidates[index].chunk
        for other in chosen:
            o = candidates[other].chunk
            if o.doc_id == chunk.doc_id:
                shared = min(o.end, chunk.end) - max(o.start, chunk.start)
                if shared > frac * min(o.end - o.start, chunk.end - chunk.start):
                    return True
            if float(vectors[index] @ vectors[other]) >= S.NEAR_DUPLICATE:
                return True
        return False
    return _is_redundant


LAY = {
    "physio": "physiotherapy physical therapy", "tummy": "stomach abdominal", "belly": "stomach abdominal",
    "hoovering": "vacuuming", "hoover": "vacuum", "xray": "x-ray radiograph", "telly": "television",
    "bum": "buttocks", "painkillers": "analgesics medication", "kip": "sleep", "gp": "doctor",
    "knackered": "tired fatigue", "tablets": "medication", "pills": "medication", "jogging": "running",
    "overweight": "obesity weight", "op": "surgery operation", "operation": "surgery",
}


def edit1(a, b):
    if a == b:
        return True
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    if len(a) > len(b):
        a, b = b, a
    for i in range(len(b)):
        if b[:i] + b[i + 1:] == a:
            return True
    return False


def run(index: str, qfile: str, variants: list[V], cache: str) -> list[dict]:
    settings = Settings.from_env().with_overrides(index_dir=index)
    retriever = Retriever.load(settings)
    questions = load_questions(Path(qfile))
    out = []
    for v in variants:
        S._is_redundant = redundant_frac(v.overlap_frac) if v.overlap_frac else _orig_redundant
        retriever.search = make_search(retriever, v, Path(cache))  # type: ignore[method-assign]
        r = evaluate(retriever, questions, mode="hybrid")
        row = {"name": v.name, "h1": r.hit_at.get(1), "h3": r.hit_at.get(3), "h5": r.hit_at.get(5),
               "mrr": r.mrr, "declined": r.declined, "wrong": r.wrongly_declined}
        print(f"{v.name:<34} h1 {row['h1']:.3f} h3 {row['h3']:.3f} h5 {row['h5']:.3f} mrr {row['mrr']:.3f} "
              f"decl {row['declined']:.3f} wrong {row['wrong']:.3f}", flush=True)
        out.append(row)
    return out


INDEXES = {"seed": ("/tmp/q-seed", "tests/eval/seed_questions.jsonl"),
           "medquad": ("/tmp/q-medquad", "tests/data/medquad_small/qrels_small.jsonl")}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in INDEXES:
        sys.exit("usage: ranking_experiments.py seed|medquad 'V(...), V(...)'  (see the module docstring)")
    index, questions = INDEXES[sys.argv[1]]
    variants = eval(f"[{sys.argv[2]}]", {"V": V})  # a research script: the variants are Python expressions
    cache = Path("/tmp/ranking-experiments") / sys.argv[1]
    cache.mkdir(parents=True, exist_ok=True)
    run(index, str(ROOT / questions), variants, str(cache))
