"""The whole ARKit face from an AU stream: the AU -> ARKit table plus what the 17 AUs lack.

The table of :mod:`espnet_cause.arkit` drives 33 of the 52 blendshapes. The rest are read off the
viseme track (:mod:`espnet_cause.avatar.visemes`, which combines the mouth AUs with the speech's
frication, F2 lowering and closures) and the eye and head motion (:mod:`espnet_cause.avatar.head`),
with ``w_X`` the weight of viseme ``X`` (0..1, smoothed by :data:`SMOOTH_S`):

==========================  ==============================================================
blendshape                  from
==========================  ==============================================================
mouthPucker                 ``w_ou + 0.3 w_oh``: lips protruded and narrowed on /u w/
mouthFunnel                 ``w_oh + 0.4 w_ou + 0.5 w_CH``: lips rounded open on /o/, /S tS/
mouthRollUpper              ``0.5 w_PP``: lips pressed in while closed on /p b m/
mouthRollLower              ``max(table (AU23), 0.5 w_PP, 0.6 w_FF)``: lower lip under the
                            teeth on /f v/
mouthShrugUpper             ``0.6 x17`` (AU17 / 5): the chin raiser pushes both lips up
mouthPressLeft/Right        ``max(table (AU23), 0.4 w_PP)``
mouthClose                  ``max(table, w_PP * jawOpen)``: lips held together, jaw apart
cheekPuff                   ``0.25 w_PP``: air pressure behind the lips before a /p b/ release
jawForward                  ``0.3 w_FF + 0.2 w_SS``: the lower teeth come forward for /f v s z/
mouthLeft/Right, jawLeft/   a seeded slow walk (standard deviations :data:`MOUTH_SIDE_STD`,
Right                       :data:`JAW_SIDE_STD`): faces and jaws are not held symmetric
eyeLook* (8)                the gaze of :func:`espnet_cause.avatar.head.eye_gaze`
eyeBlinkLeft/Right          AU45 of the stream with blinks added at :data:`BLINK_RATE` a
                            minute where it has none (:func:`espnet_cause.avatar.idle.add_blinks`)
tongueOut                   0 (below)
==========================  ==============================================================

``tongueOut`` stays 0: ARKit's tongueOut is the tongue stuck out past the lips, which speech does
not do (the tongue tip reaches the teeth on /T D/ at most, hidden behind the lips in ARKit's
sense), and neither the AUs nor the sound say more. A ``target: arkit`` model's own blendshapes
are kept as the model gives them (it learned them from faces); only gaze and blinks are added.
"""

from __future__ import annotations

import numpy as np

from espnet_cause.arkit import ARKIT_NAMES, aus_to_blendshapes
from espnet_cause.au import AU_INTENSITY_MAX, au_index
from espnet_cause.avatar.head import gaze_blendshapes, smoothed_walk
from espnet_cause.avatar.visemes import VISEME_NAMES

#: Blinks per minute added where the stream has none (people blink 15-20 times a minute).
BLINK_RATE = 15.0
#: Viseme weights are smoothed (Gaussian, this sigma in seconds) before they drive blendshapes.
SMOOTH_S = 0.025
#: Standard deviation of the sideways mouth and jaw drifts (blendshape units) and their time scale.
MOUTH_SIDE_STD = 0.05
JAW_SIDE_STD = 0.04
SIDE_SMOOTH_S = 1.5

_COL = {name: i for i, name in enumerate(ARKIT_NAMES)}


def _smooth(x: np.ndarray, fps: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter1d

    sigma = SMOOTH_S * fps
    return gaussian_filter1d(x, sigma, axis=0, mode="nearest") if sigma >= 0.3 else x


def whole_face(
    aus: np.ndarray,
    visemes: np.ndarray,
    gaze: np.ndarray,
    fps: float,
    seed: int = 0,
) -> np.ndarray:
    """The 52 ARKit blendshapes of an AU stream (module docstring table).

    Args:
        aus: (T, 17) AUs on 0-5 (blinks already added, see :func:`espnet_cause.avatar.idle.add_blinks`).
        visemes: (T, 15) viseme weights (:func:`espnet_cause.avatar.visemes.viseme_weights`).
        gaze: (T, 2) eye yaw, pitch (radians).
        fps: Frame rate.
        seed: Seed of the sideways drifts.

    Returns:
        (T, 52) float32 weights in 0..1, :data:`~espnet_cause.arkit.ARKIT_NAMES` order.
    """
    aus = np.nan_to_num(np.asarray(aus, np.float32))
    out = aus_to_blendshapes(aus, ARKIT_NAMES)
    w = {name: col for name, col in zip(VISEME_NAMES, _smooth(visemes, fps).T, strict=True)}
    x17 = aus[:, au_index("AU17")] / AU_INTENSITY_MAX

    def put(name: str, value: np.ndarray, keep_table: bool = False) -> None:
        column = out[:, _COL[name]]
        out[:, _COL[name]] = np.maximum(column, value) if keep_table else value

    put("mouthPucker", w["ou"] + 0.3 * w["oh"])
    put("mouthFunnel", w["oh"] + 0.4 * w["ou"] + 0.5 * w["CH"])
    put("mouthRollUpper", 0.5 * w["PP"])
    put("mouthRollLower", np.maximum(0.5 * w["PP"], 0.6 * w["FF"]), keep_table=True)
    put("mouthShrugUpper", 0.6 * x17)
    for side in ("Left", "Right"):
        put("mouthPress" + side, 0.4 * w["PP"], keep_table=True)
    put("mouthClose", w["PP"] * out[:, _COL["jawOpen"]], keep_table=True)
    put("cheekPuff", 0.25 * w["PP"])
    put("jawForward", 0.3 * w["FF"] + 0.2 * w["SS"])
    side = smoothed_walk(len(aus), fps, (MOUTH_SIDE_STD, JAW_SIDE_STD), SIDE_SMOOTH_S, seed + 1)
    put("mouthLeft", np.maximum(side[:, 0], 0))
    put("mouthRight", np.maximum(-side[:, 0], 0))
    put("jawLeft", np.maximum(side[:, 1], 0))
    put("jawRight", np.maximum(-side[:, 1], 0))
    for name, value in gaze_blendshapes(gaze).items():
        put(name, value)
    out[:, _COL["tongueOut"]] = 0.0
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def add_gaze(arkit: np.ndarray, gaze: np.ndarray) -> np.ndarray:
    """A (T, 52) ARKit stream with its eyeLook* blendshapes set from a gaze (others kept)."""
    out = np.array(arkit, np.float32, copy=True)
    for name, value in gaze_blendshapes(gaze).items():
        out[:, _COL[name]] = value
    return out
