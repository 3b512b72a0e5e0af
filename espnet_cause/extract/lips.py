"""Lips part (AU25) read from the face's geometry: the inner-lip gap over the eye distance.

MediaPipe's blendshapes have no score that follows the lips apart from the jaw: ``jawOpen`` is the
jaw, and ``mouthClose`` (lips held together while the jaw drops) stays near 0 on real talking
faces (its 95th percentile is 0.04-0.2 on the GRID clips). The blendshape table's
``AU25 = jawOpen - mouthClose`` therefore read the jaw twice. The built-in tracker reads AU25
off the landmarks instead:

    gap  = mean 3-D distance of the inner-lip pairs 13-14 (centre), 82-87 and 312-317
           (half-way to the corners), over the distance between the eye centres
           (eye corners 33/133 and 263/362, as :mod:`espnet_cause.face.landmarker`)
    AU25 = 5 * clip((gap - CLOSED_GAP) / (FULL_GAP - CLOSED_GAP), 0, 1)

The eye distance makes the gap independent of the face's size in the frame; 3-D distances (z on
the x scale, as MediaPipe defines it) keep it from growing when the head turns away. Closed lips
read a gap of 0.002-0.013 eye distances on real clips (landmark noise at the lip line), so gaps up
to ``CLOSED_GAP`` are AU25 0; ``FULL_GAP`` (a mouth open 0.42 eye distances, a wide shout) is
AU25 5. On talking GRID clips the speech's median gap is 0.04-0.14 (AU25 0.3-1.5) and its 95th
percentile 0.17-0.27 (AU25 1.9-3.0). AU25 rises when the lips part with the jaw still (an /m/ or
/p/ released into a vowel) and is 0 whenever the lips touch, whatever the jaw does; AU26 stays
``jawOpen``.
"""

from __future__ import annotations

import numpy as np

from espnet_cause.au import AU_INTENSITY_MAX
from espnet_cause.face.landmarker import LEFT_EYE_CORNERS, RIGHT_EYE_CORNERS

#: Inner-lip landmark pairs of the MediaPipe face mesh (upper, lower): centre and both sides.
INNER_LIP_PAIRS = ((13, 14), (82, 87), (312, 317))
#: Gap (in eye distances) at or below which the lips count as closed: AU25 0.
CLOSED_GAP = 0.02
#: Gap (in eye distances) that reads as AU25 5.
FULL_GAP = 0.42


def lip_gap(landmarks: np.ndarray) -> np.ndarray:
    """The inner-lip gap over the eye distance.

    Args:
        landmarks: (..., 478, 3) face-mesh landmarks, x, y and z in one unit (pixels, or
            MediaPipe's normalised x and z times the width and y times the height).

    Returns:
        (...,) float32 gap in eye distances (0: lips touch).
    """
    p = np.asarray(landmarks, dtype=np.float64)
    upper = p[..., [a for a, _ in INNER_LIP_PAIRS], :]
    lower = p[..., [b for _, b in INNER_LIP_PAIRS], :]
    gap = np.linalg.norm(upper - lower, axis=-1).mean(axis=-1)
    right = p[..., list(RIGHT_EYE_CORNERS), :].mean(axis=-2)
    left = p[..., list(LEFT_EYE_CORNERS), :].mean(axis=-2)
    eyes = np.linalg.norm(right - left, axis=-1)
    return (gap / np.maximum(eyes, 1e-9)).astype(np.float32)


def lips_part(gap: np.ndarray) -> np.ndarray:
    """AU25 (0..5) from the inner-lip gap in eye distances (rule: module docstring)."""
    x = (np.asarray(gap, dtype=np.float64) - CLOSED_GAP) / (FULL_GAP - CLOSED_GAP)
    return (AU_INTENSITY_MAX * np.clip(x, 0.0, 1.0)).astype(np.float32)
