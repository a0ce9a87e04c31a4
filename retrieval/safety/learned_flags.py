"""The learned red-flag detector: a linear head over all-MiniLM-L6-v2 sentence vectors.

The rules in ``triage.py`` catch the wordings their writers thought of. This head learns the
flag groups from labelled messages (``tests/data/redflag_messages``, trained by
``python -m retrieval.evaluation.train_flags``) and scores the whole message and each of its sentences, so
a flag said in other words, or in passing inside a long message, can still raise the level.
It only ever raises a level: the rules keep their handling of negation, experiencer and time,
and anything the rules find stands.

The weights are a few kilobytes of numpy arrays in ``models/redflag-head/head.npz`` with the
thresholds chosen on the dev split; the model card beside them says how they were made.
No torch import here: the vectors come from the encoder the pipeline already has loaded.
A missing or malformed head file stops start-up with a SafetyModelError saying how to restore
it: a safety layer that silently lost half of itself would be worse than no answer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

HEAD_PATH = Path(__file__).resolve().parents[2] / "models" / "redflag-head" / "head.npz"

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
    """What the head found: the level it raises to, the flag group behind it, and its score."""

    level: str  # "emergency" | "urgent" | "none"
    group: str  # the most likely flag group ("" when level is "none")
    score: float  # the best unit's flag score (see FlagHead.pooling)
    unit: str = ""  # the message or sentence that scored highest


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


@dataclass(frozen=True)
class FlagHead:
    """Multinomial logistic regression over unit vectors, with dev-chosen thresholds."""

    groups: tuple[str, ...]
    weights: np.ndarray  # (groups, dimension)
    bias: np.ndarray  # (groups,)
    flag_threshold: float  # flagged mass at or above this raises the level
    emergency_threshold: float  # emergency mass at or above this makes it an emergency
    context_threshold: float = 1.0  # the flag threshold for a sentence with a ConText modifier
    pooling: str = "sum"  # a unit's flag score: "sum" of the flag groups' probabilities, or the "max"

    @classmethod
    def load(cls, path: Path = HEAD_PATH) -> FlagHead:
        """Read and check a head file; any problem is a SafetyModelError that says how to fix it."""
        from retrieval.errors import SafetyModelError

        fix = f"restore it (`git checkout -- {_shown(path)}`) or retrain it with `python -m retrieval.evaluation.train_flags`"
        try:
            with np.load(path, allow_pickle=False) as data:
                head = cls(
                    groups=tuple(str(g) for g in data["groups"]),
                    weights=np.asarray(data["weights"], dtype=np.float32),
                    bias=np.asarray(data["bias"], dtype=np.float32),
                    flag_threshold=float(data["flag_threshold"]),
                    emergency_threshold=float(data["emergency_threshold"]),
                    context_threshold=float(data["context_threshold"]),
                    pooling=str(data["pooling"]) if "pooling" in data.files else "sum",
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

    def judge(self, vectors: np.ndarray, units: Sequence[str],
              cancelled: Callable[[int], bool] | None = None) -> LearnedFlag:
        """The level the most alarming unit reaches. ``cancelled(i)`` says the rules found a
        finding in unit i and a ConText modifier cancelled it: the unit then needs
        ``context_threshold``. It is asked only of units whose score lies between the two
        thresholds, the only ones where the answer changes anything."""
        if len(vectors) == 0:
            return LearnedFlag("none", "", 0.0)
        probs = self.probabilities(vectors)
        flagged_mask, emergency_mask = self._masks
        # "sum": the flag groups' summed probability (a message between two related flags, say
        # saddle numbness and bladder trouble, keeps its whole weight); "max": the most likely
        # flag group's (an unclear fragment that spreads its mass over the 30 flag groups stays
        # low). Training picks the one that costs least on dev (train_flags.choose_thresholds).
        pool = np.max if self.pooling == "max" else np.sum
        flagged = pool(probs[:, flagged_mask], axis=1)
        emergency = pool(probs[:, emergency_mask], axis=1)
        raising = flagged >= self.flag_threshold
        if cancelled is not None:
            for i in np.flatnonzero(raising & (flagged < self.context_threshold)):
                raising[i] = not cancelled(int(i))
        if not raising.any():
            best = int(flagged.argmax())
            return LearnedFlag("none", "", float(flagged[best]), units[best])
        is_emergency = bool((emergency[raising] >= self.emergency_threshold).any())
        scores = np.where(raising, emergency if is_emergency else flagged, -1.0)
        best = int(scores.argmax())
        mask = emergency_mask if is_emergency else flagged_mask
        group = self.groups[int(np.where(mask, probs[best], -1.0).argmax())]
        return LearnedFlag("emergency" if is_emergency else "urgent", group, float(flagged[best]), units[best])


@lru_cache(maxsize=1)
def shipped_head() -> FlagHead:
    """The committed head, loaded once. A missing or malformed file raises SafetyModelError:
    the app and the CLI check it at start-up rather than answer with the rules alone."""
    return FlagHead.load(HEAD_PATH)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def learned_flag(text: str, embed: Embed, *, message_vector: np.ndarray | None = None,
                 head: FlagHead | None = None) -> LearnedFlag:
    """Score ``text`` and its sentences with the head. ``message_vector`` is the question vector
    retrieval already computed for the same text: it is reused, not computed again."""
    from retrieval.safety.findings import has_cancelled_finding

    head = head or shipped_head()
    if not text.strip():
        return LearnedFlag("none", "", 0.0)
    units, vectors = scoring_units(text, embed, message_vector=message_vector)
    return head.judge(vectors, units, lambda i: has_cancelled_finding(units[i]))


def scoring_units(text: str, embed: Embed, *, message_vector: np.ndarray | None = None) -> tuple[list[str], np.ndarray]:
    """The sentences of ``text`` and the whole message, with their vectors (the whole message's
    vector is ``message_vector`` when given)."""
    units = [u for u in message_units(text) if u != text]
    whole = [text] if text.strip() else []
    to_embed = units + (whole if message_vector is None else [])
    vectors = np.asarray(embed(to_embed), dtype=np.float32).reshape(len(to_embed), -1) if to_embed else None
    if message_vector is not None:
        own = np.asarray(message_vector, dtype=np.float32)[None, :]
        vectors = own if vectors is None else np.concatenate([vectors, own])
    return units + whole, vectors
