"""Closing the photo's own open mouth: the closure field (:func:`build_closure_basis`).

The absolute-target mouth (AU25, AU26 below what the photo shows) closes the photo's lip gap with
a field of its own: the lips meet on the line through the corners, pressed past touching
(:data:`CLOSE_PRESS`), taper to the corners (:data:`LIP_END_TAPER`), and a mouth narrower than
:data:`NEUTRAL_MOUTH_WIDTH` widens to it. Distances are in face units (1 = the distance between
the eye centres; y points to the chin).
"""

from __future__ import annotations

import numpy as np

from espnet_cause.face.landmarker import Face
from espnet_cause.render.face_geometry import (
    CHIN,
    EYE_LOWER,
    EYE_UPPER,
    INNER_LOWER_LIP,
    INNER_UPPER_LIP,
    LIPS,
    NOSE,
    OUTER_LOWER_LIP,
    OUTER_UPPER_LIP,
    face_frame,
    face_uv,
    lip_gap,
    smoothstep,
)
from espnet_cause.render.motion_drivers import Motions, follow, to_pixels
from espnet_cause.render.motion_mouth import follow_lower_lip, upper_lip_raise

#: Closing the photo's own open mouth, the lips meet on the line through the mouth's corners (an
#: open mouth's corners sit at its middle height; lips meeting above them, the lower lip rising 3/4
#: of the gap, curved the closed mouth into a frown): the upper lip comes down that share of the
#: lip gap, bounded to CLOSE_UPPER_SHARE, the lower lip (and the jaw) rises the rest.
CLOSE_UPPER_SHARE = (0.2, 0.4)
#: ... and the corners rise this share of the widest gap (the dropped jaw pulled them down).
CLOSE_CORNER_RISE = 0.2
#: ... and how far past touching the lips are pressed (1 = just touching; the interior squeezed
#: between them then hides under the lips).
CLOSE_PRESS = 1.2
#: ... and a mouth narrower than :data:`NEUTRAL_MOUTH_WIDTH` is widened to it, by at most
#: CLOSE_WIDEN_SHARE of the closure's widest gap (an opening narrows a mouth by less than itself):
#: a wide-open mouth is narrower than at rest (the corners drawn in, an "O": MEAD surprised 0.70
#: eye distances open, 0.79 closed; eNTERFACE angry 0.59 and 0.69), and closed at its open width
#: the lips read as a pucker (mouthPucker 0.56-0.98 with every AU at 0), which AU15 and AU23
#: deepened instead of reading as a frown or pressed lips (AU15 at 4 read 0.1-1.1 on four such
#: photos). A quarter of the gap left eNTERFACE angry's mouth (0.21 short, its gap 0.24) a pucker.
CLOSE_WIDEN_SHARE = 1.0
#: A resting mouth's width (eye distances, corner to corner; the median of the 11 closed-mouth dev
#: photos whose AU12 reads below 0.1: 0.69-0.95, median 0.81; the same speakers' unsmiling photos:
#: 0.78-0.90): undoing a photo's smile draws the corners in to it
#: (:func:`~espnet_cause.render.neutralise.unsmile`), closing a wide-open mouth widens it to it
#: (:func:`build_closure_basis`).
NEUTRAL_MOUTH_WIDTH = 0.8
#: A photo whose lips are apart by at least this (face units, eye distance = 1) has an open mouth:
#: its own interior (teeth, tongue) is stretched by the warp and no cavity is painted over it
#: (:mod:`espnet_cause.render.mouth_paint`); closed, its lips taper to the corners
#: (:data:`LIP_END_TAPER`).
OPEN_MOUTH_GAP = 0.02
#: ... and by at least this many pixels: a narrower gap shows no interior, only the dark line
#: where closed lips meet (a pixel is the least an opening can show). Not tuned: sealed lips read
#: on a small face (eye distance 24-30 px, a face in a group photo) are apart by up to 0.027 eye
#: distances (0.6-0.8 px: the landmarks' error there), and the mouth took the open path: the
#: tracker's AU26 on the sealed lips (1.5 on eNTERFACE angry closed) counted as shown open, so
#: AU26 up to it did not open the mouth. The dev photos' open mouths are 6 px apart or more.
OPEN_MOUTH_MIN_PX = 1.0
#: Closing an open mouth, each lip is at most this share of an ellipse through its middle
#: thickness (from the meeting line) with the mouth's corners as its ends: the red of a closed
#: mouth tapers to its corners (on the 13 closed-mouth dev photos each lip's outer edge lies
#: inside that ellipse: 0.2-0.5 of the middle thickness at 0.9 of the half width, 0.5-0.7 at 0.8).
LIP_END_TAPER = 1.0


def mouth_open(face: Face) -> bool:
    """Whether the photo's lips are apart (an open mouth): by at least :data:`OPEN_MOUTH_GAP`
    eye distances and :data:`OPEN_MOUTH_MIN_PX` pixels, the widest column of the inner lips."""
    gap = float(lip_gap(face).max())
    return gap >= OPEN_MOUTH_GAP and gap * face_frame(face)[3] >= OPEN_MOUTH_MIN_PX


def _lip_end_excess(
    uv: np.ndarray, outer: tuple[int, ...], motion: np.ndarray, inner: np.ndarray, meet: np.ndarray
) -> np.ndarray:
    """(9,) how far (face units) each outer lip point between the corners comes towards the
    closed lips' meeting line besides the inner lip's motion under it: a closed lip is no thicker
    than :data:`LIP_END_TAPER` of the ellipse through its middle thickness with the corners as its
    ends, as on a resting mouth. A wide-open mouth's ring of lips is as tall at its
    ends as its opening; the outer lips moving only with the inner ones kept those tall ends, and
    the closed mouth took a dumbbell's shape with a dark bar at each end.

    Args:
        uv: (478, 2) landmarks in face units.
        outer: The outer lip contour (:data:`OUTER_UPPER_LIP` or :data:`OUTER_LOWER_LIP`).
        motion: (9,) the closure's vertical motion of its points between the corners.
        inner: (11, 2) the inner upper lip's points (their u locates the meeting line).
        meet: (11,) the height v where the inner lips meet when closed, per inner point.
    """
    points = uv[list(outer[1:-1])]
    order = np.argsort(inner[:, 0])
    line = np.interp(points[:, 0], inner[order, 0], meet[order])
    thickness = np.abs(points[:, 1] + motion - line)
    middle = float(thickness[3:6].max())
    along = np.clip(np.abs(points[:, 0]) / Motions(uv).half_width, 0.0, 1.0)
    return np.maximum(thickness - LIP_END_TAPER * middle * np.sqrt(1.0 - along**2), 0.0)


def build_closure_basis(
    face: Face, photo_au10: float = 0.0, neck_room: float | None = None
) -> np.ndarray:
    """Displacement that closes the photo's own lip gap (the absolute-target mouth, AU25/AU26 below
    what the photo shows): the lips meet on the line through the mouth's corners (the upper lip
    comes down a :data:`CLOSE_UPPER_SHARE` of the gap, the inner lower lip rises the rest); the
    outer lips, the chin and the lower face follow the lower lip as the jaw closes; a mouth
    narrower than :data:`NEUTRAL_MOUTH_WIDTH` widens towards it (by at most
    :data:`CLOSE_WIDEN_SHARE` of the gap); an open mouth's lips (:func:`mouth_open`)
    taper to the corners as they close (:data:`LIP_END_TAPER`). Zero for a photo whose lips
    already touch.

    The part of the gap the photo's own upper-lip raise explains (``photo_au10`` times
    :func:`upper_lip_raise`) is left out: AU10 lowered back to 0 closes it (the upper lip comes down
    first), AU10 kept at the photo's intensity keeps it (the raised lip shows the upper teeth).

    Args:
        face: The detected face.
        photo_au10: The photo's own AU10 intensity (0: the whole gap is the mouth's opening).
        neck_room: How far below the chin the region that moves ends (face units; None: the
            chin rises as far as the lower lip). The skin from the lower lip down to there
            stretches evenly: the chin rises the lower lip's rise times
            ``neck_room / (neck_room + lip-to-chin distance)`` (on a tight crop the chin rising
            with the lip streaked the neck and folded the map into a second chin).

    Returns:
        (478, 2) float32 pixels for the full closure (scale by the fraction to close).
    """
    uv, ex, ey, unit = face_uv(face)
    gap = np.maximum(CLOSE_PRESS * lip_gap(face) - max(photo_au10, 0.0) * upper_lip_raise(face), 0)
    gap[[0, -1]] = 0.0
    drivers: dict[int, np.ndarray] = {}

    def put(indices, dv) -> None:
        for i, v in zip(indices, np.broadcast_to(dv, (len(indices),)).tolist(), strict=True):
            drivers[i] = np.array([0.0, v])

    # the upper lip's share of each column's gap: down to the corners' line
    upper, lower = uv[list(INNER_UPPER_LIP)], uv[list(INNER_LOWER_LIP)]
    left, right = uv[INNER_UPPER_LIP[0]], uv[INNER_UPPER_LIP[-1]]
    slope = (right[1] - left[1]) / (right[0] - left[0] if abs(right[0] - left[0]) > 1e-6 else 1.0)
    line = left[1] + slope * (upper[:, 0] - left[0])
    opening = np.maximum(lower[:, 1] - upper[:, 1], 1e-6)
    corner_rise = CLOSE_CORNER_RISE * float(gap.max())
    share = np.clip((line - corner_rise - upper[:, 1]) / opening, *CLOSE_UPPER_SHARE)
    down, up = share * gap, (1 - share) * gap  # upper lip down, lower lip up
    down[[0, -1]] = up[[0, -1]] = corner_rise  # the corners rise (the outer lips near them too)
    down[[0, -1]] *= -1
    put(INNER_LOWER_LIP, -up)
    put(INNER_UPPER_LIP[1:-1], down[1:-1])
    # outer lips: the motion of the inner lip over/under them, interpolated along the mouth width
    order = np.argsort(upper[:, 0])
    u_inner = upper[order, 0]
    outer_lo = OUTER_LOWER_LIP[1:-1]
    outer_up = OUTER_UPPER_LIP[1:-1]
    lo_motion = -np.interp(uv[list(outer_lo), 0], u_inner, up[order])
    up_motion = np.interp(uv[list(outer_up), 0], u_inner, down[order])
    # ... and no thicker than a resting lip towards the corners
    if mouth_open(face):
        meet = 0.5 * (upper[:, 1] + down + lower[:, 1] - up)  # where the inner lips meet, closed
        up_motion = up_motion + _lip_end_excess(uv, OUTER_UPPER_LIP, up_motion, upper, meet)
        lo_motion = lo_motion - _lip_end_excess(uv, OUTER_LOWER_LIP, lo_motion, upper, meet)
    put(outer_up, up_motion)
    put(outer_lo, lo_motion)
    jaw = float(up.max())
    if neck_room is not None:  # the skin from the lower lip down to the still edge stretches evenly
        lip_to_chin = max(float(uv[CHIN[0], 1] - uv[OUTER_LOWER_LIP[5], 1]), 0.05)
        room = max(neck_room, 0.0)
        jaw *= room / (room + lip_to_chin)
    # the rest of the lower face comes up with the jaw (as AU26's profile, reversed); the lower
    # lip's red and the skin under it with the lip, fading to the jaw's rise at the chin (a
    # landmark inside the lip left at the jaw's lower rise tore the lip)
    below = np.where(uv[:, 1] > 0.05)[0]
    lateral = np.clip(1.0 - np.abs(uv[below, 0]) ** 2, 0.15, 1.0)
    rise = jaw * smoothstep(uv[below, 1] / 0.35) * lateral
    rise = -follow_lower_lip(uv, below, INNER_LOWER_LIP, up, rise)
    for i, v in zip(below.tolist(), rise.tolist(), strict=True):
        drivers.setdefault(i, np.array([0.0, v]))
    put((61, 291), -corner_rise)
    # the corners out to a resting width, the lips with them (most near the corners)
    lip_points = tuple(dict.fromkeys(LIPS))
    width = abs(float(uv[291, 0] - uv[61, 0]))
    widen = min(max(NEUTRAL_MOUTH_WIDTH - width, 0.0), CLOSE_WIDEN_SHARE * float(gap.max()))
    if widen > 0.0:
        m = Motions(uv)
        du = 0.5 * widen * m.side(lip_points) * m.corner_weight(lip_points)
        for i, a in zip(lip_points, du.tolist(), strict=True):
            drivers.setdefault(i, np.zeros(2))
            drivers[i] = drivers[i] + np.array([a, 0.0])
    for i in sum(EYE_UPPER + EYE_LOWER, ()) + NOSE:
        drivers.setdefault(i, np.zeros(2))
    return to_pixels(follow(uv, drivers), ex, ey, unit)
