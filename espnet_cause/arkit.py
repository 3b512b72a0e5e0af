"""The ARKit blendshape vocabulary and the one AU <-> ARKit table (both directions).

Three name lists describe the same face:

- :data:`ARKIT_NAMES`: Apple's 52 ``ARFaceAnchor.BlendShapeLocation`` names (camelCase) in
  Apple's documentation order (left eye, right eye, jaw, mouth, brows, cheeks, nose, tongue).
- :data:`MEDIAPIPE_CATEGORIES`: the 52 scores of MediaPipe's Face Landmarker, ``_neutral`` and
  51 ARKit blendshapes (all but ``tongueOut``) in MediaPipe's order. The 51 without ``_neutral``
  are :data:`BLENDSHAPE_NAMES`: the columns of every blendshape track in this project
  (``blendshapes.scp``, ``target: arkit`` models), scores in 0..1.
- :data:`LIVELINK_NAMES`: the 52 in Epic's Live Link Face CSV order, PascalCase
  (``EyeBlinkLeft``; note ``JawRight`` before ``JawLeft`` and ``MouthRight`` before
  ``MouthLeft``), followed in that CSV by the 9 :data:`LIVELINK_ROTATION_NAMES`.

Blendshapes -> AUs (:func:`blendshapes_to_aus`, the built-in MediaPipe extractor's table). Most
ARKit blendshapes were designed after single FACS action units, so each AU is read off the
blendshapes that depict it, ``AU = 5 * clip(sum(weight * blendshape), 0, 1)``:

=====  =======================  ==========================================================
AU     FACS name                blendshapes (weights)
=====  =======================  ==========================================================
AU01   Inner brow raiser        browInnerUp
AU02   Outer brow raiser        browOuterUpLeft/Right (mean)
AU04   Brow lowerer             browDownLeft/Right (mean)
AU05   Upper lid raiser         eyeWideLeft/Right (mean)
AU06   Cheek raiser             cheekSquintLeft/Right (mean)
AU07   Lid tightener            eyeSquintLeft/Right (mean)
AU09   Nose wrinkler            noseSneerLeft/Right (mean)
AU10   Upper lip raiser         mouthUpperUpLeft/Right (mean)
AU12   Lip corner puller        mouthSmileLeft/Right (mean)
AU14   Dimpler                  mouthDimpleLeft/Right (mean)
AU15   Lip corner depressor     mouthFrownLeft/Right (mean)
AU17   Chin raiser              mouthShrugLower
AU20   Lip stretcher            mouthStretchLeft/Right (mean)
AU23   Lip tightener            mouthPressLeft/Right (0.25 each) + mouthRollLower (0.5)
AU25   Lips part                jawOpen (1) - mouthClose (1): lips apart unless held closed (*)
AU26   Jaw drop                 jawOpen
AU45   Blink                    eyeBlinkLeft/Right (mean)
=====  =======================  ==========================================================

(*) For blendshape-only sources (a ``target: arkit`` model's output, blendshape CSVs). The
built-in tracker reads AU25 off the face mesh instead, as the inner-lip gap over the eye distance
(:mod:`espnet_cause.extract.lips`): on real faces ``mouthClose`` stays near 0, so this row
follows the jaw, not the lips.

AUs -> blendshapes (:func:`aus_to_blendshapes`, for exporting any AU stream to an avatar), with
``x = AU / 5``: a bilateral AU drives its Left and Right blendshapes equally (``x`` each), AU01
``browInnerUp``, AU17 ``mouthShrugLower``, AU23 ``mouthPressLeft/Right`` and ``mouthRollLower``,
AU26 ``jawOpen``, AU45 ``eyeBlinkLeft/Right``; the lips come from AU25 against AU26:
``mouthClose = max(0, x26 - x25)`` (the jaw drops more than the lips part: lips held together)
and ``mouthLowerDownLeft/Right = max(0, x25 - x26)`` (lips part more than the jaw drops).

Caveats:

- The AUs drive 33 of the 52 blendshapes. Gaze (``eyeLook*``), ``jawForward/Left/Right``,
  ``mouthFunnel``, ``mouthPucker``, ``mouthLeft/Right``, ``mouthRollUpper``,
  ``mouthShrugUpper``, ``cheekPuff`` and ``tongueOut`` have no AU among OpenFace's 17 and are 0
  in an exported AU stream; left and right are always equal.
- Round trip AU -> ARKit -> AU is exact for every AU except AU25 where the lips part more than
  the jaw drops (AU25 > AU26): the extractor's table ignores ``mouthLowerDown``, so AU25 comes
  back as AU26. ARKit -> AU -> ARKit is exact only for symmetric faces made by this table.
- Neither direction is calibrated against OpenFace or against a rig: a blendshape at 1 is the
  AU at 5. Exported ARKit weights from an AU model are a plausible animation, not a measurement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from espnet_cause.au import AU_INTENSITY_MAX, AU_INTENSITY_MIN, AU_NAMES, NUM_AUS

#: Apple's 52 ARKit face blendshapes in documentation order.
ARKIT_NAMES: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
    "eyeSquintLeft", "eyeWideLeft",
    "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
    "eyeSquintRight", "eyeWideRight",
    "jawForward", "jawLeft", "jawRight", "jawOpen",
    "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft", "mouthRight", "mouthSmileLeft",
    "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight", "mouthDimpleLeft", "mouthDimpleRight",
    "mouthStretchLeft", "mouthStretchRight", "mouthRollLower", "mouthRollUpper",
    "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft", "mouthPressRight",
    "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight",
    "noseSneerLeft", "noseSneerRight",
    "tongueOut",
)  # fmt: skip

#: MediaPipe Face Landmarker's 52 blendshape categories, in its output order.
MEDIAPIPE_CATEGORIES: tuple[str, ...] = (
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
    "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft",
    "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight",
    "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft",
    "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen",
    "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft",
    "mouthFrownRight", "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight", "mouthRollLower",
    "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight",
    "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "noseSneerLeft", "noseSneerRight",
)  # fmt: skip

#: The 51 ARKit blendshapes MediaPipe reports (its order, without ``_neutral``): the columns of
#: blendshape tracks (``blendshapes.scp``) and of ``target: arkit`` models.
BLENDSHAPE_NAMES: tuple[str, ...] = MEDIAPIPE_CATEGORIES[1:]
#: Columns of a blendshape track.
NUM_BLENDSHAPES: int = len(BLENDSHAPE_NAMES)
#: Blendshape scores are in 0..1.
BLENDSHAPE_MIN: float = 0.0
BLENDSHAPE_MAX: float = 1.0

#: Live Link Face lists ARKit's 52 names in PascalCase, in ARKit's documentation order except
#: that JawRight comes before JawLeft and MouthRight before MouthLeft.
_LIVELINK_SWAPS = {"jawLeft": "jawRight", "jawRight": "jawLeft",
                   "mouthLeft": "mouthRight", "mouthRight": "mouthLeft"}  # fmt: skip
#: The 52 ARKit names in Live Link Face CSV order, PascalCase.
LIVELINK_NAMES: tuple[str, ...] = tuple(
    (n := _LIVELINK_SWAPS.get(name, name))[0].upper() + n[1:] for name in ARKIT_NAMES
)
#: The head and eye rotation columns that follow the blendshapes in a Live Link Face CSV.
LIVELINK_ROTATION_NAMES: tuple[str, ...] = (
    "HeadYaw", "HeadPitch", "HeadRoll",
    "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
    "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
)  # fmt: skip
#: Head rotation of a tracked face: yaw, pitch, roll (degrees; see ``face`` head pose).
HEAD_POSE_NAMES: tuple[str, ...] = ("headYaw", "headPitch", "headRoll")

#: Blendshape score 1.0 maps to this AU intensity (OpenFace's maximum, 5).
DEFAULT_GAIN: float = AU_INTENSITY_MAX / BLENDSHAPE_MAX


def to_pascal(name: str) -> str:
    """``eyeBlinkLeft`` -> ``EyeBlinkLeft`` (Live Link spelling)."""
    return name[:1].upper() + name[1:]


def to_camel(name: str) -> str:
    """``EyeBlinkLeft`` -> ``eyeBlinkLeft`` (ARKit spelling)."""
    return name[:1].lower() + name[1:]


class AUMapping(NamedTuple):
    """How one AU is read off blendshapes: ``gain * clip(sum(weight * blendshape), 0, 1)``."""

    au: str
    weights: dict[str, float]
    gain: float = DEFAULT_GAIN


def _mean(*names: str) -> dict[str, float]:
    return {n: 1.0 / len(names) for n in names}


def _pair(stem: str) -> dict[str, float]:
    return _mean(stem + "Left", stem + "Right")


#: Blendshapes -> AUs, in OpenFace AU order (see the module docstring).
AU_MAPPINGS: tuple[AUMapping, ...] = (
    AUMapping("AU01", {"browInnerUp": 1.0}),
    AUMapping("AU02", _pair("browOuterUp")),
    AUMapping("AU04", _pair("browDown")),
    AUMapping("AU05", _pair("eyeWide")),
    AUMapping("AU06", _pair("cheekSquint")),
    AUMapping("AU07", _pair("eyeSquint")),
    AUMapping("AU09", _pair("noseSneer")),
    AUMapping("AU10", _pair("mouthUpperUp")),
    AUMapping("AU12", _pair("mouthSmile")),
    AUMapping("AU14", _pair("mouthDimple")),
    AUMapping("AU15", _pair("mouthFrown")),
    AUMapping("AU17", {"mouthShrugLower": 1.0}),
    AUMapping("AU20", _pair("mouthStretch")),
    AUMapping("AU23", {"mouthPressLeft": 0.25, "mouthPressRight": 0.25, "mouthRollLower": 0.5}),
    AUMapping("AU25", {"jawOpen": 1.0, "mouthClose": -1.0}),
    AUMapping("AU26", {"jawOpen": 1.0}),
    AUMapping("AU45", _pair("eyeBlink")),
)

#: AUs -> blendshapes that one AU drives alone (weight 1 on ``AU / 5``); AU25 and AU26 are
#: combined for ``jawOpen``, ``mouthClose`` and ``mouthLowerDown*`` (see the module docstring).
BLENDSHAPES_OF_AU: dict[str, tuple[str, ...]] = {
    "AU01": ("browInnerUp",),
    "AU02": ("browOuterUpLeft", "browOuterUpRight"),
    "AU04": ("browDownLeft", "browDownRight"),
    "AU05": ("eyeWideLeft", "eyeWideRight"),
    "AU06": ("cheekSquintLeft", "cheekSquintRight"),
    "AU07": ("eyeSquintLeft", "eyeSquintRight"),
    "AU09": ("noseSneerLeft", "noseSneerRight"),
    "AU10": ("mouthUpperUpLeft", "mouthUpperUpRight"),
    "AU12": ("mouthSmileLeft", "mouthSmileRight"),
    "AU14": ("mouthDimpleLeft", "mouthDimpleRight"),
    "AU15": ("mouthFrownLeft", "mouthFrownRight"),
    "AU17": ("mouthShrugLower",),
    "AU20": ("mouthStretchLeft", "mouthStretchRight"),
    "AU23": ("mouthPressLeft", "mouthPressRight", "mouthRollLower"),
    "AU26": ("jawOpen",),
    "AU45": ("eyeBlinkLeft", "eyeBlinkRight"),
}
#: Blendshapes that AU25 against AU26 sets: lips held closed / lower lip down.
LIPS_CLOSED = "mouthClose"
LIPS_APART: tuple[str, ...] = ("mouthLowerDownLeft", "mouthLowerDownRight")


def _index(names: Sequence[str]) -> dict[str, int]:
    index = {n: i for i, n in enumerate(names)}
    if len(index) != len(names):
        raise ValueError(f"duplicate blendshape names in {list(names)}")
    return index


def mapping_matrix(names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The blendshape -> AU table as arrays for scores given in the order ``names``.

    Args:
        names: Blendshape names of the score columns (any order, any superset, ARKit spelling).

    Returns:
        ``(weights, gains)``: (17, len(names)) float32 weights and (17,) float32 gains.

    Raises:
        ValueError: if a blendshape that the table needs is not among ``names``.
    """
    index = _index(names)
    missing = sorted({n for m in AU_MAPPINGS for n in m.weights} - set(index))
    if missing:
        raise ValueError(f"blendshapes {', '.join(missing)} missing from the model's output")
    weights = np.zeros((NUM_AUS, len(names)), dtype=np.float32)
    for row, m in enumerate(AU_MAPPINGS):
        for name, w in m.weights.items():
            weights[row, index[name]] = w
    gains = np.array([m.gain for m in AU_MAPPINGS], dtype=np.float32)
    return weights, gains


def blendshapes_to_aus(scores: np.ndarray, names: Sequence[str] = BLENDSHAPE_NAMES) -> np.ndarray:
    """Map blendshape scores to AU intensities.

    Args:
        scores: (T, B) blendshape scores in 0..1 (NaN rows stay NaN: missing frames).
        names: The B blendshape names of the columns (default :data:`BLENDSHAPE_NAMES`).

    Returns:
        (T, 17) float32 AU intensities on the 0..5 scale, OpenFace order.
    """
    weights, gains = mapping_matrix(names)
    scores = np.asarray(scores, dtype=np.float32)
    raw = np.clip(scores @ weights.T, 0.0, 1.0) * gains
    return np.clip(raw, AU_INTENSITY_MIN, AU_INTENSITY_MAX).astype(np.float32)


def aus_to_blendshapes(aus: np.ndarray, names: Sequence[str] = BLENDSHAPE_NAMES) -> np.ndarray:
    """Map AU intensities to blendshape weights (the AU -> ARKit table, module docstring).

    Args:
        aus: (T, 17) AU intensities on the 0..5 scale, OpenFace order (NaN rows stay NaN).
        names: Blendshape columns wanted, ARKit spelling: :data:`BLENDSHAPE_NAMES` (default),
            :data:`ARKIT_NAMES`, or any subset. Names no AU drives (``tongueOut``, gaze, ...)
            are 0.

    Returns:
        (T, len(names)) float32 weights in 0..1.

    Raises:
        ValueError: for a wrong number of AU columns or a name that is not an ARKit blendshape.
    """
    aus = np.asarray(aus, dtype=np.float32)
    if aus.ndim != 2 or aus.shape[1] != NUM_AUS:
        raise ValueError(f"AU array has shape {aus.shape}, expected (T, {NUM_AUS})")
    index = _index(names)
    unknown = sorted(set(index) - set(ARKIT_NAMES))
    if unknown:
        raise ValueError(f"not ARKit blendshape names: {', '.join(unknown)}")
    x = np.clip(aus / AU_INTENSITY_MAX, 0.0, 1.0)
    x[np.isnan(aus)] = np.nan
    out = np.zeros((len(aus), len(names)), dtype=np.float32)
    for au, shapes in BLENDSHAPES_OF_AU.items():
        column = x[:, AU_NAMES.index(au)]
        for shape in shapes:
            if shape in index:
                out[:, index[shape]] = column
    lips, jaw = x[:, AU_NAMES.index("AU25")], x[:, AU_NAMES.index("AU26")]
    if LIPS_CLOSED in index:
        out[:, index[LIPS_CLOSED]] = np.maximum(jaw - lips, 0.0)
    for shape in LIPS_APART:
        if shape in index:
            out[:, index[shape]] = np.maximum(lips - jaw, 0.0)
    out[np.isnan(aus).any(axis=1)] = np.nan
    return out


def reorder(
    values: np.ndarray, names: Sequence[str], to: Sequence[str], fill: float = 0.0
) -> np.ndarray:
    """Columns of ``values`` (named ``names``) in the order ``to``; absent names get ``fill``.

    Names match regardless of the first letter's case, so ARKit (``eyeBlinkLeft``) and Live Link
    (``EyeBlinkLeft``) spellings mix freely.

    Args:
        values: (T, len(names)) array.
        names: Its column names.
        to: The wanted column names.
        fill: Value of wanted columns that ``names`` lacks (e.g. ``tongueOut`` from MediaPipe).

    Returns:
        (T, len(to)) float32.
    """
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 2 or values.shape[1] != len(names):
        raise ValueError(f"array has shape {values.shape}, expected (T, {len(names)})")
    index = _index([to_camel(n) for n in names])
    out = np.full((len(values), len(to)), fill, dtype=np.float32)
    for j, name in enumerate(to):
        i = index.get(to_camel(name))
        if i is not None:
            out[:, j] = values[:, i]
    return out


def arkit_frames(values: np.ndarray) -> np.ndarray:
    """Any stream of frame values as the 52 ARKit blendshapes (:data:`ARKIT_NAMES` order).

    Args:
        values: (T, 17) AUs on the 0..5 scale (mapped through the AU -> ARKit table), (T, 51)
            MediaPipe blendshapes (:data:`BLENDSHAPE_NAMES` order; ``tongueOut`` is 0), or
            (T, 52) ARKit blendshapes (returned as they are).

    Returns:
        (T, 52) float32 weights in 0..1.

    Raises:
        ValueError: for another number of columns.
    """
    values = np.asarray(values, dtype=np.float32)
    width = values.shape[1] if values.ndim == 2 else None
    if width == NUM_AUS:
        return aus_to_blendshapes(values, ARKIT_NAMES)
    if width == NUM_BLENDSHAPES:
        return reorder(values, BLENDSHAPE_NAMES, ARKIT_NAMES)
    if width == len(ARKIT_NAMES):
        return values
    raise ValueError(
        f"array has shape {values.shape}, expected (T, {NUM_AUS}) AUs, (T, {NUM_BLENDSHAPES}) "
        f"MediaPipe or (T, {len(ARKIT_NAMES)}) ARKit blendshapes"
    )


def au_weights_to_blendshapes(weights: np.ndarray) -> np.ndarray:
    """Per-AU weights (e.g. an utterance's ``au_weight``) -> per-blendshape weights.

    Each blendshape takes the weight of the AU that drives it in the AU -> ARKit table
    (``mouthClose`` and ``mouthLowerDown*`` that of AU25); blendshapes no AU drives (gaze,
    ``jawForward``, ``mouthFunnel``, ...) take the mean of the AU weights.

    Args:
        weights: (..., 17) in OpenFace order.

    Returns:
        (..., 51) float32 in :data:`BLENDSHAPE_NAMES` order.
    """
    w = np.asarray(weights, dtype=np.float32)
    if w.shape[-1] != NUM_AUS:
        raise ValueError(f"AU weights have {w.shape[-1]} columns, expected {NUM_AUS}")
    out = np.repeat(w.mean(axis=-1, keepdims=True), NUM_BLENDSHAPES, axis=-1)
    driven = dict(BLENDSHAPES_OF_AU, AU25=(LIPS_CLOSED, *LIPS_APART))
    for au, names in driven.items():
        for name in names:
            out[..., BLENDSHAPE_NAMES.index(name)] = w[..., AU_NAMES.index(au)]
    return out
