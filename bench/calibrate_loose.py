"""Calibrate the loose-match setting and "In short" on the dev seed sets (not on writer B, the
frozen test set). Run it again when the embedding model or the scoring changes.

    .venv/bin/python bench/calibrate_loose.py

For every answerable question, each shown passage after the first is either "answering" (it holds
a key phrase) or not; the grid prints how many of each a (gap, floor) pair would put behind "More
passages". Then, for the current settings, how often "In short" holds a key phrase, for several
shares of the best sentence's score (retrieval/answer/in_short.py, SHARE_OF_BEST).
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SETS = [ROOT / "tests" / "eval" / "seed_questions.jsonl", ROOT / "tests" / "data" / "independent" / "seed" / "writerA.jsonl"]


def main() -> None:
    from retrieval.answer import answer_question, in_short
    from retrieval.config import Settings
    from retrieval.evaluation.metrics import normalise_for_match
    from retrieval.index import SentenceTransformerEmbedder, build_index
    from retrieval.search import Retriever

    questions = [json.loads(line) for path in SETS for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [q for q in questions if q.get("expect") != "decline" and q.get("any_of")]
    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(ROOT / "corpus", Path(folder) / "corpus")
        settings = Settings(corpus_dir=Path(folder) / "corpus", index_dir=Path(folder) / "index")
        embedder = SentenceTransformerEmbedder(settings.model, backend=settings.backend)
        build_index(settings, embedder=embedder)
        retriever = Retriever.load(settings, embedder=embedder)
        answers = [(q, answer_question(retriever, q["query"])) for q in questions]
        rows = []  # (similarity, gap to the best, answering) for passages 2..k
        for q, answer in answers:
            phrases = [normalise_for_match(p) for p in q["any_of"]]
            best = max((p.dense_score for p in answer.passages), default=0.0)
            for passage in answer.passages[1:]:
                text = normalise_for_match(passage.chunk.text)
                rows.append((passage.dense_score, best - passage.dense_score, any(p in text for p in phrases)))
        answering = sum(r[2] for r in rows)
        print(f"{len(questions)} answerable dev questions; {len(rows)} passages after the first, {answering} of them answering\n")
        print("| gap | floor | answering hidden | others hidden |\n|---|---|---|---|")
        for gap in (0.10, 0.15, 0.20, 0.25):
            for floor in (0.20, 0.25, 0.30, 0.35, 0.40):
                hidden = [r for r in rows if r[1] > gap or r[0] < floor]
                print(f"| {gap:.2f} | {floor:.2f} | {sum(r[2] for r in hidden)}/{answering} | "
                      f"{sum(not r[2] for r in hidden)}/{len(rows) - answering} |")
        print(f"\nsettings: gap {settings.loose_match_gap}, floor {settings.loose_match_floor}\n")
        print("| share of best | In short holds a key phrase | first highlight does | sentences (mean) |\n|---|---|---|---|")
        for share in (0.7, 0.8, 0.9):
            in_short.SHARE_OF_BEST = share
            hits = first = sentences = shown = 0
            for q, _ in answers:
                answer = answer_question(retriever, q["query"])
                if not answer.passages:
                    continue
                phrases = [normalise_for_match(p) for p in q["any_of"]]
                shown += 1
                hits += any(p in normalise_for_match(s.text) for s in answer.in_short for p in phrases)
                first += any(p in normalise_for_match(answer.passages[0].highlight) for p in phrases)
                sentences += sum(len(in_short.passage_sentences(s.text)) for s in answer.in_short)
            print(f"| {share} | {hits}/{shown} | {first}/{shown} | {sentences / shown:.2f} |")


if __name__ == "__main__":
    main()
