"""From MediaPipe's ARKit-style face blendshapes to the 17 OpenFace AU intensities.

MediaPipe's Face Landmarker returns 52 scores in 0..1: a ``_neutral`` score (ignored here) and
51 of ARKit's 52 blendshapes (all but ``tongueOut``). Most ARKit blendshapes were designed after
single FACS action units, so each AU is read off the blendshapes that depict it:

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
AU25   Lips part                jawOpen (1) - mouthClose (1): lips apart unless held closed
AU26   Jaw drop                 jawOpen
AU45   Blink                    eyeBlinkLeft/Right (mean)
=====  =======================  ==========================================================

The weighted sum is clipped to 0..1 and multiplied by the AU's gain to reach OpenFace's 0..5
scale. All gains are :data:`DEFAULT_GAIN` (a blendshape at 1 is the AU at its maximum); they are
not calibrated against OpenFace, so the two extractors agree on which AUs move and when, not on
exact intensities. Do not mix the two in one training set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from espnet_cause.au import AU_INTENSITY_MAX, AU_INTENSITY_MIN, NUM_AUS

#: Blendshape score 1.0 maps to this AU intensity (OpenFace's maximum, 5).
DEFAULT_GAIN: float = AU_INTENSITY_MAX / 1.0


class AUMapping(NamedTuple):
    """How one AU is computed: ``gain * clip(sum(weight * blendshape), 0, 1)``."""

    au: str
    weights: dict[str, float]
    gain: float = DEFAULT_GAIN


def _mean(*names: str) -> dict[str, float]:
    return {n: 1.0 / len(names) for n in names}


def _pair(stem: str) -> dict[str, float]:
    return _mean(stem + "Left", stem + "Right")


#: The mapping table, in OpenFace AU order (see the module docstring).
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

#: The 51 blendshape names MediaPipe reports besides ``_neutral`` (ARKit names).
BLENDSHAPE_NAMES: tuple[str, ...] = (
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight",
    "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft",
    "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight",
    "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen", "jawRight", "mouthClose",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight", "mouthFunnel",
    "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight",
    "mouthPucker", "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower",
    "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft",
    "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft",
    "noseSneerRight",
)  # fmt: skip


def mapping_matrix(names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The table as arrays for blendshape scores given in the order ``names``.

    Args:
        names: Blendshape names in the order of the score columns (MediaPipe's category order).

    Returns:
        ``(weights, gains)``: (17, len(names)) float32 weights and (17,) float32 gains.

    Raises:
        ValueError: if a blendshape that the table needs is not among ``names``.
    """
    index = {n: i for i, n in enumerate(names)}
    missing = sorted({n for m in AU_MAPPINGS for n in m.weights} - set(index))
    if missing:
        raise ValueError(f"blendshapes {', '.join(missing)} missing from the model's output")
    weights = np.zeros((NUM_AUS, len(names)), dtype=np.float32)
    for row, m in enumerate(AU_MAPPINGS):
        for name, w in m.weights.items():
            weights[row, index[name]] = w
    gains = np.array([m.gain for m in AU_MAPPINGS], dtype=np.float32)
    return weights, gains


def blendshapes_to_aus(scores: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Map blendshape scores to AU intensities.

    Args:
        scores: (T, B) blendshape scores in 0..1 (NaN rows stay NaN: missing frames).
        names: The B blendshape names of the columns.

    Returns:
        (T, 17) float32 AU intensities on the 0..5 scale, OpenFace order.
    """
    weights, gains = mapping_matrix(names)
    scores = np.asarray(scores, dtype=np.float32)
    raw = np.clip(scores @ weights.T, 0.0, 1.0) * gains
    return np.clip(raw, AU_INTENSITY_MIN, AU_INTENSITY_MAX).astype(np.float32)
