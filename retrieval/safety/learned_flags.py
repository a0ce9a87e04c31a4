"""The learned red-flag detector: a MiniLM fine-tuned end to end to tell the flag groups apart.

The rules in ``triage.py`` catch the wordings their writers thought of. This classifier learns
the flag groups from labelled messages by independent writers (``../shared/train``, and the
project's own in ``tests/data/independent``), and the ordinary health questions of 27 more
writers as the false-alarm side (``python -m retrieval.evaluation.train_flags``). It scores the
whole message and each of its sentences, so a flag said in other words, or in passing inside a
long message, can still raise the level.

The model is ``models/redflag-classifier/``: the fine-tuned encoder as int8 ONNX weights (run by
the same ONNX Runtime code as the retrieval encoder, never downloaded) and ``head.npz``, the
linear layer over its sentence vectors with the thresholds chosen by leave-one-writer-out; the
model card beside them says how they were made. A missing or malformed file stops start-up with
a SafetyModelError saying how to restore it: a safety layer that silently lost half of itself
would be worse than no answer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "redflag-classifier"
HEAD_PATH = MODEL_DIR / "head.npz"

EMERGENCY_GROUPS = (
    "crisis", "saddle_numbness", "bladder_problem", "bowel_incontinence", "sexual_dysfunction",
    "both_legs", "major_trauma", "chest_pain", "burst_aneurysm", "cancer_with_nerve_symptoms",
    "fall_cannot_get_up", "stroke", "breathing_difficulty", "anaphylaxis", "sepsis", "overdose",
)
URGENT_GROUPS = (
    "fever_with_back_pain", "weight_loss", "night_pain", "lump_or_shape_change", "thoracic_pain",
    "cancer_history", "fragility_fracture", "foot_drop", "leg_getting_weaker", "kidney_infection",
    "infection_risk", "recent_spinal_procedure", "pregnancy_warning", "pulsing_tummy",
)
NONE_GROUPS = (
    "routine", "near_negation", "near_past", "near_other_person", "near_info", "near_positional",
    "near_exertion", "near_longstanding", "near_intended", "dosing", "pet", "offtopic", "injection",
)
GROUP_LEVELS: dict[str, str] = {
    **{g: "emergency" for g in EMERGENCY_GROUPS},
    **{g: "urgent" for g in URGENT_GROUPS},
    **{g: "none" for g in NONE_GROUPS},
}

MAX_SENTENCES = 64  # sentences scored per message (after removing repeats); the rules read all
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"\w+")

Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class LearnedFlag:
    """What the classifier found: the level it raises to, the flag group behind it, its score,
    and whether the message asks about a medicine's dose or about a pet."""

    level: str  # "emergency" | "urgent" | "none"
    group: str  # the most likely flag group ("" when level is "none")
    score: float  # the best unit's flag score (see FlagHead.pooling)
    unit: str = ""  # the message or sentence that scored highest
    dosing: bool = False  # the whole message is most likely a dosing question
    pet: bool = False  # the whole message is most likely about a pet's symptoms
    off_topic: bool = False  # the whole message is almost surely not a health question ("write me a poem")
    also: tuple[str, ...] = ()  # other flag groups some unit gives at least flag_threshold ("I want to end it all. And I can't pee.")


def message_units(text: str) -> list[str]:
    """The sentences of ``text`` worth scoring: at least two words, repeats dropped, at most
    MAX_SENTENCES (a pasted wall of text repeats itself; the rules still read every word)."""
    seen: set[str] = set()
    units: list[str] = []
    for part in _SENTENCE_END.split(text):
        part = part.strip()
        key = part.casefold()
        if len(_WORD.findall(part)) < 2 or key in seen:
            continue
        seen.add(key)
        units.append(part[:1000])
    if len(units) > MAX_SENTENCES:  # keep the start and the end, where flags are usually said
        half = MAX_SENTENCES // 2
        units = units[:half] + units[-half:]
    return units


# The whole message's "offtopic" probability at or above which it is declined as not covered
# ("write me a poem about cheese"), whatever the passages' scores. Chosen on writers the classifier
# never saw (EVALUATION.md, "Second round"): at 0.9 none of 1,360 answerable questions of the
# second-round writers (consumer w-z, seed A, C, D, E) is declined, and 46% of their non-health
# not-covered questions are (0.7 and 0.8 declined 3 answerable ones: "how do I do a bird dog").
# head.npz may carry its own ``offtopic_threshold``; this is the value when it does not.
OFFTOPIC_THRESHOLD = 0.9


@dataclass(frozen=True)
class FlagHead:
    """Multinomial logistic regression over unit vectors, with dev-chosen thresholds."""

    groups: tuple[str, ...]
    weights: np.ndarray  # (groups, dimension)
    bias: np.ndarray  # (groups,)
    flag_threshold: float  # flagged mass at or above this raises the level
    emergency_threshold: float  # emergency mass at or above this makes it an emergency
    dosing_threshold: float = 1.1  # the whole message's "dosing" probability that declines it (> 1: never)
    pet_threshold: float = 1.1  # the whole message's "pet" probability that points to a vet (> 1: never)
    pooling: str = "sum"  # a unit's flag score: "sum" of the flag groups' probabilities, or the "max"
    offtopic_threshold: float = 1.1  # the whole message's "offtopic" probability that declines it (> 1: never)

    @classmethod
    def load(cls, path: Path = HEAD_PATH) -> FlagHead:
        """Read and check a head file; any problem is a SafetyModelError that says how to fix it."""
        from retrieval.errors import SafetyModelError

        fix = _how_to_fix(path.parent)  # the shipped folder's advice, or a candidate's
        try:
            with np.load(path, allow_pickle=False) as data:
                head = cls(
                    groups=tuple(str(g) for g in data["groups"]),
                    weights=np.asarray(data["weights"], dtype=np.float32),
                    bias=np.asarray(data["bias"], dtype=np.float32),
                    flag_threshold=float(data["flag_threshold"]),
                    emergency_threshold=float(data["emergency_threshold"]),
                    dosing_threshold=float(data["dosing_threshold"]),
                    pet_threshold=float(data["pet_threshold"]),
                    pooling=str(data["pooling"]),
                    offtopic_threshold=float(data["offtopic_threshold"]) if "offtopic_threshold" in data
                    else OFFTOPIC_THRESHOLD,
                )
        except FileNotFoundError:
            raise SafetyModelError(f"the red-flag model {_shown(path)} is missing: {fix}") from None
        except (OSError, ValueError, KeyError, TypeError, EOFError) as error:
            raise SafetyModelError(f"the red-flag model {_shown(path)} cannot be read ({error}): {fix}") from None
        unknown = sorted(set(head.groups) - set(GROUP_LEVELS))
        n = len(head.groups)
        if unknown or head.weights.ndim != 2 or head.weights.shape[0] != n or head.bias.shape != (n,) \
                or head.pooling not in ("sum", "max"):
            raise SafetyModelError(
                f"the red-flag model {_shown(path)} does not fit this code (groups {unknown or 'ok'}, "
                f"weights {head.weights.shape}, bias {head.bias.shape}, pooling {head.pooling!r}): {fix}"
            )
        if not np.isfinite(head.weights).all() or not np.isfinite(head.bias).all():
            raise SafetyModelError(f"the red-flag model {_shown(path)} holds non-finite weights: {fix}")
        return head

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        logits = np.asarray(vectors, dtype=np.float32) @ self.weights.T + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    @cached_property
    def _masks(self) -> tuple[np.ndarray, np.ndarray]:
        levels = np.array([GROUP_LEVELS[g] for g in self.groups])
        return levels != "none", levels == "emergency"

    def judge(self, vectors: np.ndarray, units: Sequence[str]) -> LearnedFlag:
        """The level the most alarming unit reaches; ``dosing`` and ``pet`` from the whole
        message (the last unit)."""
        if len(vectors) == 0:
            return LearnedFlag("none", "", 0.0)
        probs = self.probabilities(vectors)
        flagged_mask, emergency_mask = self._masks
        whole = probs[-1]
        groups = {g: i for i, g in enumerate(self.groups)}
        dosing = "dosing" in groups and bool(whole[groups["dosing"]] >= self.dosing_threshold)
        pet = "pet" in groups and bool(whole[groups["pet"]] >= self.pet_threshold)
        off_topic = "offtopic" in groups and bool(whole[groups["offtopic"]] >= self.offtopic_threshold)
        # "sum": the flag groups' summed probability (a message between two related flags, say
        # saddle numbness and bladder trouble, keeps its whole weight); "max": the most likely
        # flag group's.
        pool = np.max if self.pooling == "max" else np.sum
        flagged = pool(probs[:, flagged_mask], axis=1)
        emergency = pool(probs[:, emergency_mask], axis=1)
        raising = flagged >= self.flag_threshold
        if not raising.any():
            best = int(flagged.argmax())
            return LearnedFlag("none", "", float(flagged[best]), units[best], dosing, pet, off_topic)
        is_emergency = bool((emergency[raising] >= self.emergency_threshold).any())
        scores = np.where(raising, emergency if is_emergency else flagged, -1.0)
        best = int(scores.argmax())
        mask = emergency_mask if is_emergency else flagged_mask
        group = self.groups[int(np.where(mask, probs[best], -1.0).argmax())]
        strongest = np.where(flagged_mask, probs.max(axis=0), -1.0)
        also = tuple(self.groups[i] for i in np.argsort(-strongest)
                     if strongest[i] >= self.flag_threshold and self.groups[i] != group)
        return LearnedFlag("emergency" if is_emergency else "urgent", group, float(flagged[best]), units[best], dosing, pet,
                           off_topic, also)


@dataclass(frozen=True)
class FlagModel:
    """The fine-tuned encoder (``model-int8.onnx`` in ``MODEL_DIR``) and the head over its vectors."""

    head: FlagHead
    encoder: object  # retrieval.index.SentenceTransformerEmbedder over MODEL_DIR

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.embed(list(texts))  # type: ignore[attr-defined]


def model_dir() -> Path:
    """The classifier the product runs: ``MODEL_DIR``, or the folder ``RETRIEVAL_FLAG_MODEL`` names
    (a retrained candidate, compared with the shipped one without copying it over)."""
    from retrieval.config import flag_model_dir

    return flag_model_dir(MODEL_DIR)


@lru_cache(maxsize=1)
def shipped_head() -> FlagHead:
    """The head, loaded once. A missing or malformed file raises SafetyModelError:
    the app and the CLI check it at start-up rather than answer with the rules alone."""
    from retrieval.config import FLAG_MODEL_VARIABLE
    from retrieval.errors import SafetyModelError

    folder = model_dir()
    if folder != MODEL_DIR and not (folder / HEAD_PATH.name).is_file():
        raise SafetyModelError(
            f"{FLAG_MODEL_VARIABLE}={folder} holds no red-flag classifier ({HEAD_PATH.name} is missing): {_how_to_fix(folder)}"
        )
    return FlagHead.load(folder / HEAD_PATH.name)


def _how_to_fix(folder: Path) -> str:
    """What to do about a missing or damaged classifier in ``folder`` (the shipped one or a candidate)."""
    from retrieval.config import FLAG_MODEL_VARIABLE

    if folder == MODEL_DIR:
        return f"restore it (`git checkout -- {_shown(MODEL_DIR)}`) or retrain it with `python -m retrieval.evaluation.train_flags`"
    return (f"point {FLAG_MODEL_VARIABLE} at a folder `python -m retrieval.evaluation.train_flags --out FOLDER` wrote, "
            f"or unset it to use {_shown(MODEL_DIR)}")


@lru_cache(maxsize=1)
def shipped_model() -> FlagModel:
    """The committed classifier, loaded once (its ONNX session is opened here, so a damaged
    weights file stops start-up, not a person's first question)."""
    from retrieval.errors import SafetyModelError
    from retrieval.index import SentenceTransformerEmbedder

    folder = model_dir()
    head = shipped_head()
    fix = _how_to_fix(folder)
    if not (folder / "model-int8.onnx").is_file():
        raise SafetyModelError(f"the red-flag model's weights {_shown(folder / 'model-int8.onnx')} are missing: {fix}")
    encoder = SentenceTransformerEmbedder(str(folder), backend="onnx")
    try:
        encoder.embed(["a check that the red-flag model runs"])
    except Exception as error:  # ModelNotFoundError, OSError, ... and onnxruntime's own types for a damaged file
        raise SafetyModelError(f"the red-flag model in {_shown(folder)} cannot be run ({error}): {fix}") from None
    return FlagModel(head, encoder)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def learned_flag(text: str, *, model: FlagModel | None = None) -> LearnedFlag:
    """Score ``text`` and each of its sentences with the classifier."""
    model = model or shipped_model()
    if not text.strip():
        return LearnedFlag("none", "", 0.0)
    units, vectors = scoring_units(text, model.embed)
    return model.head.judge(vectors, units)


def scoring_units(text: str, embed: Embed) -> tuple[list[str], np.ndarray]:
    """The sentences of ``text`` and the whole message (last), with their vectors, in one batch."""
    units = [u for u in message_units(text) if u != text] + ([text] if text.strip() else [])
    if not units:
        return [], np.zeros((0, 0), dtype=np.float32)
    return units, np.asarray(embed(units), dtype=np.float32).reshape(len(units), -1)
