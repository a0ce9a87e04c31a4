"""Train the red-flag classifier: ``python -m retrieval.evaluation.train_flags [--check]``.

1. Leave writers out (:data:`FOLDS`): for each fold, fine-tune on every other training writer
   and score the fold's messages, so every training message gets probabilities from a model
   that never saw its writer (``flag_training.py``).
2. Choose the thresholds on those out-of-fold scores, pricing both errors
   (``flag_thresholds.py``), and write the whole trade-off table.
3. Fine-tune once more on every training writer with those thresholds, export the encoder as
   int8 ONNX into ``models/redflag-classifier/`` with ``head.npz``, and score the frozen test
   writers (``retrieval/evaluation/data/writer_split.yaml``) once, with the int8 weights the
   product loads.

Deterministic for a given seed (``TrainConfig``) and thread count; about an hour on 2 CPU cores
(four folds of 10 minutes, the final model 13). ``--check`` trains and writes nothing into
``models/``; ``--folds-only`` stops after step 2 (``--out`` then gets the out-of-fold scores and
the trade-off table); ``--from-folds OUT/out_of_fold.npz`` reuses them (the rules are re-read
from the bank, so an edited bank is re-audited without retraining; repeat it to join the scores
of runs that each left out other folds, ``--only-fold K``: a fold's model depends only on the
seed and the writers it trains on, so the joined scores are those of one run of every fold); ``--reuse-model`` keeps the
weights in ``--out`` and only rewrites the thresholds and the test figures.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from retrieval.safety import MODEL_DIR

# Writers left out together in each fold: the red-flag writers, spread so that every fold holds
# out and trains on some of each brief (writer1-8: the first briefs; writer9, 10, 13-15: ordinary
# messages that sound alarming; writer16, 17: an ordinary alarming message paired with a current
# emergency in the same words; writer22, 23: an ordinary message naming a risk factor paired with a
# current same-day warning), and a share of the lay question writers (every fourth, in name
# order), so each fold holds both kinds of message. Since the fourth round (EVALUATION.md) every
# red-flag training writer is in a fold but those of TRAINING_ONLY; "own" (the project's
# hand-written set) is training only.
FOLDS = (
    ("writer1", "writer7", "writer13", "writer16", "writer23"),
    ("writer3", "writer8", "writer14", "writer17"),
    ("writer4", "writer9", "writer15", "writer19"),
    ("writer6", "writer10", "writer20", "writer22"),
)
# Red-flag training writers in no fold (scored by no fold's model; every fold trains on them).
# Writers 19 and 20 were, for candidate D (EVALUATION.md, "Fourth round"): written after C's
# folds had run, D reused C's out-of-fold scores (--from-folds). The next full run has them in folds.
# Writers 26-28 are, for candidate G (EVALUATION.md, "Sixth round"): G reuses F's out-of-fold scores.
TRAINING_ONLY: tuple[str, ...] = ("writer26", "writer27", "writer28")


def fold_of(writer: str, lay_writers: list[str]) -> int | None:
    for index, writers in enumerate(FOLDS):
        if writer in writers:
            return index
    if writer in lay_writers:
        return lay_writers.index(writer) % len(FOLDS)
    return None  # "own": training only


def units_of(text: str) -> list[str]:
    from retrieval.safety import message_units

    return [u for u in message_units(text) if u != text] + [text]


def score_items(model, items):  # type: ignore[no-untyped-def]
    from retrieval.evaluation.flag_thresholds import Scored
    from retrieval.evaluation.flag_training import unit_probabilities

    encoder, layer, tokenizer = model
    texts, spans = [], []
    for item in items:
        units = units_of(item.text)
        spans.append((len(texts), len(texts) + len(units)))
        texts += units
    probabilities = unit_probabilities(encoder, layer, tokenizer, texts)
    return [Scored(item, probabilities[a:b], fired_rules(item.text)) for item, (a, b) in zip(items, spans)]


def fired_rules(text: str) -> tuple[tuple[str, str], ...]:
    """The bank's rules that fire on ``text`` (the rules alone, as ``assess(learned=False)``)."""
    from retrieval.safety import assess, rule_level

    return tuple((rule, rule_level(rule)) for rule in assess(text, learned=False).reasons)


def save_scores(scored, path: Path) -> None:  # type: ignore[no-untyped-def]
    """The out-of-fold probabilities, so the thresholds can be chosen again without retraining
    (the rules' level is not saved: it is recomputed from the bank as it is then)."""
    offsets = np.cumsum([0] + [len(s.probabilities) for s in scored])
    np.savez_compressed(
        path, probabilities=np.concatenate([s.probabilities for s in scored]).astype(np.float32), offsets=offsets,
        writers=np.array([s.item.writer for s in scored]), texts=np.array([s.item.text for s in scored]),
        groups=np.array([s.item.group or "" for s in scored]), levels=np.array([s.item.level for s in scored]),
    )


def load_scores(path: Path):  # type: ignore[no-untyped-def]
    from retrieval.evaluation.flag_thresholds import Scored
    from retrieval.evaluation.flag_training import Item

    with np.load(path, allow_pickle=False) as data:
        offsets, probabilities = data["offsets"], data["probabilities"]
        rows = zip(data["writers"], data["texts"], data["groups"], data["levels"])
        items = [Item(str(w), str(t), str(g) or None, str(lv)) for w, t, g, lv in rows]
    return [Scored(item, probabilities[offsets[i]:offsets[i + 1]], fired_rules(item.text)) for i, item in enumerate(items)]


def test_figures(scored, thresholds):  # type: ignore[no-untyped-def]
    """The frozen test writers' figures, one writer at a time."""
    from retrieval.evaluation.flag_thresholds import figures, shown_level

    levels = [shown_level(s, thresholds) for s in scored]
    return {
        writer: figures([lv for lv, s in zip(levels, scored) if s.item.writer == writer],
                        [s for s in scored if s.item.writer == writer], thresholds)
        for writer in sorted({s.item.writer for s in scored})
    }


def score_shipped(folder: Path, items):  # type: ignore[no-untyped-def]
    """Score ``items`` with the exported classifier in ``folder``, as the product runs it."""
    from retrieval.evaluation.flag_thresholds import Scored
    from retrieval.index import SentenceTransformerEmbedder
    from retrieval.safety import FlagHead

    head = FlagHead.load(folder / "head.npz")
    encoder = SentenceTransformerEmbedder(str(folder), backend="onnx")
    texts, spans = [], []
    for item in items:
        units = units_of(item.text)
        spans.append((len(texts), len(texts) + len(units)))
        texts += units
    probabilities = head.probabilities(np.asarray(encoder.embed(texts), dtype=np.float32))
    return [Scored(item, probabilities[a:b], fired_rules(item.text)) for item, (a, b) in zip(items, spans)]


def write_thresholds(path: Path, thresholds) -> None:  # type: ignore[no-untyped-def]
    """Store the chosen thresholds beside the head's weights (the rules' negation check is not
    consulted: ``context_threshold`` 0)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in ("groups", "weights", "bias")}
    np.savez_compressed(
        path, **arrays, flag_threshold=np.float32(thresholds.flag), emergency_threshold=np.float32(thresholds.emergency),
        context_threshold=np.float32(0.0), dosing_threshold=np.float32(thresholds.dosing),
        pet_threshold=np.float32(thresholds.pet), pooling=np.array("sum"),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="train and report; write nothing into models/")
    parser.add_argument("--folds-only", action="store_true", help="stop after choosing the thresholds")
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--from-folds", type=Path, action="append",
                        help="reuse the out-of-fold scores a --folds-only run saved (repeatable: the scores are joined)")
    parser.add_argument("--only-fold", type=int, action="append", choices=range(1, len(FOLDS) + 1), metavar="K",
                        help="leave out only fold K (repeatable): the thresholds are chosen on fewer writers, in a "
                             "quarter of the time per fold left out")
    parser.add_argument("--reuse-model", action="store_true",
                        help="keep the weights already in --out; write the chosen thresholds and score the test writers")
    args = parser.parse_args(argv)

    from retrieval.evaluation.flag_thresholds import as_dict, audit_rules, choose, choose_declines, figures, shown_level
    from retrieval.evaluation.flag_training import (
        GROUPS, TrainConfig, layer_arrays, save_model, split_items, train, training_examples,
    )
    from retrieval.evaluation.training_data import flag_messages, lay_questions

    def log(line: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)

    config = TrainConfig()
    train_items, test_items = split_items(flag_messages(), lay_questions())
    lay_writers = sorted({i.writer for i in train_items if i.group is None})
    if args.from_folds:
        runs = [load_scores(path) for path in args.from_folds]
        writers_per_run = [{s.item.writer for s in run} for run in runs]
        if sum(map(len, writers_per_run)) != len(set().union(*writers_per_run)):
            parser.error("--from-folds: the same writer is in more than one file (each file must leave out other folds)")
        out_of_fold = [scored for run in runs for scored in run]
        log(f"out-of-fold scores of {len(out_of_fold)} messages read from {', '.join(map(str, args.from_folds))}")
    else:
        out_of_fold = []
        for fold in range(len(FOLDS)):
            if args.only_fold and fold + 1 not in args.only_fold:
                continue
            held = [i for i in train_items if fold_of(i.writer, lay_writers) == fold]
            rest = [i for i in train_items if fold_of(i.writer, lay_writers) != fold]
            log(f"fold {fold + 1}/{len(FOLDS)}: training on {len(rest)} messages, scoring {len(held)}")
            out_of_fold += score_items(train(training_examples(rest, seed=config.seed), config, log=log), held)
        args.out.mkdir(parents=True, exist_ok=True)
        save_scores(out_of_fold, args.out / "out_of_fold.npz")
    thresholds, table = choose(out_of_fold)
    thresholds, decline_table = choose_declines(out_of_fold, thresholds)
    levels = [shown_level(s, thresholds) for s in out_of_fold]
    report = {
        "rules_audit": audit_rules(out_of_fold, thresholds),
        "config": asdict(config),
        "thresholds": as_dict(thresholds),
        "folds": [list(f) for n, f in enumerate(FOLDS, 1) if not args.only_fold or n in args.only_fold],
        "messages": {"training": len(train_items), "test": len(test_items)},
        "writers": sorted({i.writer for i in train_items}),  # every writer the shipped model learned from
        "leave_writers_out": {"all": figures(levels, out_of_fold, thresholds)} | {
            writer: figures([lv for lv, s in zip(levels, out_of_fold) if s.item.writer == writer],
                            [s for s in out_of_fold if s.item.writer == writer], thresholds)
            for writer in sorted({s.item.writer for s in out_of_fold if s.item.group is not None})
        },
    }
    target = args.out if not args.check else None
    if args.folds_only:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "tradeoff.json").write_text(json.dumps(table + decline_table) + "\n", encoding="utf-8")
        print(json.dumps(report, indent=2))
        return 0
    if args.reuse_model:
        log(f"keeping the model in {args.out}; thresholds {as_dict(thresholds)}")
    else:
        log(f"final model: training on {len(train_items)} messages, thresholds {as_dict(thresholds)}")
        encoder, layer, tokenizer = train(training_examples(train_items, seed=config.seed), config, log=log)
        if target is None:  # --check: score the float model, write nothing
            scored = score_items((encoder, layer, tokenizer), test_items)
            report["test_writers"] = test_figures(scored, thresholds)
            print(json.dumps(report, indent=2))
            return 0
        save_model(encoder, layer, tokenizer, target)
        weights, bias = layer_arrays(layer)
        np.savez_compressed(target / "head.npz", groups=np.array(GROUPS), weights=weights.astype(np.float16), bias=bias)
    write_thresholds(args.out / "head.npz", thresholds)
    # the test writers are scored once, by the int8 ONNX weights the product loads
    report["test_writers"] = test_figures(score_shipped(args.out, test_items), thresholds)
    print(json.dumps(report, indent=2))
    (args.out / "metrics.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (args.out / "tradeoff.json").write_text(json.dumps(table + decline_table) + "\n", encoding="utf-8")
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
