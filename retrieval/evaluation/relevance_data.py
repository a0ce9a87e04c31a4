"""Question -> passage training pairs for the relevance encoder, as the product chunks the passages.

Each training writer's consumer articles are cleaned and chunked by the build's own stages
(title prefix included, as it is embedded); a question's positive is the chunk that holds most
of the paragraph it was written for. MedQuAD passages are chunked the same way, one file each.
The project's own seed writers (``tests/data/independent/seed``) ask over the bundled articles
(``corpus/``), chunked as ``build`` chunks them; a question's positive is the chunk that holds
the most of its verbatim key phrases. Seed writers listed under ``encoder_holdout`` in
``writer_split.yaml`` are never trained on: they judge whether these pairs earn their place.
Negatives:

- the writer's own hard negative, where there is one (a paragraph on a nearby subject that
  shares words with the question but does not answer it), if it is another chunk;
- mined: the chunks today's model ranks highest for the question among the same pool (the
  writer's articles, the seed articles, or every MedQuAD passage) that do not hold the answer
  (for MedQuAD, another document; for the seed articles, none of the key phrases), as long as
  they share little of the answer paragraph.

The frozen test writers' questions and passages are never read here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from retrieval.evaluation.training_data import OWN_DATA, lay_questions, writer_split
from retrieval.evaluation.writer_sets import SEED_CORPUS, trigrams, article_text, consumer_articles, medquad_passages

MINED_PER_QUESTION = 3
MINED_FROM_TOP = 15
MAX_SHARED = 0.2  # a mined negative may hold at most this share of the answer paragraph's trigrams


@dataclass(frozen=True)
class PoolChunk:
    id: str
    document: str  # article id, or MedQuAD document id
    text: str  # as a reader sees it
    embedded: str  # as it is embedded (title prefix)


@dataclass
class Pair:
    corpus: str
    writer: str
    question: str
    positive: str  # embedded text
    positive_id: str
    pool: str  # the pool the negatives come from: a consumer writer, or "medquad"
    paragraph: str = ""  # consumer: the answer paragraph
    document: str = ""  # medquad: the answer's document id
    phrases: tuple[str, ...] = ()  # seed: the verbatim key phrases that answer it
    writer_negative: str | None = None
    mined: list[str] = field(default_factory=list)


def share_of(paragraph: str, text: str) -> float:
    wanted = trigrams(paragraph)
    return len(wanted & trigrams(text)) / max(len(wanted), 1)


def product_chunks(doc_id: str, file_text: str, count_tokens) -> list:  # type: ignore[no-untyped-def]
    """The chunks ``build`` makes of one document (cleaning and chunking as configured by default)."""
    from retrieval.config import Settings
    from retrieval.index import ChunkRequest, chunk_document, clean_file

    settings = Settings()
    cleaned = clean_file(doc_id, file_text.encode("utf-8"), doc_id)
    if cleaned.document is None:
        return []
    request = ChunkRequest(doc_id, cleaned.document.title, cleaned.text, settings.chunk_tokens,
                           settings.overlap_sentences, settings.embed_title)
    return chunk_document(request, count_tokens)


def training_pairs(count_tokens, *, exclude_writers: frozenset[str] = frozenset()) -> tuple[list[Pair], dict[str, list[PoolChunk]]]:  # type: ignore[no-untyped-def]
    """Pairs for every writer the encoder may learn from (not test, not ``encoder_holdout``, not in
    ``exclude_writers``, e.g. "consumer-g"), and the pools."""
    split = writer_split()
    articles = consumer_articles()
    pools: dict[str, list[PoolChunk]] = {}
    for article_id, article in articles.items():
        if not split.is_trained_on("consumer", article["writer"]):
            continue
        chunks = product_chunks(f"{article_id}.txt", article_text(article), count_tokens)
        pools.setdefault(article["writer"], []).extend(
            PoolChunk(c.id, article_id, c.text, c.embedded_text(embed_title=True)) for c in chunks)
    passages = medquad_passages()
    by_pid: dict[str, PoolChunk] = {}
    for pid, p in passages.items():
        if split.is_test("medquad", pid[1:3]):
            continue
        chunks = product_chunks(f"{pid}.txt", f"{p['title'].strip()}\n\n{p['passage'].strip()}\n", count_tokens)
        if chunks:
            by_pid[pid] = PoolChunk(chunks[0].id, p["doc_id"], chunks[0].text, chunks[0].embedded_text(embed_title=True))
    pools["medquad"] = list(by_pid.values())
    pairs = []
    for q in lay_questions():
        if not split.is_trained_on(q.corpus, q.writer) or q.key in exclude_writers:
            continue
        if q.corpus == "medquad":
            chunk = by_pid.get(q.passage)
            if chunk:
                pairs.append(Pair("medquad", q.writer, q.text, chunk.embedded, chunk.id, "medquad", document=chunk.document))
            continue
        article_id, para = q.passage.split("#")
        paragraph = articles[article_id]["paragraphs"][int(para)]
        pool = pools[articles[article_id]["writer"]]
        best = max((c for c in pool if c.document == article_id), key=lambda c: share_of(paragraph, c.text))
        if share_of(paragraph, best.text) < 0.5:
            continue  # the cleaner or the chunker split the paragraph: no single chunk answers
        pair = Pair("consumer", q.writer, q.text, best.embedded, best.id, articles[article_id]["writer"], paragraph=paragraph)
        if q.negative:
            neg_id, neg_para = q.negative.split("#")
            neg_paragraph = articles[neg_id]["paragraphs"][int(neg_para)]
            neg_pool = pools.get(articles[neg_id]["writer"], [])
            candidates = [c for c in neg_pool if c.document == neg_id]
            if candidates:
                negative = max(candidates, key=lambda c: share_of(neg_paragraph, c.text))
                if negative.id != best.id and share_of(paragraph, negative.text) < MAX_SHARED:
                    pair.writer_negative = negative.embedded
        pairs.append(pair)
    pairs += seed_pairs(count_tokens, pools, exclude_writers)
    return pairs, pools


def seed_pairs(count_tokens, pools: dict[str, list[PoolChunk]], exclude_writers: frozenset[str]) -> list[Pair]:  # type: ignore[no-untyped-def]
    """Pairs from the seed writers' answerable questions (not the test writers, not
    ``encoder_holdout``, not ``exclude_writers``); adds the bundled articles' chunks as pool "seed"."""
    from retrieval.evaluation.metrics import passage_hits_phrases
    from retrieval.evaluation.questions import load_questions

    split = writer_split()
    pool = pools["seed"] = [
        PoolChunk(c.id, file.name, c.text, c.embedded_text(embed_title=True))
        for file in sorted(SEED_CORPUS.glob("*.txt"))
        for c in product_chunks(file.name, file.read_text(encoding="utf-8"), count_tokens)
    ]
    pairs = []
    for file in sorted((OWN_DATA / "seed").glob("writer*.jsonl")):
        writer = file.stem.removeprefix("writer")
        if not split.is_trained_on("seed", writer) or f"seed-{writer}" in exclude_writers:
            continue
        for q in load_questions(file):
            if q.expect != "answer" or not q.any_of:
                continue
            hits = [(sum(passage_hits_phrases(c.text, [phrase]) for phrase in q.any_of), -n, c) for n, c in enumerate(pool)]
            count, _, best = max(hits, key=lambda h: h[:2])
            if count:
                pairs.append(Pair("seed", writer, q.query, best.embedded, best.id, "seed", document=best.document, phrases=q.any_of))
    return pairs


def mine_negatives(pairs: list[Pair], pools: dict[str, list[PoolChunk]], embed) -> None:  # type: ignore[no-untyped-def]
    """Fill each pair's ``mined`` with the best-ranked chunks of its pool that do not answer it."""
    from retrieval.evaluation.metrics import passage_hits_phrases

    vectors = {name: embed([c.embedded for c in chunks]) for name, chunks in pools.items()}
    questions = embed([p.question for p in pairs])
    for pair, vector in zip(pairs, questions):
        pool = pools[pair.pool]
        order = np.argsort(-(vectors[pair.pool] @ vector), kind="stable")[:MINED_FROM_TOP]
        for i in order:
            chunk = pool[int(i)]
            if pair.corpus == "consumer":
                if chunk.embedded == pair.positive or share_of(pair.paragraph, chunk.text) >= MAX_SHARED:
                    continue
            elif pair.corpus == "seed":
                if chunk.embedded == pair.positive or passage_hits_phrases(chunk.text, pair.phrases):
                    continue
            elif chunk.document == pair.document:
                continue
            pair.mined.append(chunk.embedded)
            if len(pair.mined) >= MINED_PER_QUESTION:
                break
