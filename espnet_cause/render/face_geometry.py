"""The face's geometry: the face-mesh landmark sets, the face frame and measurements in it.

The MediaPipe face-mesh topology the motion model drives (lips, eyes, irises, brows, nose, chin),
the face frame (origin at the mouth centre, x along the eye line, y towards the chin, unit = the
distance between the eye centres in 3-D: :func:`face_frame`, :func:`face_uv`) and what is
measured in it: brow heights, the lids' opening and lines, the lips' gap.
"""

from __future__ import annotations

import numpy as np

from espnet_cause.errors import CauseError
from espnet_cause.face.canonical import mirror_landmarks
from espnet_cause.face.landmarker import LEFT_EYE_CORNERS, RIGHT_EYE_CORNERS, Face

# --- MediaPipe face-mesh topology (landmark indices) ---------------------------------------
OUTER_UPPER_LIP = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
OUTER_LOWER_LIP = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
INNER_UPPER_LIP = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LOWER_LIP = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
#: Upper and lower lid contours of each eye, corner to corner.
EYE_UPPER = (
    (33, 246, 161, 160, 159, 158, 157, 173, 133),
    (263, 466, 388, 387, 386, 385, 384, 398, 362),
)
EYE_LOWER = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133),
    (263, 249, 390, 373, 374, 380, 381, 382, 362),
)
#: Iris landmarks (centre first) of each eye.
IRISES = ((468, 469, 470, 471, 472), (473, 474, 475, 476, 477))
BROWS = (
    (46, 53, 52, 65, 55, 70, 63, 105, 66, 107),
    (276, 283, 282, 295, 285, 300, 293, 334, 296, 336),
)
#: The brows' upper edge, outer end to inner end.
BROW_UPPER = ((70, 63, 105, 66, 107), (300, 293, 334, 296, 336))
#: The brows' lower edge, outer end to inner end.
BROW_LOWER_EDGE = ((46, 53, 52, 65, 55), (276, 283, 282, 295, 285))
NOSE = (168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 98, 97, 326, 327, 294, 278, 344, 440, 275)
NOSE_BRIDGE = (168, 6, 197, 195)
NOSE_WINGS = (98, 97, 2, 326, 327, 294, 64, 48, 278)
CHIN = (152, 148, 176, 149, 377, 400, 378, 199, 175)
MOUTH_CENTER = (13, 14)
#: Every landmark of both brows.
BOTH_BROWS = BROWS[0] + BROWS[1]
#: Every landmark of both eyes' lids and irises.
EYES = sum(EYE_UPPER + EYE_LOWER + IRISES, ())
#: Every landmark of the four lip contours (the corners in each).
LIPS = OUTER_UPPER_LIP + OUTER_LOWER_LIP + INNER_UPPER_LIP + INNER_LOWER_LIP
#: A face turned further than this foreshortening of its eye line (about 70 degrees) is treated
#: as turned this far (the depth of a face seen almost in profile is a guess).
MIN_FORESHORTENING = 0.35
#: ... and one turned less than this (foreshortening above 1 - this, about 8 degrees) as frontal:
#: the depth's noise (0.997-1.000 on 25 frontal video frames) moved frontal faces' motions.
FRONTAL_TOLERANCE = 0.01


def _eye_line(face: Face) -> tuple[np.ndarray, float, float]:
    """The eye line: (2,) in the image (pixels, between the eye centres of
    :meth:`~espnet_cause.face.landmarker.Face.eye_centers`, from the image left), its
    foreshortening (image over 3-D length, :data:`FRONTAL_TOLERANCE` and
    :data:`MIN_FORESHORTENING` applied; 1 for landmarks without depth) and the sine of the turn
    (signed as the depth grows along the line; 0 for a frontal face)."""
    eyes = [face.landmarks[list(c)].mean(axis=0) for c in (RIGHT_EYE_CORNERS, LEFT_EYE_CORNERS)]
    left, right = sorted(eyes, key=lambda eye: float(eye[0]))
    line = (right - left).astype(np.float64)
    flat = float(np.linalg.norm(line[:2]))
    if len(line) < 3 or flat < 1.0:
        return (right - left)[:2], 1.0, 0.0
    shortening = flat / float(np.linalg.norm(line)) + FRONTAL_TOLERANCE
    shortening = min(max(shortening, MIN_FORESHORTENING), 1.0)
    sine = float(np.sign(line[2])) * float(np.sqrt(1.0 - shortening**2))
    return (right - left)[:2], shortening, sine


def face_frame(face: Face) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The face's frame: origin (the mouth centre), x and y axes (pixels) and the unit length.

    The unit is the eye distance in 3-D (the landmarks' depth is in the same pixel scale), so a
    face turned away from the camera keeps its height in face units (the eye distance in the image
    shrinks with the turn: a face turned 55 degrees had every motion 0.58 as tall as the same face
    seen from the front). The y axis is the unit vector across the eye line; the x axis is along
    it, as long as the eye line's foreshortening (image over 3-D eye distance, 1 for a frontal
    face), so that a displacement ``u * x + v * y`` (face units times the unit) draws a motion
    across the face as the turned face shows it. Landmarks without depth count as frontal.
    """
    eye_line, shortening, _ = _eye_line(face)
    flat = float(np.linalg.norm(eye_line))
    if flat < 1.0:
        raise CauseError(f"face too small to animate (eye distance {flat:.1f} px)")
    ex = eye_line / flat
    ey = np.array([-ex[1], ex[0]])  # rotate +90 degrees: image y grows downwards
    origin = face.points[list(MOUTH_CENTER)].mean(axis=0)
    return origin, ex * shortening, ey, flat / shortening


def face_uv(face: Face) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Landmarks in face units (478, 2), with the face frame's x axis, y axis and unit
    (:func:`face_frame`). Across the face, u is measured along the eye line in 3-D: the
    landmarks of a turned face sit where they sit on the frontal face (a turn about the vertical
    axis undone; in the image alone, depth shifted them sideways), and each landmark and its
    mirror image sit at the same distance from the midline (:func:`_symmetric`)."""
    origin, ex, ey, unit = face_frame(face)
    rel = face.points.astype(np.float64) - origin
    u = rel @ ex
    sine = _eye_line(face)[2]
    if sine != 0.0:
        depth = face.landmarks[:, 2].astype(np.float64)
        u = _symmetric(u + (depth - depth[list(MOUTH_CENTER)].mean()) * sine)
    return np.stack([u, rel @ ey], axis=1) / unit, ex, ey, unit


def _symmetric(u: np.ndarray) -> np.ndarray:
    """(478,) u of a turned face made symmetric about its midline: half of each landmark's u minus
    its mirror image's (:func:`~espnet_cause.face.canonical.mirror_landmarks`; 0 on the midline).

    The landmarker's depth of a turned face is shallower than the turn (on dev photos turned 30,
    50 and 65 degrees about the vertical, their image eye distance 0.87, 0.65 and 0.44 of the
    frontal one, the landmarks' depth gave a foreshortening of 0.92, 0.76 and 0.58), so undoing
    the turn with it left the parts of the face behind the mouth shifted towards the near side:
    at 0.76 the eyes' and the brows' centre line 0.2 eye distances off the mouth's, and the motion
    model's regions, which are measured from the centre line (the inner and outer brow, the sides
    of AU04's squeeze), fell on the wrong parts of the brows."""
    return 0.5 * (u - u[mirror_landmarks()])


def smoothstep(x: np.ndarray) -> np.ndarray:
    """0 -> 1 with zero slope at both ends (``x`` clipped to [0, 1]); same shape as ``x``."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def brow_heights(uv: np.ndarray) -> tuple[float, float]:
    """How far (face units) the inner and the outer ends of the brows' lower edges sit above the
    line of the eye corners, each the mean over both brows, for (478, 2) landmarks in face units
    (:func:`face_uv`)."""
    heights = brow_edge_heights(uv)
    return float(heights[:, -1].mean()), float(heights[:, 0].mean())


def brow_edge_heights(uv: np.ndarray) -> np.ndarray:
    """(2, 5) how far (face units) each point of the brows' lower edges
    (:data:`BROW_LOWER_EDGE`, outer end to inner end) sits above the line of the eye corners, for
    (478, 2) landmarks in face units (:func:`face_uv`)."""
    corners = float(np.mean([uv[list(c), 1].mean() for c in (RIGHT_EYE_CORNERS, LEFT_EYE_CORNERS)]))
    return np.array([[corners - uv[i, 1] for i in edge] for edge in BROW_LOWER_EDGE])


def lid_line(uv: np.ndarray, contour, u: np.ndarray) -> np.ndarray:
    """(n,) the height (v, face units) of a lid contour at the positions ``u`` across the eye
    (linear between its landmarks)."""
    c = np.array(contour)
    order = np.argsort(uv[c, 0])
    return np.interp(u, uv[c[order], 0], uv[c[order], 1])


def lid_opening(points: np.ndarray) -> float:
    """How open the eyes are: the gap between the middles of the upper and lower lids over the
    distance between the eye's corners, the mean of both eyes, for (478, 2) landmark points."""
    ratios = [
        float(np.linalg.norm(points[lower[4]] - points[upper[4]]))
        / max(float(np.linalg.norm(points[upper[0]] - points[upper[-1]])), 1e-6)
        for upper, lower in zip(EYE_UPPER, EYE_LOWER, strict=True)
    ]
    return float(np.mean(ratios))


def lip_gap(face: Face) -> np.ndarray:
    """(11,) vertical gap (face units) between each inner upper-lip point and the lower-lip point
    under it, corner to corner (0 at the corners; negative gaps are clipped to 0)."""
    uv = face_uv(face)[0]
    return np.maximum(uv[list(INNER_LOWER_LIP), 1] - uv[list(INNER_UPPER_LIP), 1], 0.0)
