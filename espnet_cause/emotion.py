"""The emotion vocabulary: MEAD's eight emotional states, in one fixed order.

An emotion stream is a float32 array of shape (T, 8): one posterior per class and frame, in
:data:`EMOTIONS` order, each row summing to 1; classes a corpus does not have are exactly 0
(masked, never guessed). The utterance-level vector is the mean of the frame rows.

Corpora name the classes differently (MEAD ``happy``, CREMA-D ``HAP``, ...): :func:`parse_emotion`
maps every spelling the preparers meet to one of :data:`EMOTIONS`.
"""

from __future__ import annotations

from collections.abc import Iterable

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


def class_mask(classes: Iterable[str] | None) -> list[bool]:
    """(8,) True for the classes in ``classes`` (None: all eight)."""
    if classes is None:
        return [True] * NUM_EMOTIONS
    chosen = {parse_emotion(c) for c in classes}
    if not chosen:
        raise CauseError("the list of emotion classes is empty", fix="name at least two classes")
    return [e in chosen for e in EMOTIONS]
