"""The emotion vocabulary: MEAD's eight emotional states, in one fixed order.

An emotion stream is a float32 array of shape (T, 8): one posterior per class and frame, in
:data:`EMOTIONS` order, each row summing to 1; classes a corpus does not have are exactly 0
(masked, never guessed). The utterance-level vector is the mean of the frame rows.

Corpora name the classes differently (MEAD ``happy``, CREMA-D ``HAP``, ...): :func:`parse_emotion`
maps every spelling the preparers meet to one of :data:`EMOTIONS`.

What each emotion looks like on a face is :data:`PROTOTYPES` (emotion -> AU change from the
speaker's neutral face), scaled by :data:`INTENSITY_SCALE`; :func:`classify_change` reads an AU
change as one of them (the expression check), :func:`emotion_to_aus` turns emotion probabilities
into AUs through the same table.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.errors import CauseError

#: The eight classes (MEAD's emotions; the CAUSE poster's order).
EMOTIONS: tuple[str, ...] = (
    "neutral", "happy", "surprised", "sad", "angry", "disgusted", "fearful", "contempt",
)  # fmt: skip
#: Length of an emotion vector.
NUM_EMOTIONS: int = len(EMOTIONS)

#: Other spellings -> class (lower case): MEAD folder names, CREMA-D codes, common nouns.
ALIASES: dict[str, str] = {
    "neu": "neutral",
    "hap": "happy",
    "happiness": "happy",
    "sur": "surprised",
    "surprise": "surprised",
    "sad": "sad",
    "sadness": "sad",
    "ang": "angry",
    "anger": "angry",
    "dis": "disgusted",
    "disgust": "disgusted",
    "fea": "fearful",
    "fear": "fearful",
    "con": "contempt",
}


def parse_emotion(name: str) -> str:
    """The class a corpus label names (case-insensitive; MEAD and CREMA-D spellings).

    Raises:
        CauseError: for a label that is none of the eight classes.
    """
    key = name.strip().lower()
    if key in EMOTIONS:
        return key
    if key in ALIASES:
        return ALIASES[key]
    raise CauseError(f"unknown emotion label {name!r}", fix=f"use one of {', '.join(EMOTIONS)}")


def emotion_index(name: str) -> int:
    """Column of a class in a (T, 8) stream (any spelling :func:`parse_emotion` knows)."""
    return EMOTIONS.index(parse_emotion(name))


def one_hot(name: str) -> np.ndarray:
    """(8,) float32 probabilities that are certain of one class (a known label as posteriors)."""
    out = np.zeros(NUM_EMOTIONS, dtype=np.float32)
    out[emotion_index(name)] = 1.0
    return out


def class_mask(classes: Iterable[str] | None) -> list[bool]:
    """(8,) True for the classes in ``classes`` (None: all eight)."""
    if classes is None:
        return [True] * NUM_EMOTIONS
    chosen = {parse_emotion(c) for c in classes}
    if not chosen:
        raise CauseError("the list of emotion classes is empty", fix="name at least two classes")
    return [e in chosen for e in EMOTIONS]


# ---------------------------------------------------------------------------------------------
# Expression prototypes: emotion x intensity -> AU intensities
# ---------------------------------------------------------------------------------------------
#: The face of each emotion as a change from the speaker's neutral face, in AU intensity units
#: (0-5 scale) at ``strong`` intensity. AUs: EMFACS / Ekman & Friesen prototypes (happy 6+12;
#: sad 1+4+15; angry 4+5+7+23; fearful 1+2+4+5+20+26; disgusted 9+10+15; surprised 1+2+5+26;
#: neutral none; contempt 12+14 on one side, here both). Magnitudes: what the built-in
#: MediaPipe tracker shows on the real emotional faces of the development set (eNTERFACE, MEAD; an
#: emotion's clip mean minus the speaker's other clips, docs/model_expressive.md): brows move up
#: to 2.5 (surprise AU01/AU02 +2.55/+2.57), lip corners about 1 (happy AU12 +1.05), the brow
#: lowerer up to 1.8 (disgust), lip depressor 0.3-0.8 (sad AU15), the upper lid little (AU05 +0.2
#: at most: the tracker's AU05 hardly moves). AU06 and AU09 never move in that tracker; their
#: magnitudes follow the literature's pairing (AU06 with AU12, AU09 with AU10).
PROTOTYPES: dict[str, dict[str, float]] = {
    "neutral": {},
    "happy": {"AU06": 1.0, "AU12": 1.5},
    "sad": {"AU01": 1.0, "AU04": 1.0, "AU15": 0.8},
    "angry": {"AU04": 1.5, "AU05": 0.4, "AU07": 1.0, "AU23": 0.6},
    "fearful": {"AU01": 1.2, "AU02": 1.0, "AU04": 0.8, "AU05": 0.4, "AU20": 0.6, "AU26": 0.5},
    "disgusted": {"AU09": 1.0, "AU10": 0.8, "AU15": 0.6},
    "surprised": {"AU01": 2.0, "AU02": 2.0, "AU05": 0.4, "AU26": 0.6},
    "contempt": {"AU12": 0.6, "AU14": 0.8},
}
#: Share of the ``strong`` prototype each acted intensity shows (None: unlabelled).
INTENSITY_SCALE: dict[str | None, float] = {"normal": 0.6, "strong": 1.0, None: 0.8}
#: The emotions the prototype check chooses among (chance 1/6).
SCORED_EMOTIONS: tuple[str, ...] = ("happy", "surprised", "sad", "angry", "disgusted", "fearful")


def prototype(emotion: str, intensity: str | None = None) -> np.ndarray:
    """(17,) AU change from neutral of ``emotion`` acted at ``intensity`` (0 for neutral).

    Args:
        emotion: A class (any spelling :func:`parse_emotion` knows).
        intensity: ``normal``, ``strong`` or None (unlabelled: between the two).

    Raises:
        CauseError: for an unknown emotion or intensity.
    """
    if intensity not in INTENSITY_SCALE:
        raise CauseError(
            f"unknown emotion intensity {intensity!r}", fix="use normal or strong (or none)"
        )
    out = np.zeros(NUM_AUS, dtype=np.float32)
    for au, value in PROTOTYPES[parse_emotion(emotion)].items():
        out[au_index(au)] = value * INTENSITY_SCALE[intensity]
    return out


def prototype_matrix(emotions: Iterable[str] = SCORED_EMOTIONS) -> np.ndarray:
    """(E, 17) the ``strong`` prototypes of ``emotions``, one row each."""
    return np.stack([prototype(e, "strong") for e in emotions])


def emotion_to_aus(posteriors: np.ndarray) -> np.ndarray:
    """Emotion probabilities through the prototype table: (..., 8) -> (..., 17) AU changes.

    Each row is the probability-weighted mean of the eight ``strong`` prototypes (neutral 0).
    """
    posteriors = np.asarray(posteriors, dtype=np.float32)
    if posteriors.shape[-1] != NUM_EMOTIONS:
        raise CauseError(
            f"emotion posteriors have {posteriors.shape[-1]} columns, expected {NUM_EMOTIONS}"
        )
    return posteriors @ prototype_matrix(EMOTIONS)


def classify_change(change: np.ndarray, emotions: Iterable[str] = SCORED_EMOTIONS) -> np.ndarray:
    """Cosine similarity of AU changes from neutral to each prototype.

    Args:
        change: (..., 17) an utterance's mean AUs minus its speaker's neutral mean.
        emotions: The candidate emotions (default: the six of the check).

    Returns:
        (..., E) cosine similarities; the argmax is the emotion the face reads as. A zero change
        gives zeros (no emotion is read).
    """
    protos = prototype_matrix(tuple(emotions))
    protos = protos / np.linalg.norm(protos, axis=1, keepdims=True)
    change = np.asarray(change, dtype=np.float64)
    norm = np.linalg.norm(change, axis=-1, keepdims=True)
    return (change / np.where(norm > 0, norm, 1.0)) @ protos.T
