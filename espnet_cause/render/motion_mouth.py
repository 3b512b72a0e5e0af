"""The mouth's and the lower face's motions: the nose wings, lips, lip corners, chin and jaw.

The AUs: AU09, AU10, AU12, AU14, AU15, AU17, AU20, AU23, AU25 and AU26.

:func:`mouth_motions` sets them on the per-AU drivers: the nose wings and the upper lip, the lip
corners, the chin boss, the parting lips and the dropping jaw, with the lower lip's profile under
the jaw drop (:func:`_lower_profile`) and the lower face following the lower lip
(:func:`follow_lower_lip`, shared with the closure); the stretched lips' opening (AU20 with AU26,
:func:`build_stretched_opening_basis`) has a field of its own. Displacements are in face units
(1 = the distance between the eye centres; y points to the chin) at the maximum intensity.
"""

from __future__ import annotations

import numpy as np

from espnet_cause.au import AU_INTENSITY_MAX, au_index
from espnet_cause.face.landmarker import Face
from espnet_cause.render.face_geometry import (
    BOTH_BROWS,
    CHIN,
    EYES,
    INNER_LOWER_LIP,
    INNER_UPPER_LIP,
    LIPS,
    NOSE,
    NOSE_BRIDGE,
    NOSE_WINGS,
    OUTER_LOWER_LIP,
    OUTER_UPPER_LIP,
    face_uv,
    smoothstep,
)
from espnet_cause.render.motion_drivers import Motions, follow, to_pixels

#: Chin boss, from under the lower lip down to the jaw's outline, and the share of AU17's raise
#: each row gets (the mentalis pushes the soft tissue of the chin up, not the jaw).
CHIN_BOSS = (
    ((18, 83, 313), 0.8),
    ((200, 201, 421), 0.6),
    ((199, 208, 428), 0.4),
    ((175, 171, 396), 0.2),
    ((152, 148, 377, 176, 400, 149, 378), 0.05),
)
NOSE_WRINKLE = 0.06
UPPER_LIP_RAISE = 0.18
#: AU12 pulls the lip corners up by CORNER_PULL and out by CORNER_PULL_OUT (0.10 each read as a
#: weak smile on the expression contact sheet).
CORNER_PULL = 0.18
CORNER_PULL_OUT = 0.12
#: AU14 (buccinator) tightens the lip corners and draws them back against the teeth: in the image
#: they move in (towards the mouth's centre line) and a little up (FACS: the corners may angle up,
#: the "smug" look). Moved out they read as AU20's stretch, out and up as AU12's smile.
DIMPLE_IN = 0.2
DIMPLE_UP = 0.14
#: AU15 (depressor anguli oris) pulls the lip corners down by CORNER_DEPRESS and out by
#: CORNER_DEPRESS_OUT (the muscle runs from the corner down and out to the jaw). Pulled mostly
#: down (0.3 down, 0.03 out) the mouth arched and the tracker's mesh, not following the corners
#: that far down, read it as a pucker (mouthPucker 0.9-1.0 at AU15 = 4, mouthFrown 0.00-0.18):
#: AU15 read back 0.0 at 4 on 4 of 6 dev photos; down 0.2 and out 0.25: 0.2-2.3 (out 0.22: the
#: corners stretched that far on a closed-over open mouth folded a few pixels).
CORNER_DEPRESS = 0.2
CORNER_DEPRESS_OUT = 0.22
#: AU15 stretches the lower lip down with the corners: its middle comes down this share.
CORNER_DEPRESS_LIP = 0.15
CHIN_RAISE = 0.45
#: ... and the lips' meeting line (both inner lips, and the outer upper lip) rises this share of
#: it in the middle (pushed up by the lower lip).
CHIN_PUSH_UPPER = 0.25
#: AU20 pulls the lip corners out (and down a fifth of it): at 0.18 the tracker read AU20 alone
#: at 2 as 0.25 and at 4 as 1.5 (mean of 5 dev photos; 0.9 and 3.0 now), and the fear mouth
#: (AU20 with the jaw open) hardly at all, so fear read as surprise.
LIP_STRETCH = 0.3
#: AU23 (lip tightener): the outer lip edges move towards the lips' meeting line by LIP_THIN in
#: the middle (less towards the corners), the corners in by LIP_TIGHTEN_IN (face units).
LIP_THIN = 0.22
LIP_TIGHTEN_IN = 0.1
LIPS_PART_UPPER = 0.05
LIPS_PART_LOWER = 0.4
#: AU25's lower lip comes down this share evenly, the rest most in the middle (a lip curving down
#: only in the middle reads as a smile).
LIPS_PART_FLAT = 0.4
#: ... and the chin follows it only a little (the jaw stays).
LIPS_PART_CHIN = 0.04
JAW_DROP = 0.4
#: ... the chin comes down at most this share of the room under it (to the still edge of the
#: moving region; the neck in between is compressed by at most about this much).
JAW_ROOM_SHARE = 0.5
#: Lip corners under AU26: down and in (face units at the maximum; at 0.3 an open jaw undid a
#: smile's raised corners, AU12 lifting them by only :data:`CORNER_PULL`).
JAW_CORNER_DOWN = 0.2
JAW_CORNER_IN = 0.02
#: The opened mouth's outline under AU26: the upper lip's sides follow the lowered corners by the
#: share of the way out to them to this power (flat in the middle, curving down at the sides; the
#: sides followed by the square of the share of the mouth's outer half width stood nearly upright
#: under the corners, a box with shoulders) ...
OPEN_SIDE_POWER = 3.0
#: ... and under AU26 the lower lip drops from the corners' drop to the middle's as 1 - x to this
#: power (a U; its cos profile with the corners dropped more than the points beside them drew a V
#: with shoulders at AU25 + AU26 4).
LOWER_LIP_POWER = 2.0


def build_stretched_opening_basis(face: Face) -> np.ndarray:
    """Displacement per unit AU20 and AU26 share (FACS 20+26, fear's mouth: the lips stretched
    with the jaw dropped): the lips, taut between the pulled corners, stretch like a band, each
    point moving out by its share of the way to its corner (:meth:`Motions.across`) times
    :data:`LIP_STRETCH`; this row adds that beyond AU20's own motion (the square of the share,
    which bunches the stretch at the corners of closed lips). The opening is elongated instead of
    staying a lens; the corners, the eyes, the brows and the nose stay.

    Returns:
        (478, 2) float32 pixels per unit of the AUs' share.
    """
    uv, ex, ey, unit = face_uv(face)
    m = Motions(uv)
    share = m.across(LIPS)
    m.set("AU20", LIPS, m.side(LIPS) * LIP_STRETCH * (share - share**2), 0.0)
    m.anchor("AU20", EYES + BOTH_BROWS + NOSE_BRIDGE + (1, 4) + (152,) + NOSE)
    return to_pixels(follow(uv, m.drivers[au_index("AU20")]), ex, ey, unit / AU_INTENSITY_MAX)


def mouth_motions(m: Motions, neck_room: float | None = None) -> None:
    """The mouth's and the lower face's AUs: AU09 nose wrinkler, AU10 upper lip raiser, the lip
    corner movers (AU12, AU14, AU15, AU20, AU23), AU17 chin raiser, AU25 lips part, AU26 jaw drop
    (at most :data:`JAW_ROOM_SHARE` of ``neck_room``, the face units under the chin that move;
    None: far enough); the eyes, the brows and the nose stay."""
    uv = m.uv
    upper_lips = OUTER_UPPER_LIP + INNER_UPPER_LIP
    lower_lips = OUTER_LOWER_LIP[1:-1] + INNER_LOWER_LIP[1:-1]

    # Nose wrinkler (AU09) and upper lip raiser (AU10).
    m.set("AU09", NOSE_WINGS, 0.0, -NOSE_WRINKLE)
    m.set("AU09", OUTER_UPPER_LIP, 0.0, -0.6 * NOSE_WRINKLE * m.centre_weight(OUTER_UPPER_LIP))
    m.anchor("AU09", EYES + BOTH_BROWS + NOSE_BRIDGE + lower_lips + CHIN)
    m.set("AU10", upper_lips, 0.0, -UPPER_LIP_RAISE * _upper_lip_raise(m, upper_lips))
    # the nose stays: following the lip up (its tip and wings within reach of the lip's motion),
    # it kept the lip's distance to it (AU10 at 4 read 0.33 on MEAD surprised closed, 0.47 still)
    m.anchor("AU10", EYES + NOSE + OUTER_LOWER_LIP + INNER_LOWER_LIP + CHIN)

    # Lip corner movers: AU12 up and out, AU14 in and up, AU15 down, AU20 out and down, AU23 in.
    c, s = m.corner_weight(LIPS), m.side(LIPS)
    m.set("AU12", LIPS, s * CORNER_PULL_OUT * c, -CORNER_PULL * c)
    m.set("AU14", LIPS, -s * DIMPLE_IN * c, -DIMPLE_UP * c)
    # the lower lip comes down with the corners, and the inner upper lip with it: the lips stay
    # together (the inner upper lip held still opened a gap the cavity paint showed as a grey line)
    lower_all = np.isin(LIPS, OUTER_LOWER_LIP + INNER_LOWER_LIP + INNER_UPPER_LIP)
    m.set(
        "AU15",
        LIPS,
        s * CORNER_DEPRESS_OUT * c,
        CORNER_DEPRESS * np.where(lower_all, CORNER_DEPRESS_LIP + (1 - CORNER_DEPRESS_LIP) * c, c),
    )
    m.set("AU20", LIPS, s * LIP_STRETCH * c, 0.2 * LIP_STRETCH * c)
    # AU23 narrows the lips' red: the outer edges close in on the lips' meeting line, which
    # stays; the corners come in only a little (drawn in far it reads as a pucker or AU14)
    outer_edge = np.isin(LIPS, OUTER_UPPER_LIP[1:-1] + OUTER_LOWER_LIP[1:-1])
    thin = np.where(np.isin(LIPS, OUTER_UPPER_LIP), 1.0, -1.0) * LIP_THIN * (1 - c) * outer_edge
    m.set("AU23", LIPS, -s * LIP_TIGHTEN_IN * c, thin)
    for au in ("AU12", "AU14", "AU15", "AU20", "AU23"):
        m.anchor(au, EYES + BOTH_BROWS + NOSE_BRIDGE + (1, 4) + (152,))
    # the lips move under a still nose (AU23 and AU15 dragged the nose wings down, a strong smile
    # undone by AU12 below the photo's dragged them down and out)
    for au in ("AU12", "AU14", "AU15", "AU20", "AU23"):
        m.anchor(au, NOSE)

    # Chin raiser (AU17, mentalis): the chin boss and the lower lip are pushed up, most just under
    # the lip; the jaw's outline (bone) stays nearly where it is.
    for indices, share in CHIN_BOSS:
        m.set("AU17", indices, 0.0, -share * CHIN_RAISE)
    m.set("AU17", OUTER_LOWER_LIP, 0.0, -0.8 * CHIN_RAISE * m.centre_weight(OUTER_LOWER_LIP))
    # the lower lip bulges up and presses against the upper one, pushing the middle of the mouth
    # up a little (the mouth's inverted U): the lips' meeting line rises as one, never crossing
    lip_line = -CHIN_PUSH_UPPER * CHIN_RAISE
    m.set("AU17", INNER_LOWER_LIP, 0.0, lip_line * m.centre_weight(INNER_LOWER_LIP))
    m.set("AU17", upper_lips, 0.0, lip_line * m.centre_weight(upper_lips))
    m.anchor("AU17", EYES + NOSE)

    # Lips part (AU25): lips separate, jaw still.
    m.set("AU25", INNER_UPPER_LIP, 0.0, -LIPS_PART_UPPER * m.centre_weight(INNER_UPPER_LIP))
    m.set("AU25", OUTER_UPPER_LIP, 0.0, -0.6 * LIPS_PART_UPPER * m.centre_weight(OUTER_UPPER_LIP))
    flat = LIPS_PART_FLAT
    part_in = LIPS_PART_LOWER * (flat + (1 - flat) * m.centre_weight(INNER_LOWER_LIP))
    part_out = 0.8 * LIPS_PART_LOWER * (flat + (1 - flat) * m.centre_weight(OUTER_LOWER_LIP))
    m.set("AU25", INNER_LOWER_LIP, 0.0, part_in)
    m.set("AU25", OUTER_LOWER_LIP, 0.0, part_out)
    m.set("AU25", CHIN, 0.0, LIPS_PART_CHIN)
    m.anchor("AU25", EYES + BOTH_BROWS + NOSE)

    # Jaw drop (AU26): everything below the mouth line comes down, most at the chin (at most
    # JAW_ROOM_SHARE of the room under the chin: the neck above a close frame edge folded).
    below = np.where(uv[:, 1] > 0.0)[0]
    below = np.setdiff1d(below, np.array(upper_lips))
    lateral = np.clip(1.0 - (np.abs(uv[below, 0]) / 1.0) ** 2, 0.15, 1.0)
    jaw = JAW_DROP if neck_room is None else min(JAW_DROP, JAW_ROOM_SHARE * max(neck_room, 0.0))
    drop = jaw * smoothstep(uv[below, 1] / 0.35) * lateral
    # the lower lip comes down as a whole (a lip curving down only in the middle reads as a
    # smile); the corners come down a little and in, as the jaw's rotation pulls them
    corner_drop = JAW_CORNER_DOWN
    inner_drop = _lower_profile(uv, INNER_LOWER_LIP, 0.8 * JAW_DROP, corner_drop)
    outer_drop = _lower_profile(uv, OUTER_LOWER_LIP, 0.85 * JAW_DROP, corner_drop)
    m.set("AU26", below, 0.0, follow_lower_lip(uv, below, OUTER_LOWER_LIP, outer_drop, drop))
    m.set("AU26", INNER_LOWER_LIP, 0.0, inner_drop)
    m.set("AU26", OUTER_LOWER_LIP, 0.0, outer_drop)
    corners = (61, 291, 78, 308)
    m.set("AU26", corners, -m.side(corners) * JAW_CORNER_IN, JAW_CORNER_DOWN)
    # the upper lip's sides curve down to the lowered corners (held still, they left a kink: the
    # opening's sides stood upright and the interior paint showed light bars at the corners)
    for lip in (INNER_UPPER_LIP, OUTER_UPPER_LIP):
        sides = list(lip[1:-1])
        cw = _side_weight(uv, lip)[1:-1]
        m.set("AU26", sides, -m.side(sides) * JAW_CORNER_IN * cw, JAW_CORNER_DOWN * cw)
    m.anchor("AU26", EYES + BOTH_BROWS + NOSE + upper_lips)


def _upper_lip_raise(m: Motions, indices) -> np.ndarray:
    """AU10's lift along the upper lip (share of :data:`UPPER_LIP_RAISE`): most in the middle."""
    return 0.3 + 0.7 * m.centre_weight(indices)


def upper_lip_raise(face: Face) -> np.ndarray:
    """(11,) how far (face units) AU10 raises each inner upper-lip point per intensity unit."""
    return (
        UPPER_LIP_RAISE
        / AU_INTENSITY_MAX
        * _upper_lip_raise(Motions(face_uv(face)[0]), INNER_UPPER_LIP)
    )


def _side_weight(uv: np.ndarray, lip: tuple[int, ...]) -> np.ndarray:
    """(len(lip),) how far each point of a lip contour (corner to corner) follows its corner: the
    share of the way out to that corner, to the power :data:`OPEN_SIDE_POWER` (0 in the middle,
    1 at the corners)."""
    u = uv[list(lip), 0]
    reach = np.where(u < 0.0, -u[0], u[-1])
    return np.clip(np.abs(u) / np.maximum(reach, 1e-6), 0.0, 1.0) ** OPEN_SIDE_POWER


def _lower_profile(
    uv: np.ndarray, lip: tuple[int, ...], middle: float, corner: float
) -> np.ndarray:
    """(len(lip),) downward motion of a lower-lip contour (corner to corner) under the jaw drop:
    ``corner`` at the corners to ``middle`` in the middle, as 1 - x ** :data:`LOWER_LIP_POWER` of
    the share x of the way out to the corner (a U)."""
    u = uv[list(lip), 0]
    reach = np.where(u < 0.0, -u[0], u[-1])
    x = np.clip(np.abs(u) / np.maximum(reach, 1e-6), 0.0, 1.0)
    return corner + (middle - corner) * (1.0 - x**LOWER_LIP_POWER)


def follow_lower_lip(
    uv: np.ndarray, below: np.ndarray, lip: tuple[int, ...], lip_motion: np.ndarray, jaw: np.ndarray
) -> np.ndarray:
    """(len(below),) vertical motion of the lower face's landmarks ``below``: the lower lip's red
    and the skin under it go with the lip (``lip_motion`` of the points ``lip``, interpolated
    across the mouth), fading evenly to the jaw's own motion ``jaw`` at the chin (a landmark
    inside the lip left at the jaw's smaller motion tore the lip; even, the skin stretches or
    shrinks the same everywhere). Where the jaw moves more than the lip, the jaw's."""
    order = np.argsort(uv[list(lip), 0])
    u_lip = uv[list(lip), 0][order]
    with_lip = np.interp(uv[below, 0], u_lip, np.asarray(lip_motion)[order])
    outer = np.argsort(uv[list(OUTER_LOWER_LIP), 0])
    lip_v = np.interp(
        uv[below, 0], uv[list(OUTER_LOWER_LIP), 0][outer], uv[list(OUTER_LOWER_LIP), 1][outer]
    )
    span = max(float(uv[CHIN[0], 1] - uv[OUTER_LOWER_LIP[5], 1]), 0.05)
    fade = np.clip((uv[below, 1] - lip_v) / span, 0.0, 1.0)
    return np.where(with_lip > jaw, jaw + (with_lip - jaw) * (1.0 - fade), jaw)
