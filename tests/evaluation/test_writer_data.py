"""The independent data and how it is split and scored: the frozen test writers never reach
training, a hit is a passage that holds most of the answer's paragraph, the plain baseline is
what it says, and the thresholds keep ordinary questions within the limits.

Reads ../shared/train (CI has it). The held-out writers' retrieval figures are pinned in
tests/search/test_held_out_writers.py, the safety ones in tests/safety/test_learned_flags.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from retrieval.evaluation.baseline import OVERLAP_WORDS, WINDOW_WORDS, PlainBaseline, windows
from retrieval.evaluation.flag_thresholds import LIMITS, Scored, Thresholds, choose, shown_level
from retrieval.evaluation.flag_training import GROUPS, Item, split_items
from retrieval.evaluation.training_data import flag_messages, lay_questions, writer_split
from retrieval.evaluation.writer_sets import holds_paragraph


def test_no_test_writer_reaches_either_model_s_training() -> None:
    split = writer_split()
    train, test = split_items(flag_messages(), lay_questions())
    test_writers = {i.writer for i in test}
    assert test_writers == {"writer2", "writer5", "writer11", "writer12", "writer18", "writer21", "writer24", "writer25", "consumer-j", "consumer-v", "medquad-11", "medquad-12"}
    assert not test_writers & {i.writer for i in train}
    assert len(train) > 12_000 and len(test) > 2_400
    assert {"writer9", "writer10", "writer13", "writer14", "writer15", "writer16", "writer17", "writer19", "writer20", "writer22", "writer23"} <= {i.writer for i in train}
    from retrieval.evaluation.train_relevance import MODEL_DIR

    trained_on = json.loads((MODEL_DIR / "training.json").read_text(encoding="utf-8"))["writers"]
    assert not {f"consumer-{w}" for w in split.test["consumer"]} & set(trained_on)
    assert not {f"medquad-{w}" for w in split.test["medquad"]} & set(trained_on)
    assert not {f"seed-{w}" for w in split.test["seed"]} & set(trained_on)
    held_out = {f"{source}-{w}" for source, writers in split.encoder_holdout.items() for w in writers}
    assert held_out == {"seed-C", "consumer-z"} and not held_out & set(trained_on)
    assert {"seed-A", "seed-D", "seed-E", "consumer-w", "consumer-x", "consumer-y"} <= set(trained_on)
    assert len(trained_on) == 33


def test_the_encoder_s_training_pairs_leave_out_test_and_held_out_writers() -> None:
    """The pairs themselves, not only the summary: no question of a test writer or of a writer
    held out of the encoder (seed C, consumer z) is trained on, and the seed pairs point at the
    chunk of the bundled articles that holds a key phrase."""
    from retrieval.evaluation.metrics import passage_hits_phrases
    from retrieval.evaluation.questions import load_questions
    from retrieval.evaluation.relevance_data import seed_pairs
    from retrieval.evaluation.training_data import OWN_DATA
    from retrieval.index import SentenceTransformerEmbedder

    pools: dict = {}
    pairs = seed_pairs(SentenceTransformerEmbedder().count_tokens, pools, frozenset())
    assert {p.writer for p in pairs} == {"A", "D", "E"}
    asked = {q.query for w in "BC" for q in load_questions(OWN_DATA / "seed" / f"writer{w}.jsonl")}
    assert not asked & {p.question for p in pairs}
    assert len(pairs) >= 290
    chunks = {c.embedded: c for c in pools["seed"]}
    assert all(passage_hits_phrases(chunks[p.positive].text, p.phrases) for p in pairs)


def test_a_hit_holds_most_of_the_answer_s_paragraph() -> None:
    paragraph = "Heat helps a stiff back in the morning because it relaxes the muscles around the spine."
    assert holds_paragraph("Intro. " + paragraph + " Ice is for new injuries.", paragraph)
    half = " ".join(paragraph.split()[:9])
    assert holds_paragraph(half + " and other words after it.", paragraph)  # a chunk boundary mid-paragraph
    assert not holds_paragraph(" ".join(paragraph.split()[:5]) + " something else.", paragraph)
    assert not holds_paragraph("Pillows between the knees help side sleepers.", paragraph)
    assert not holds_paragraph("anything", "")


def test_the_plain_baseline_is_bundled_minilm_over_200_word_windows(tmp_path: Path) -> None:
    text = " ".join(f"w{i}" for i in range(450))
    parts = windows(text)
    assert [len(p.split()) for p in parts] == [200, 200, 130]
    assert parts[1].split()[0] == f"w{WINDOW_WORDS - OVERLAP_WORDS}"
    (tmp_path / "sleep.txt").write_text("Sleeping on your side with a pillow between your knees eases back pain.", encoding="utf-8")
    (tmp_path / "heat.txt").write_text("A hot water bottle relaxes tight muscles in the lower back.", encoding="utf-8")
    baseline = PlainBaseline.over(tmp_path)
    assert [source for _, source in baseline.search("best position to sleep in", k=2)] == ["sleep.txt", "heat.txt"]


def _scored(level: str, flagged: float, writer: str = "w", group: str | None = None) -> Scored:
    """One message whose single unit puts ``flagged`` on an emergency group."""
    probabilities = np.zeros((1, len(GROUPS)), dtype=np.float32)
    probabilities[0, GROUPS.index("saddle_numbness")] = flagged
    probabilities[0, GROUPS.index("routine")] = 1 - flagged
    return Scored(Item(writer, "text", group, level), probabilities)


def test_the_thresholds_keep_ordinary_questions_within_the_limits_even_at_a_missed_emergency() -> None:
    """Ordinary questions scored 0.1-0.45 and emergencies 0.15-0.9: the cheapest threshold by
    cost alone (0.15) would flag a third of the ordinary questions; the chosen one keeps them
    under LIMITS, at the price of the emergencies scored below it."""
    emergencies = [_scored("emergency", f, group="saddle_numbness") for f in np.linspace(0.15, 0.9, 30)]
    ordinary = [_scored("none", f) for f in np.linspace(0.1, 0.45, 300)]
    chosen, table = choose(emergencies + ordinary)
    levels = [shown_level(s, chosen) for s in ordinary]
    assert sum(lv != "none" for lv in levels) / len(levels) <= LIMITS["ordinary_none_flagged"]
    cheapest = min(table, key=lambda row: row["cost"])
    assert cheapest["within_limits"] is False and cheapest["flag"] < chosen.flag
    assert chosen == Thresholds(flag=chosen.flag, emergency=chosen.emergency)
    assert any(row["within_limits"] for row in table)


@pytest.mark.parametrize("level", ["emergency", "urgent", "none"])
def test_every_lay_question_keeps_its_independent_level(level: str) -> None:
    questions = [q for q in lay_questions() if q.level == level]
    assert questions and all(q.text.strip() and q.passage for q in questions)


def test_compare_flags_reads_the_labelled_sets_as_the_safety_tests_do(tmp_path: Path) -> None:
    """compare_flags (a candidate red-flag classifier against the shipped one) counts the own set's
    emergencies and dosing questions as tests/safety/test_triage.py does, and refuses a folder that
    holds no classifier with a message saying what to pass."""
    import subprocess
    import sys

    from retrieval.evaluation.compare_flags import labelled_sets
    from tests.safety.test_triage import OWN, SAMPLE

    sets = labelled_sets()
    assert [i["query"] for i in sets["own"]] == [i["query"] for i in OWN]
    assert [i["expect"] for i in sets["own"]] == [i["expect"] for i in OWN]
    assert sum(i["dosing"] for i in sets["own"]) == sum(bool(i.get("dosing")) for i in OWN) >= 20
    assert [i["expect"] for i in sets["sample"]] == [i["expect"] for i in SAMPLE]
    result = subprocess.run([sys.executable, "-m", "retrieval.evaluation.compare_flags", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "holds no red-flag classifier" in result.stderr and "Traceback" not in result.stderr


def test_every_red_flag_training_writer_is_left_out_in_one_fold_and_no_test_writer_is_in_any() -> None:
    """The thresholds are chosen on out-of-fold scores: a red-flag writer in no fold would be
    scored by nothing, and its kind of message would not weigh in the choice."""
    from retrieval.evaluation.train_flags import FOLDS, TRAINING_ONLY

    in_folds = [writer for fold in FOLDS for writer in fold]
    train, test = split_items(flag_messages(), [])
    red_flag_training = {i.writer for i in train if i.writer.startswith("writer")}
    assert len(in_folds) == len(set(in_folds)) and set(in_folds) | set(TRAINING_ONLY) >= red_flag_training
    assert not set(in_folds) & set(TRAINING_ONLY) and set(in_folds) <= red_flag_training
    assert not set(in_folds) & {i.writer for i in test}


def test_one_in_five_independent_red_flag_messages_is_trained_again_with_a_non_health_sentence() -> None:
    """The fifth round's augmentation (EVALUATION.md): the copy keeps the message whole and its
    label, the own set (whose emergencies the injection test starts from), the lay questions and
    the ``injection`` lines are never copied, and the same copies are made in every run."""
    from retrieval.evaluation.flag_training import allowed_groups, non_health_sentences, training_examples

    sentences = non_health_sentences()
    assert len(sentences) == 120
    train, _ = split_items(flag_messages(), lay_questions())
    by_text = {i.text: i for i in train}
    eligible = [i for i in train if i.group not in (None, "injection") and i.writer != "own"]
    eligible_text = {i.text for i in eligible}
    examples = training_examples(train)

    def added_sentence(text: str) -> str | None:
        return next((s for s in sentences if (text.startswith(s + " ") and text[len(s) + 1:] in eligible_text)
                     or (text.endswith(" " + s) and text[:-len(s) - 1] in eligible_text)), None)

    added = [e for e in examples if e.text not in by_text and added_sentence(e.text)]
    assert 0.17 * len(eligible) < len(added) < 0.23 * len(eligible)
    for example in added:
        sentence = added_sentence(example.text)
        core = example.text.removeprefix(sentence + " ").removesuffix(" " + sentence)
        assert any(i.text == core and i.writer == example.writer and example.allowed == allowed_groups(i) for i in eligible)
    assert [e.text for e in training_examples(train)] == [e.text for e in examples]
    assert len(training_examples(train, sentences=())) == len(examples) - len(added)
