"""Fine-tune the bundled MiniLM as the relevance encoder: ``python -m retrieval.evaluation.train_relevance``.

Question -> passage pairs from every relevance writer not held out for testing
(``relevance_data.py``: passages chunked as the product chunks them, the writers' hard
negatives and negatives mined with today's model), trained with in-batch negatives plus one hard
negative per question (a contrastive loss over cosine similarities times SCALE). Another
question on the same passage in the batch is not counted as a negative. Deterministic for a
given seed and thread count; about 40 minutes on 2 CPU cores.

Writes ``models/relevance-encoder/`` (int8 ONNX weights, tokenizer and configs: what the
product loads) and ``training.json`` (the data and settings). ``--exclude consumer-g`` leaves
writers out, to choose settings on them (``--out`` elsewhere); ``--check`` trains and writes
nothing but the figures of the data.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "relevance-encoder"


@dataclass(frozen=True)
class RelevanceConfig:
    seed: int = 0
    epochs: int = 1
    batch: int = 32
    lr: float = 2e-5
    scale: float = 20.0
    question_tokens: int = 64
    passage_tokens: int = 200
    threads: int = 2


def train(pairs, config: RelevanceConfig, *, log=print):  # type: ignore[no-untyped-def]
    import torch

    from retrieval.evaluation.finetune import load_bundled, pooled

    tokenizer, encoder, rng = load_bundled(config.seed, config.threads)
    encoder.train()

    def embed(texts: list[str], length: int):  # type: ignore[no-untyped-def]
        return pooled(encoder, tokenizer, texts, length)

    optimiser = torch.optim.AdamW(encoder.parameters(), lr=config.lr, weight_decay=0.01)
    steps = config.epochs * math.ceil(len(pairs) / config.batch)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, (steps - s) / steps))
    step, started = 0, time.perf_counter()
    for _ in range(config.epochs):
        order = list(range(len(pairs)))
        rng.shuffle(order)
        for begin in range(0, len(order), config.batch):
            batch = [pairs[i] for i in order[begin:begin + config.batch]]
            passages, ids = [p.positive for p in batch], [p.positive_id for p in batch]
            for p in batch:
                negative = p.writer_negative or (rng.choice(p.mined[:2]) if p.mined else None)
                if negative:
                    passages.append(negative)
                    ids.append("")
            scores = embed([p.question for p in batch], config.question_tokens) @ \
                embed(passages, config.passage_tokens).T * config.scale
            same = torch.tensor([[j != i and ids[j] == ids[i] for j in range(len(passages))] for i in range(len(batch))])
            loss = torch.nn.functional.cross_entropy(scores.masked_fill(same, -1e4), torch.arange(len(batch)))
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(encoder.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            step += 1
            if step % 20 == 0:
                log(f"step {step}/{steps}, loss {loss.item():.3f}, {time.perf_counter() - started:.0f} s")
    encoder.eval()
    return encoder, tokenizer


def save(encoder, tokenizer, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """The encoder as a model folder that ships int8 ONNX weights (what the product loads)."""
    from retrieval.evaluation.finetune import save_int8

    save_int8(encoder, tokenizer, folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--exclude", action="append", default=[], help="leave this writer out, e.g. consumer-g")
    parser.add_argument("--epochs", type=int, default=RelevanceConfig.epochs)
    parser.add_argument("--check", action="store_true", help="build the pairs and report them; train nothing")
    parser.add_argument("--mine-with", choices=("bundled", "relevance"), default="bundled",
                        help="the model that mines the hard negatives: the bundled MiniLM (the shipped encoder's "
                             "recipe) or the shipped relevance encoder (harder negatives; EVALUATION.md, \"Sixth round\")")
    args = parser.parse_args(argv)

    from retrieval.config import RELEVANCE_MODEL
    from retrieval.evaluation.relevance_data import mine_negatives, training_pairs
    from retrieval.index import SentenceTransformerEmbedder

    config = RelevanceConfig(epochs=args.epochs)
    bundled = SentenceTransformerEmbedder(model_name="bundled")
    miner = bundled if args.mine_with == "bundled" else SentenceTransformerEmbedder(model_name=RELEVANCE_MODEL)
    pairs, pools = training_pairs(bundled.count_tokens, exclude_writers=frozenset(args.exclude))
    mine_negatives(pairs, pools, lambda texts: miner.embed(list(texts)))
    summary = {
        "pairs": len(pairs),
        "with_writer_negative": sum(p.writer_negative is not None for p in pairs),
        "writers": sorted({f"{p.corpus}-{p.writer}" for p in pairs}),
        "excluded": sorted(args.exclude),
        "negatives_mined_with": args.mine_with,
        "config": asdict(config),
    }
    print(json.dumps(summary), file=sys.stderr)
    if args.check:
        return 0
    encoder, tokenizer = train(pairs, config, log=lambda line: print(line, file=sys.stderr, flush=True))
    save(encoder, tokenizer, args.out)
    (args.out / "training.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
