"""Fine-tune the bundled MiniLM end to end as the red-flag classifier (``train_flags.py`` runs it).

What it learns from (:func:`training_examples`):

- every independent red-flag writer not held out for testing, each message with its group;
- the project's earlier developer-written messages (``tests/data/redflag_messages``), labelled
  ``own``: training only, never a measure;
- the lay questions of every relevance writer not held out, each with the level independent
  labellers gave it. They carry a level, not a group, so their loss is the summed probability
  of the groups of that level ("some emergency group", "any non-flag group");
- each sentence of a non-flag message, with the message's label (a flag message's sentences
  are not labelled one by one, so they are left out);
- since the fifth round (EVALUATION.md), a copy of one in five independent red-flag messages
  (:data:`AUGMENTED_SHARE`; not the own set, not the ``injection`` lines) with one sentence that
  says nothing about health (``tests/data/independent/augment/instructions.txt``: attempts to
  change the assistant's rules, pleasantries, pasted signatures) before or after it, the label
  unchanged, so that such a sentence does not move the message's level.

The model is the encoder's mean-pooled, L2-normalised sentence vector times ``SCALE``, then one
linear layer over the flag groups. Training is deterministic for a given seed and thread count.

>>> config = TrainConfig()
>>> (config.seed, config.epochs)
(0, 3)
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.evaluation.finetune import load_bundled, pooled, save_int8
from retrieval.evaluation.training_data import FlagMessage, LayQuestion, read_flag_file, writer_split
from retrieval.safety import GROUP_LEVELS, message_units

OWN_MESSAGES = Path(__file__).resolve().parents[2] / "tests" / "data" / "redflag_messages"
NON_HEALTH_SENTENCES = Path(__file__).resolve().parents[2] / "tests" / "data" / "independent" / "augment" / "instructions.txt"
AUGMENTED_SHARE = 0.2  # of the independent red-flag messages, copied with a non-health sentence added
SCALE = 10.0  # the logits' temperature: vectors are unit length, so the layer needs room to be sure
GROUPS = tuple(GROUP_LEVELS)


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    epochs: int = 3
    batch: int = 32
    encoder_lr: float = 4e-5
    head_lr: float = 2e-3
    max_length: int = 128  # word pieces per training text (the classifier reads up to 256)
    threads: int = 2


@dataclass(frozen=True)
class Example:
    """One training text and the groups any of which is right for it."""

    writer: str
    text: str
    allowed: tuple[bool, ...]  # per GROUPS entry


@dataclass(frozen=True)
class Item:
    """One message or question as a whole, for measuring: its writer, label and level."""

    writer: str  # "writer1", "consumer-a", "medquad-03", "own"
    text: str
    group: str | None  # None for a lay question (level only)
    level: str

    @property
    def kind(self) -> str:
        """emergency | urgent | near | other (a non-flag red-flag message) | ordinary (a lay question)."""
        if self.level != "none":
            return self.level
        if self.group is None:
            return "ordinary"
        return "near" if self.group.startswith("near_") else "other"


def own_messages() -> list[FlagMessage]:
    return [m for file in sorted(OWN_MESSAGES.rglob("*.txt")) for m in read_flag_file(file, "own")]


def items_from(flags: Sequence[FlagMessage], questions: Sequence[LayQuestion]) -> list[Item]:
    return [Item(m.writer, m.text, m.group, m.level) for m in flags] + \
        [Item(q.key, q.text, None, q.level) for q in questions]


def split_items(flags: Sequence[FlagMessage], questions: Sequence[LayQuestion]) -> tuple[list[Item], list[Item]]:
    """(training items, test items) by the frozen writer split; the own messages train only."""
    split = writer_split()
    train = items_from([m for m in flags if not split.is_test("redflag", m.writer)],
                       [q for q in questions if not split.is_test(q.corpus, q.writer)])
    test = items_from([m for m in flags if split.is_test("redflag", m.writer)],
                      [q for q in questions if split.is_test(q.corpus, q.writer)])
    return train + items_from(own_messages(), []), test


def allowed_groups(item: Item) -> tuple[bool, ...]:
    if item.group is not None:
        return tuple(g == item.group for g in GROUPS)
    return tuple(GROUP_LEVELS[g] == item.level for g in GROUPS)


def non_health_sentences(path: Path = NON_HEALTH_SENTENCES) -> tuple[str, ...]:
    """The augmentation sentences, one per line (none when the file is absent)."""
    if not path.is_file():
        return ()
    return tuple(dict.fromkeys(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()))


def with_added_sentence(item: Item, sentences: Sequence[str], seed: int = 0) -> Item | None:
    """The item with one non-health sentence before or after it, for AUGMENTED_SHARE of the
    independent red-flag messages; None for the rest. Decided by the item itself (its writer and
    text) and the seed, so every fold and the final model add the same copies.

    >>> picked = [with_added_sentence(Item("writer1", f"message {n}", "routine", "none"), ["Hi there!"]) for n in range(200)]
    >>> 25 < sum(p is not None for p in picked) < 55
    True
    >>> with_added_sentence(Item("own", "both my legs went numb", "both_legs", "emergency"), ["Hi there!"]) is None
    True
    """
    import random

    if not sentences or item.group in (None, "injection") or item.writer == "own":
        return None
    rng = random.Random(f"{seed}:{item.writer}:{item.text}")
    if rng.random() >= AUGMENTED_SHARE:
        return None
    sentence = rng.choice(list(sentences))
    text = f"{sentence} {item.text}" if rng.random() < 0.5 else f"{item.text} {sentence}"
    return Item(item.writer, text, item.group, item.level)


def training_examples(items: Sequence[Item], sentences: Sequence[str] | None = None, seed: int = 0) -> list[Example]:
    sentences = non_health_sentences() if sentences is None else sentences
    examples = []
    for item in items:
        allowed = allowed_groups(item)
        examples.append(Example(item.writer, item.text, allowed))
        if item.level == "none":
            examples += [Example(item.writer, unit, allowed) for unit in message_units(item.text) if unit != item.text]
        added = with_added_sentence(item, sentences, seed)
        if added is not None:
            examples.append(Example(added.writer, added.text, allowed))
    return examples


def train(examples: Sequence[Example], config: TrainConfig, *, log=print):  # type: ignore[no-untyped-def]
    """Fine-tune encoder and layer together; returns (encoder, layer) as torch modules."""
    import torch

    tokenizer, encoder, rng = load_bundled(config.seed, config.threads)
    layer = torch.nn.Linear(encoder.config.hidden_size, len(GROUPS))
    encoder.train()
    optimiser = torch.optim.AdamW([{"params": encoder.parameters(), "lr": config.encoder_lr},
                                   {"params": layer.parameters(), "lr": config.head_lr}], weight_decay=0.01)
    steps = config.epochs * math.ceil(len(examples) / config.batch)
    warmup = 0.06 * steps
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / steps))
    step = 0
    for epoch in range(config.epochs):
        # batches of similar length (less padding), in a shuffled order
        order = sorted(range(len(examples)), key=lambda i: len(examples[i].text) + rng.random() * 20)
        batches = [order[i:i + config.batch] for i in range(0, len(order), config.batch)]
        rng.shuffle(batches)
        for rows in batches:
            logits = layer(pooled(encoder, tokenizer, [examples[i].text for i in rows], config.max_length) * SCALE)
            allowed = torch.tensor([examples[i].allowed for i in rows])
            log_p = torch.log_softmax(logits, dim=-1)
            loss = -torch.logsumexp(log_p.masked_fill(~allowed, -1e9), dim=-1).mean()
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(encoder.parameters()) + list(layer.parameters()), 1.0)
            optimiser.step()
            schedule.step()
            step += 1
            if step % 100 == 0:
                log(f"epoch {epoch + 1}/{config.epochs}, step {step}/{steps}, loss {loss.item():.3f}")
    encoder.eval()
    return encoder, layer, tokenizer


def unit_probabilities(encoder, layer, tokenizer, texts: Sequence[str], batch: int = 64) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Group probabilities (n, groups) of each text, as the shipped model computes them."""
    import torch

    out = []
    with torch.inference_mode():
        for begin in range(0, len(texts), batch):
            logits = layer(pooled(encoder, tokenizer, list(texts[begin:begin + batch]), 256) * SCALE)
            out.append(torch.softmax(logits, dim=-1).numpy())
    return np.concatenate(out) if out else np.zeros((0, len(GROUPS)), dtype=np.float32)


def save_model(encoder, layer, tokenizer, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """The fine-tuned encoder as int8 ONNX (``model-int8.onnx`` and its tokenizer and configs)
    (the linear layer goes to head.npz through ``layer_arrays``)."""
    save_int8(encoder, tokenizer, folder)


def layer_arrays(layer) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    weights = layer.weight.detach().numpy().astype(np.float32) * SCALE
    return weights, layer.bias.detach().numpy().astype(np.float32)
