"""The warp renderer's motion model: one (17, 478, 2) landmark displacement basis per face.

Each AU moves a set of MediaPipe face-mesh landmarks ("drivers") in a face frame (origin at the
mouth centre, x along the eye line, y towards the chin, unit = the distance between the eye
centres; :mod:`espnet_cause.render.face_geometry`); the other landmarks follow their nearby
drivers with a Gaussian fall-off (:mod:`espnet_cause.render.motion_drivers`).
:func:`build_landmark_basis` assembles the brows' (:mod:`espnet_cause.render.motion_brows`), the
eyes' (:mod:`espnet_cause.render.motion_lids`) and the mouth's
(:mod:`espnet_cause.render.motion_mouth`) motions into one basis, linear in the AU intensities;
:mod:`espnet_cause.render.warp` makes dense fields of it and warps. The closure of the photo's own
open mouth is :mod:`espnet_cause.render.motion_closure`. The names users imported from here
before the motion model was split by job are imported here again.
"""

from __future__ import annotations

import numpy as np

from espnet_cause.au import AU_INTENSITY_MAX, NUM_AUS
from espnet_cause.face.landmarker import Face
from espnet_cause.render.face_geometry import (
    BROW_LOWER_EDGE,
    BROW_UPPER,
    BROWS,
    CHIN,
    EYE_LOWER,
    EYE_UPPER,
    INNER_LOWER_LIP,
    INNER_UPPER_LIP,
    IRISES,
    MOUTH_CENTER,
    NOSE,
    NOSE_BRIDGE,
    NOSE_WINGS,
    OUTER_LOWER_LIP,
    OUTER_UPPER_LIP,
    brow_edge_heights,
    brow_heights,
    face_frame,
    face_uv,
    lid_opening,
    lip_gap,
    smoothstep,
)
from espnet_cause.render.motion_brows import (
    BROW_LOWER,
    BROW_RAISE,
    brow_motions,
    build_brow_raise_basis,
    build_sad_brow_basis,
    build_under_brow_basis,
)
from espnet_cause.render.motion_closure import (
    CLOSE_PRESS,
    NEUTRAL_MOUTH_WIDTH,
    OPEN_MOUTH_GAP,
    build_closure_basis,
)
from espnet_cause.render.motion_drivers import Motions, follow, to_pixels
from espnet_cause.render.motion_lids import BLINK_FULL, build_lower_lid_basis, eye_motions
from espnet_cause.render.motion_mouth import mouth_motions, upper_lip_raise

__all__ = [
    "BLINK_FULL",
    "BROWS",
    "BROW_LOWER",
    "BROW_LOWER_EDGE",
    "BROW_RAISE",
    "BROW_UPPER",
    "CHIN",
    "CLOSE_PRESS",
    "EYE_LOWER",
    "EYE_UPPER",
    "INNER_LOWER_LIP",
    "INNER_UPPER_LIP",
    "IRISES",
    "MOUTH_CENTER",
    "NEUTRAL_MOUTH_WIDTH",
    "NOSE",
    "NOSE_BRIDGE",
    "NOSE_WINGS",
    "OPEN_MOUTH_GAP",
    "OUTER_LOWER_LIP",
    "OUTER_UPPER_LIP",
    "brow_edge_heights",
    "brow_heights",
    "build_brow_raise_basis",
    "build_closure_basis",
    "build_landmark_basis",
    "build_lower_lid_basis",
    "build_sad_brow_basis",
    "build_under_brow_basis",
    "face_frame",
    "face_uv",
    "lid_opening",
    "lip_gap",
    "smoothstep",
    "upper_lip_raise",
]


def build_landmark_basis(face: Face, neck_room: float | None = None) -> np.ndarray:
    """Displacement of every landmark per unit AU intensity, in pixels.

    Args:
        face: The detected face (478 landmarks).
        neck_room: How far below the chin the region that moves ends (face units; None: far
            enough): the jaw drop (AU26) brings the chin down at most
            :data:`~espnet_cause.render.motion_mouth.JAW_ROOM_SHARE` of it.

    Returns:
        (17, 478, 2) float32: landmark displacement (x, y pixels) for intensity 1 of each AU.
    """
    uv, ex, ey, unit = face_uv(face)
    m = Motions(uv)
    brow_motions(m)
    eye_motions(m)
    mouth_motions(m, neck_room)
    basis = np.stack([follow(uv, m.drivers[k]) for k in range(NUM_AUS)])
    return to_pixels(basis, ex, ey, unit / AU_INTENSITY_MAX)
