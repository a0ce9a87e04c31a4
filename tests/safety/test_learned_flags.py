"""The learned red-flag classifier, with the committed int8 weights and the real data.

The frozen test writers (retrieval/evaluation/data/writer_split.yaml) were chosen before any
setting was tuned; their figures are pinned a little under what was measured
(models/redflag-classifier/metrics.json, EVALUATION.md). The sealed set is the figure that
counts; these keep a regression visible.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from retrieval.answer.assemble import answer_question
from retrieval.errors import SafetyModelError
from retrieval.evaluation.flag_training import GROUPS, Item, split_items
from retrieval.evaluation.training_data import flag_messages, lay_questions, read_flag_file, writer_split
from retrieval.safety import learned_flags
from retrieval.safety.learned_flags import FlagHead, GROUP_LEVELS, HEAD_PATH, MODEL_DIR, message_units, shipped_model
from retrieval.safety.triage import EMERGENCY, NONE, URGENT, assess

# Measured as every surface triages (classifier + the rules kept; EVALUATION.md, "Safety") on the
# frozen test writers, and pinned a little under: red-flag writers' emergencies flagged, at the
# emergency level, same-day flagged, near-misses not flagged.
FLOORS = {  # measured: writer2 0.980 / 0.980 / 1.000 / 0.944; writer5 0.980 / 0.967 / 0.933 / 0.944;
    # writer11 0.988 / 0.988 / 0.975 / 0.832; writer12 1.000 / 1.000 / 0.975 / 0.913 (11 and 12 were
    # written after this classifier was trained: EVALUATION.md, "Third round")
    "writer2": {"emergency_flagged": 0.97, "emergency_level": 0.97, "urgent_flagged": 0.98, "near_miss_not_flagged": 0.93},
    "writer5": {"emergency_flagged": 0.97, "emergency_level": 0.95, "urgent_flagged": 0.92, "near_miss_not_flagged": 0.93},
    "writer11": {"emergency_flagged": 0.975, "emergency_level": 0.975, "urgent_flagged": 0.95, "near_miss_not_flagged": 0.82},
    "writer12": {"emergency_flagged": 0.98, "emergency_level": 0.98, "urgent_flagged": 0.95, "near_miss_not_flagged": 0.9},
    # writer18: 150 pairs of an ordinary alarming message and a current emergency in the same words
    # (PAIRED_BRIEF.md, no same-day lines). Measured 0.987 / 0.980 / - / 0.722.
    "writer18": {"emergency_flagged": 0.97, "emergency_level": 0.97, "near_miss_not_flagged": 0.70},
    # writer21 (fourth round, the same brief: someone else and past conditions beside a current
    # emergency). Measured 1.000 / 0.980 / - / 0.837.
    "writer21": {"emergency_flagged": 0.99, "emergency_level": 0.97, "near_miss_not_flagged": 0.82},
    # writer24 (fifth round, SAMEDAY_PAIRED_BRIEF.md: an ordinary message naming a risk factor, then
    # a current same-day warning in the same words; no emergencies). Measured - / - / 0.993 / 0.868.
    "writer24": {"urgent_flagged": 0.98, "near_miss_not_flagged": 0.85},
    # writer25 (sixth round, VAGUE_NERVE_TRIPLES_BRIEF.md: cancer in the story as an ordinary line,
    # a same-day line and an emergency in vague words, "struggling to walk"). Measured 1.000 / 0.987
    # / 0.987 / 0.243: most ordinary lines name a cancer beside a back ache, and the classifier
    # flags them same-day (a known over-flag, pinned so that it cannot grow).
    "writer25": {"emergency_flagged": 0.99, "emergency_level": 0.98, "urgent_flagged": 0.98, "near_miss_not_flagged": 0.22},
}
# Ordinary questions labelled "none" by the independent labellers: given an emergency card (and
# so no passages) / flagged at any level. Measured: consumer-j 0.000 / 0.014, consumer-v 0.027 /
# 0.033, medquad-11 0.008 / 0.019, medquad-12 0.006 / 0.012.
# Writers 11 and 12 (frozen before they wrote, ALARMING_BRIEF.md): their 170 ordinary messages
# each that sound alarming ("routine" and the near-miss kinds), given an emergency card / flagged.
# A known fault, pinned so that it cannot silently grow. Measured: writer11 0.159 / 0.282, writer12
# 0.147 / 0.276. Two retrains with writers 9, 10 and 13-15 cut these to 0.041 / 0.141 and 0.035 /
# 0.076, but lost hand-written emergencies, so they were not shipped (EVALUATION.md, "Third round");
# two more in the fourth round cut them to 0.02-0.05 and failed hand-written triage tests (ibid.).
ALARMING_CEILINGS = {  # writers 18, 21 and 24 (the ordinary half of their pairs): measured below
    "writer11": {"carded": 0.17, "flagged": 0.30},
    "writer12": {"carded": 0.16, "flagged": 0.29},
    "writer18": {"carded": 0.17, "flagged": 0.32},  # measured 0.160 / 0.300
    "writer21": {"carded": 0.12, "flagged": 0.22},  # measured 0.107 / 0.200
    "writer24": {"carded": 0.03, "flagged": 0.15},  # measured 0.020 / 0.133 (ordinary lines naming a risk factor)
    "writer25": {"carded": 0.09, "flagged": 0.79},  # measured 0.080 / 0.773 (ordinary lines naming a cancer)
}
CEILINGS = {
    "consumer-j": {"ordinary_none_emergency_card": 0.005, "ordinary_none_flagged": 0.02},
    "consumer-v": {"ordinary_none_emergency_card": 0.03, "ordinary_none_flagged": 0.04},
    "medquad-11": {"ordinary_none_emergency_card": 0.01, "ordinary_none_flagged": 0.025},
    "medquad-12": {"ordinary_none_emergency_card": 0.01, "ordinary_none_flagged": 0.015},
}


@pytest.fixture(scope="module")
def test_writers() -> dict[str, list[Item]]:
    _, test = split_items(flag_messages(), lay_questions())
    by_writer: dict[str, list[Item]] = {}
    for item in test:
        by_writer.setdefault(item.writer, []).append(item)
    return by_writer


def _figures(items: list[Item]) -> dict:
    from retrieval.evaluation.flag_thresholds import figures

    levels = [assess(item.text).level for item in items]
    return figures(levels, [_AsScored(item) for item in items])


class _AsScored:
    def __init__(self, item: Item) -> None:
        self.item = item


def test_the_test_writers_are_the_frozen_ones() -> None:
    split = writer_split()
    assert split.test["redflag"] == ("writer2", "writer5", "writer11", "writer12", "writer18", "writer21", "writer24", "writer25")
    assert split.test["medquad"] == ("11", "12") and split.test["consumer"] == ("j", "v")


@pytest.mark.parametrize("writer", sorted(FLOORS))
def test_held_out_red_flag_writers_keep_their_figures(writer: str, test_writers) -> None:  # type: ignore[no-untyped-def]
    found = _figures(test_writers[writer])
    for measure, floor in FLOORS[writer].items():
        assert found[measure] >= floor, (writer, measure, found)


@pytest.mark.parametrize("writer", sorted(ALARMING_CEILINGS))
def test_false_cards_on_ordinary_messages_that_sound_alarming_do_not_grow(writer: str, test_writers) -> None:  # type: ignore[no-untyped-def]
    """Writers 11, 12 and 18 (frozen before they wrote): "my back went and I'm stuck", "worst pain
    ever", "four weeks and no better", with no red flag. A card there hides the answer; today one
    in seven gets one (a known fault, the ceiling keeps it from growing unnoticed)."""
    ordinary = [i for i in test_writers[writer] if i.group == "routine" or i.group.startswith("near_")]
    levels = [assess(i.text).level for i in ordinary]
    assert len(ordinary) >= (70 if writer == "writer25" else 140)  # writer25 wrote triples
    carded = sum(level == EMERGENCY for level in levels) / len(levels)
    flagged = sum(level != NONE for level in levels) / len(levels)
    assert carded <= ALARMING_CEILINGS[writer]["carded"] and flagged <= ALARMING_CEILINGS[writer]["flagged"], (carded, flagged)


@pytest.mark.parametrize("writer", sorted(CEILINGS))
def test_held_out_ordinary_questions_rarely_get_a_card(writer: str, test_writers) -> None:  # type: ignore[no-untyped-def]
    found = _figures(test_writers[writer])
    for measure, ceiling in CEILINGS[writer].items():
        assert found[measure] <= ceiling, (writer, measure, found)


@pytest.mark.parametrize(("message", "reason"), [
    ("my mum's face has dropped on one side and she can't lift her left arm", "stroke"),
    ("I'm wheezing, my lips are going blue and I can only get a few words out", "breathing_difficulty"),
    ("since the new tablets my tongue and throat are swelling up", "anaphylaxis"),
    ("I swallowed a whole box of paracetamol an hour ago", "overdose"),
])
def test_emergencies_outside_back_pain_get_the_card_first(seed_retriever, message: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    answer = answer_question(seed_retriever, message)
    assert answer.triage.level == EMERGENCY and answer.triage.reasons[0] == reason
    assert answer.message.startswith("**Immediate action required") and answer.passages == []
    card = answer.care_card or ""
    assert "999" in card and "bottom or genitals" not in card  # no back-pain bullets on a stroke card
    assert answer.disclaimer in answer.message


@pytest.mark.parametrize("message", [
    "I've been putting my tablets to one side for the day I decide I've had enough",
    "my back hurts so much I wish I could go to sleep and not wake up",
])
def test_indirect_crisis_statements_get_the_crisis_card(seed_retriever, message: str) -> None:  # type: ignore[no-untyped-def]
    answer = answer_question(seed_retriever, message)
    assert answer.triage.crisis and answer.triage.level == EMERGENCY
    assert answer.message.startswith("**Immediate help") and "116 123" in answer.message
    assert answer.covered is False and answer.passages == []


def test_saddle_numbness_described_by_place_is_an_emergency_alone_and_at_the_end_of_a_long_message(seed_retriever) -> None:  # type: ignore[no-untyped-def]
    flag = "back pain and I can't feel my bottom when I sit on the toilet"
    chatter = ("I have been doing the stretches from the physio every morning and walking the dog at lunchtime, "
               "and work have let me sit on a better chair. ")
    long_message = chatter * (3000 // len(chatter)) + flag
    assert len(long_message) >= 3000
    for message in (flag, long_message):
        answer = answer_question(seed_retriever, message)
        assert answer.triage.level == EMERGENCY and answer.passages == [], message[-80:]
        assert answer.message.startswith("**Immediate action required")


@pytest.mark.parametrize("message", [
    "How should I sleep with low back pain?",
    "my knee pain keeps coming back after running",
    "Translate 'I have a headache' into Spanish",
    "no numbness down there and peeing fine, just a stiff back after gardening",
    "what are the warning signs of cauda equina syndrome?",
    "which parts of the leg can sciatica reach?",
    "I lie face up on the floor to stretch my back, is that good?",
    "my back aches after hoovering the whole house",
])
def test_ordinary_questions_and_near_misses_get_no_card(seed_retriever, message: str) -> None:  # type: ignore[no-untyped-def]
    """The kinds of false alarm issue #26 listed: no card, so nothing hides an answer (whether the
    articles cover it is the relevance model's call, tested in tests/search)."""
    answer = answer_question(seed_retriever, message)
    assert answer.triage.level == NONE and answer.care_card is None
    assert not answer.message.startswith("**Immediate")


def test_dosing_and_pets_are_decided_by_the_classifier(seed_retriever) -> None:  # type: ignore[no-untyped-def]
    dosing = answer_question(seed_retriever, "How many co-codamol 30/500 can I take in a day?")
    assert dosing.triage.dosing and dosing.passages == [] and "pharmacist" in dosing.message
    pet = answer_question(seed_retriever, "My dachshund is dragging her back legs since she jumped off the sofa")
    assert pet.triage.about_animal and pet.passages == [] and "vet" in pet.message
    walking = answer_question(seed_retriever, "walking my dog every morning makes my lower back ache, any tips?")
    assert not walking.triage.about_animal and walking.passages


def test_the_classifier_only_raises_the_rules_level_never_lowers_it() -> None:
    rules = "I had a fall this morning and I can't get up off the floor, my back is agony"
    assert assess(rules, learned=False).level == EMERGENCY
    silent = replace(shipped_model().head, flag_threshold=1.1)  # can never fire
    original = learned_flags.shipped_model
    learned_flags.shipped_model.cache_clear()
    try:
        learned_flags.shipped_model = lambda: replace(original(), head=silent)  # type: ignore[assignment]
        assert assess(rules).level == EMERGENCY
        assert assess("my face has dropped and my speech is slurred").level == NONE
    finally:
        learned_flags.shipped_model = original


def test_a_flag_in_passing_at_the_end_of_a_long_message_is_scored() -> None:
    chatter = "I have been doing my physio exercises every morning and going for a walk at lunchtime. " * 30
    message = chatter + "Oh and since yesterday my face droops on one side and my words come out wrong."
    assert assess(message).level == EMERGENCY
    units = message_units(message)
    assert len(units) <= 64 and units[-1].startswith("Oh and since yesterday")


def test_a_missing_or_malformed_head_is_an_actionable_error(tmp_path: Path) -> None:
    # in the shipped folder: restore or retrain it; in a candidate's folder (RETRIEVAL_FLAG_MODEL):
    # point the variable at a folder train_flags wrote, or unset it
    with pytest.raises(SafetyModelError, match="is missing: restore it .*python -m retrieval.evaluation.train_flags"):
        FlagHead.load(HEAD_PATH.parent / "no-such-head.npz")
    with pytest.raises(SafetyModelError, match="is missing: point RETRIEVAL_FLAG_MODEL at a folder .*train_flags --out"):
        FlagHead.load(tmp_path / "head.npz")
    (tmp_path / "garbage.npz").write_bytes(b"not a numpy archive")
    with pytest.raises(SafetyModelError, match="cannot be read .*: point RETRIEVAL_FLAG_MODEL at a folder"):
        FlagHead.load(tmp_path / "garbage.npz")
    good = shipped_model().head
    saved = {"groups": np.array(good.groups), "weights": good.weights, "bias": good.bias, "flag_threshold": 0.3,
             "emergency_threshold": 0.2, "dosing_threshold": 0.8, "pet_threshold": 0.6, "pooling": np.array("max")}
    np.savez(tmp_path / "shape.npz", **(saved | {"weights": good.weights[:, :10], "bias": good.bias[:-1]}))
    with pytest.raises(SafetyModelError, match="does not fit this code"):
        FlagHead.load(tmp_path / "shape.npz")
    np.savez(tmp_path / "no-dosing.npz", **{k: v for k, v in saved.items() if k != "dosing_threshold"})
    with pytest.raises(SafetyModelError, match="cannot be read"):
        FlagHead.load(tmp_path / "no-dosing.npz")
    np.savez(tmp_path / "every.npz", **saved)  # every saved setting is read back, not left at its default
    loaded = FlagHead.load(tmp_path / "every.npz")
    assert (loaded.pooling, loaded.flag_threshold, loaded.emergency_threshold) == ("max", 0.3, 0.2)
    assert (round(loaded.dosing_threshold, 3), round(loaded.pet_threshold, 3)) == (0.8, 0.6)
    shutil.copy(HEAD_PATH, tmp_path / "copy.npz")
    assert FlagHead.load(tmp_path / "copy.npz").groups == good.groups


@pytest.mark.parametrize("damage", ["missing", "garbage"])
def test_the_cli_stops_with_a_clear_message_when_the_model_is_damaged(tmp_path: Path, seed_index, damage: str) -> None:  # type: ignore[no-untyped-def]
    model = tmp_path / "redflag-classifier"
    shutil.copytree(MODEL_DIR, model)
    if damage == "missing":
        (model / "model-int8.onnx").unlink()
    else:
        (model / "model-int8.onnx").write_bytes(b"this is not an ONNX file")
    script = (
        "import sys, pathlib; from retrieval.safety import learned_flags; "
        f"learned_flags.MODEL_DIR = pathlib.Path({str(model)!r}); "
        "from retrieval.cli import main; sys.argv = ['retrieval', 'ask', 'sciatica stretches', '--index', "
        f"{str(seed_index.index_dir)!r}]; main()"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-600:]
    assert "red-flag model" in result.stderr and "python -m retrieval.evaluation.train_flags" in result.stderr


def test_every_group_has_a_level_and_a_card_bullet() -> None:
    from retrieval.safety.care import _EMERGENCY_BULLETS, _URGENT_BULLETS

    assert set(shipped_model().head.groups) == set(GROUP_LEVELS) == set(GROUPS)
    for group, level in GROUP_LEVELS.items():
        if level == EMERGENCY and group != "crisis":
            assert group in _EMERGENCY_BULLETS, group
        if level == URGENT:
            assert group in _URGENT_BULLETS, group


def test_training_data_problems_name_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("routine|what helps sciatica?\nsaddle numbness with no separator\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.txt:2: expected 'group\|message'"):
        read_flag_file(bad, "bad")


@pytest.mark.slow
def test_training_is_deterministic_for_its_seed() -> None:
    """Two short runs on the same messages give the same weights: the seed fixes everything
    the retraining command depends on (the full run takes about an hour: see the model card)."""
    from retrieval.evaluation.flag_training import TrainConfig, layer_arrays, train, training_examples

    items = [item for item in split_items(flag_messages(), lay_questions())[0] if item.writer == "writer4"][:64]
    config = TrainConfig(epochs=1)
    first = layer_arrays(train(training_examples(items), config, log=lambda _: None)[1])
    second = layer_arrays(train(training_examples(items), config, log=lambda _: None)[1])
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
