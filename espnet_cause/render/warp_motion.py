"""The warp renderer's motion model: which face-mesh landmarks each AU moves, and how far.

Each AU moves a set of MediaPipe face-mesh landmarks ("drivers") in a face frame (origin at the
mouth centre, x along the eye line, y towards the chin, unit = the distance between the eye
centres); the other landmarks follow their nearby drivers with a Gaussian fall-off.
:func:`build_landmark_basis` turns this into one (17, 478, 2) displacement basis per face, linear
in the AU intensities; :mod:`espnet_cause.render.warp` makes dense fields of it and warps.
"""

from __future__ import annotations

import numpy as np

from espnet_cause.au import AU_INTENSITY_MAX, NUM_AUS, au_index
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
#: Chin boss, from under the lower lip down to the jaw's outline, and the share of AU17's raise
#: each row gets (the mentalis pushes the soft tissue of the chin up, not the jaw).
CHIN_BOSS = (
    ((18, 83, 313), 0.8),
    ((200, 201, 421), 0.6),
    ((199, 208, 428), 0.4),
    ((175, 171, 396), 0.2),
    ((152, 148, 377, 176, 400, 149, 378), 0.05),
)

# --- Motion model (face units: 1 = distance between the eye centres; y points to the chin) ---
#: Gaussian radius with which non-driver landmarks follow the drivers.
FOLLOW_SIGMA = 0.12
#: Displacement (face units) at the maximum intensity, per motion.
BROW_RAISE = 0.25
BROW_LOWER = 0.35
#: AU01 raises the medial part of the brow (FACS: frontalis, pars medialis): full at the brow's
#: inner end, fading linearly to 0 at INNER_BROW_SPAN of the way to its outer end (measured along
#: each brow; a fade over a fixed 0.25 face units from the centre line raised only the brow's
#: innermost landmarks, a kink the tracker hardly read: AU01's closed-loop r was 0.19-0.96).
INNER_BROW_RAISE = 0.3
INNER_BROW_SPAN = 0.6
#: AU02 raises the outer brow only (FACS; the inner end is AU01's, and an inner end rising with it
#: reads as AU01): OUTER_BROW_FLOOR of BROW_RAISE up to OUTER_BROW_START from the centre line,
#: rising to all of it over OUTER_BROW_WIDTH (face units).
OUTER_BROW_START = 0.15
OUTER_BROW_WIDTH = 0.35
OUTER_BROW_FLOOR = 0.0
#: AU04 draws the brows together this far (with :data:`BROW_LOWER`: at 0.07 an angry face read weak;
#: lowered further, AU01 + AU04 read as anger, not sadness).
BROW_SQUEEZE = 0.12
#: With AU01 (1+4, the sad brow) AU04 lowers only the outer part: its lowering is undone up to
#: this far from the centre line (face units), fading out over as much again.
SAD_BROW_MEDIAL = 0.3
#: The forehead moves with the brows, all of their motion just above them, this share of it at the
#: top of the forehead (the hairline moves little).
FOREHEAD_TOP_SHARE = 0.3
#: A raised brow (AU01, AU02 above the photo's) carries the skin under it (FACS: the brow hair
#: rises as a block, the skin of the lid fold under it unfolds): the landmarks in the upper
#: UNDER_BROW_SHARE of the gap between the brow's lower edge and the upper lid move with the edge,
#: in full down to UNDER_BROW_RIGID eye distances under it (at most half of that part), then by a
#: share falling linearly to 0 at UNDER_BROW_SHARE of the gap (:func:`_carry_share`); the ones
#: nearer the lid keep the motion of the brow's Gaussian fall-off. With the fall-off alone the ring
#: of landmarks under the brow moved 0.3-0.5 of a raised brow and the hair between it and the edge
#: was stretched into a tall smear reaching down to the lid. UNDER_BROW_RIGID: the brow's dark band
#: ends a median 0.04 under the edge's landmarks (the column through its centre, the 24 brows of
#: the 12 closed-mouth dev photos) and the ring under it lies 0.06-0.09 under them; the warp is
#: linear between landmarks, so the hair rises as a block only when that ring rises with it (0.04:
#: the ring rose 0.6-0.8 of the brow, painted brows 1.27-1.36 times their height at AU01 + AU02 4,
#: 1.09-1.18 at 0.07). UNDER_BROW_SHARE: carried down to the lid (its share 0 there), the fold over
#: the lid opened with the brows and the tracker read the eyes as wider and less narrowed (AU05 r
#: -0.04, AU07 -0.01 on 17 dev photos); to 0.8 of the gap the pupil was sampled above MEAD M030's
#: lid (dark dots).
UNDER_BROW_RIGID = 0.07
UNDER_BROW_SHARE = 0.6
LID_RAISE = 0.07
LID_TIGHTEN = 0.15
#: AU07 lowers the upper lid this share of its lower lid's raise.
LID_TIGHTEN_UPPER = 0.3
#: AU45 closes the eye fully (the photo's whole lid gap) at BLINK_FULL; above it the lids stay
#: closed (the renderer clips AU45 there).
BLINK_FULL = 4.0
BLINK_CLOSE = AU_INTENSITY_MAX / BLINK_FULL
#: ... the lower lid rising this share of the lid gap, the upper lid coming down the rest (FACS
#: AU45: the upper lid drops, the lower one hardly moves). At 0.15 the closing eye's lower lid
#: rose as in a squint, and the tracker read the blink's frames as AU07 (eyeSquint) more than it
#: does with the upper lid alone closing (AU07's closed-loop r 0.54-0.64 -> 0.56-0.72, 6 photos).
BLINK_LOWER_SHARE = 0.0
#: AU06 (the cheek raiser) pushes the lower lid up this share of AU07's raise (:data:`LID_TIGHTEN`):
#: the cheek narrows the eye from below (FACS), less than the lid tightener. At 0.5 the tracker,
#: which never reads AU06 (``cheekSquint`` 0 on every frame), read AU06's raise as AU07 (0.5-1.3
#: units at 4).
CHEEK_LID_SHARE = 0.25
CHEEK_RAISE = 0.09
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
#: 0.78-0.90): undoing a photo's smile draws the corners in to it (``warp._unsmile``), closing a
#: wide-open mouth widens it to it (:func:`build_closure_basis`).
NEUTRAL_MOUTH_WIDTH = 0.8
#: A photo whose lips are apart by at least this (face units, eye distance = 1) has an open mouth:
#: its own interior (teeth, tongue) is stretched by the warp and no cavity is painted over it
#: (:mod:`espnet_cause.render.mouth_paint`); closed, its lips taper to the corners
#: (:data:`LIP_END_TAPER`).
OPEN_MOUTH_GAP = 0.02
#: Closing an open mouth, each lip is at most this share of an ellipse through its middle
#: thickness (from the meeting line) with the mouth's corners as its ends: the red of a closed
#: mouth tapers to its corners (on the 13 closed-mouth dev photos each lip's outer edge lies
#: inside that ellipse: 0.2-0.5 of the middle thickness at 0.9 of the half width, 0.5-0.7 at 0.8).
LIP_END_TAPER = 1.0


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


def smoothstep(x: np.ndarray) -> np.ndarray:
    """0 -> 1 with zero slope at both ends (``x`` clipped to [0, 1]); same shape as ``x``."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


class _Motions:
    """Per-AU driver displacements in face units, built from one face's landmark layout."""

    def __init__(self, uv: np.ndarray) -> None:
        self.uv = uv
        self.drivers: dict[int, dict[int, np.ndarray]] = {k: {} for k in range(NUM_AUS)}
        mouth = np.array(OUTER_UPPER_LIP + OUTER_LOWER_LIP)
        self.half_width = max(float(np.abs(uv[mouth, 0]).max()), 0.05)

    def set(self, au: str, indices, du, dv) -> None:
        k = au_index(au)
        indices = np.atleast_1d(np.asarray(indices))
        du = np.broadcast_to(np.asarray(du, dtype=np.float64), indices.shape)
        dv = np.broadcast_to(np.asarray(dv, dtype=np.float64), indices.shape)
        for i, a, b in zip(indices.tolist(), du.tolist(), dv.tolist(), strict=True):
            self.drivers[k][i] = np.array([a, b])

    def anchor(self, au: str, indices) -> None:
        """Landmarks that must stay where they are for this AU (unless already driven)."""
        k = au_index(au)
        for i in np.atleast_1d(np.asarray(indices)).tolist():
            self.drivers[k].setdefault(i, np.zeros(2))

    def corner_weight(self, indices) -> np.ndarray:
        """0 at the mouth centre line, 1 at the lip corners."""
        return np.clip(np.abs(self.uv[list(indices), 0]) / self.half_width, 0.0, 1.0) ** 2

    def centre_weight(self, indices) -> np.ndarray:
        """1 at the mouth centre line, 0 at the lip corners."""
        u = np.clip(np.abs(self.uv[list(indices), 0]) / self.half_width, 0.0, 1.0)
        return np.cos(0.5 * np.pi * u)

    def side(self, indices) -> np.ndarray:
        return np.sign(self.uv[list(indices), 0])


def _forehead_follows_brows(m: _Motions, au: str) -> None:
    """The forehead above the brows moves with them (the frontalis and corrugator move its skin):
    each forehead landmark gets the motion of the brows' upper edge at its distance from the centre
    line, fading linearly from all of it at the brow to :data:`FOREHEAD_TOP_SHARE` at the top of
    the forehead. (Followers of the brows' Gaussian fall-off stayed still a little above a raised
    brow, which ran over them: the warp folded the forehead and sampled the eye twice.)"""
    drivers = m.drivers[au_index(au)]
    edge = [i for i in BROW_UPPER[0] + BROW_UPPER[1] if i in drivers]
    if not edge:
        return
    uv = m.uv
    order = np.argsort(uv[edge, 0])
    u_edge = uv[edge, 0][order]
    v_edge = uv[edge, 1][order]
    motion = np.stack([drivers[i] for i in edge])[order]
    brow_v = np.interp(uv[:, 0], u_edge, v_edge)
    top = float(uv[:, 1].min())
    above = np.where((uv[:, 1] < brow_v - 1e-6) & (np.abs(uv[:, 0]) <= np.abs(u_edge).max()))[0]
    height = (brow_v[above] - uv[above, 1]) / np.maximum(brow_v[above] - top, 1e-6)
    share = 1.0 - (1.0 - FOREHEAD_TOP_SHARE) * np.clip(height, 0.0, 1.0)
    du = np.interp(uv[above, 0], u_edge, motion[:, 0]) * share
    dv = np.interp(uv[above, 0], u_edge, motion[:, 1]) * share
    for i, a, b in zip(above.tolist(), du.tolist(), dv.tolist(), strict=True):
        if i not in drivers:
            drivers[i] = np.array([a, b])


def _inner_brow_share(uv: np.ndarray, brow) -> np.ndarray:
    """AU01's share for each landmark of one brow: 1 at its inner end, falling linearly to 0 at
    :data:`INNER_BROW_SPAN` of the way to its outer end (by the distance from the centre line)."""
    u = np.abs(uv[list(brow), 0])
    t = (u - u.min()) / max(float(u.max() - u.min()), 1e-6)
    return np.clip(1.0 - t / INNER_BROW_SPAN, 0.0, 1.0)


def _lid_shape(uv: np.ndarray, contour, u: np.ndarray | None = None) -> np.ndarray:
    """0 at the eye corners, 1 mid-lid (a half sine over the lid width), at the lid's own
    landmarks (``u`` None) or at the positions ``u`` across the eye (face units); (n,)."""
    u = uv[list(contour), 0] if u is None else u
    u0, u1 = uv[contour[0], 0], uv[contour[-1], 0]
    t = (u - u0) / (u1 - u0 + 1e-9)
    return np.sin(np.pi * np.clip(t, 0.0, 1.0))


def _lid_line(uv: np.ndarray, contour, u: np.ndarray) -> np.ndarray:
    """(n,) the height (v, face units) of a lid contour at the positions ``u`` across the eye
    (linear between its landmarks)."""
    c = np.array(contour)
    order = np.argsort(uv[c, 0])
    return np.interp(u, uv[c[order], 0], uv[c[order], 1])


def _lid_gap(uv: np.ndarray, upper, lower) -> np.ndarray:
    """Vertical distance from each upper-lid point down to the lower lid (face units)."""
    lower_v = _lid_line(uv, lower, uv[list(upper), 0])
    return np.maximum(lower_v - uv[list(upper), 1], 0.0)


def _iris_motion(
    uv: np.ndarray, upper, lower, iris, upper_motion: float, lower_motion: float, still: bool
) -> np.ndarray:
    """(n,) how far (v, face units) each iris landmark moves while the lids' middles move by
    ``upper_motion`` and ``lower_motion`` (each lid by its half-sine shape at the landmark).

    An iris landmark that a lid covers in the photo (above the upper lid's line or below the
    lower one's: MediaPipe places the iris circle whole, under the lids too) is skin of that lid
    in the image and moves with it. The visible ones stay where they are when ``still`` (AU05:
    the lid slides up over a still eyeball) and otherwise squeeze between the moving lids by
    their height between them (as a blink squeezes them). Held still under a moving lid, the
    covered ones were crossed by it: the field folded there (AU05 at 4 put the upper lid's
    middle 0.03-0.06 eye distances above the still landmark it had covered, a notch in the lash
    line on MEAD M030; AU07 at 4 the lower lid 0.05-0.08 above the still bottom of the iris).
    """
    u, v = uv[list(iris), 0], uv[list(iris), 1]
    top, bottom = _lid_line(uv, upper, u), _lid_line(uv, lower, u)
    t = np.clip((v - top) / np.maximum(bottom - top, 1e-6), 0.0, 1.0)
    up = upper_motion * _lid_shape(uv, upper, u)
    lo = lower_motion * _lid_shape(uv, lower, u)
    visible = np.zeros_like(t) if still else (1.0 - t) * up + t * lo
    return np.where(v < top, up, np.where(v > bottom, lo, visible))


def build_landmark_basis(face: Face, neck_room: float | None = None) -> np.ndarray:
    """Displacement of every landmark per unit AU intensity, in pixels.

    Args:
        face: The detected face (478 landmarks).
        neck_room: How far below the chin the region that moves ends (face units; None: far
            enough): the jaw drop (AU26) brings the chin down at most :data:`JAW_ROOM_SHARE` of it.

    Returns:
        (17, 478, 2) float32: landmark displacement (x, y pixels) for intensity 1 of each AU.
    """
    uv, ex, ey, unit = face_uv(face)
    m = _Motions(uv)
    brows = BROWS[0] + BROWS[1]
    eyes = sum(EYE_UPPER + EYE_LOWER + IRISES, ())
    lips = OUTER_UPPER_LIP + OUTER_LOWER_LIP + INNER_UPPER_LIP + INNER_LOWER_LIP
    upper_lips = OUTER_UPPER_LIP + INNER_UPPER_LIP
    lower_lips = OUTER_LOWER_LIP[1:-1] + INNER_LOWER_LIP[1:-1]

    _brow_motions(m)

    # Lids: AU05 raises the upper lid, AU07 tightens (lower lid up), AU45 closes the eye.
    for upper, lower, iris in zip(EYE_UPPER, EYE_LOWER, IRISES, strict=True):
        up_shape, lo_shape = _lid_shape(uv, upper), _lid_shape(uv, lower)
        gap = _lid_gap(uv, upper, lower)
        m.set("AU05", upper, 0.0, -LID_RAISE * up_shape)
        m.set("AU07", lower, 0.0, -LID_TIGHTEN * lo_shape)
        m.set("AU07", upper, 0.0, LID_TIGHTEN_UPPER * LID_TIGHTEN * up_shape)
        close = BLINK_CLOSE * gap
        m.set("AU45", upper, 0.0, (1 - BLINK_LOWER_SHARE) * close)
        m.set("AU45", lower, 0.0, -BLINK_LOWER_SHARE * close)
        m.set("AU06", lower, 0.0, -CHEEK_LID_SHARE * LID_TIGHTEN * lo_shape)
        # irises squeeze between the moving lids
        top, bottom = float(uv[list(upper), 1].min()), float(uv[list(lower), 1].max())
        t = np.clip((uv[list(iris), 1] - top) / max(bottom - top, 1e-6), 0.0, 1.0)
        mid_close = float(close.max())
        lo_share = BLINK_LOWER_SHARE
        m.set("AU45", iris, 0.0, ((1 - t) * (1 - lo_share) - t * lo_share) * mid_close)
        # ... the lid raiser slides the upper lid over a still eyeball; the tighteners squeeze it
        lids = (uv, upper, lower, iris)
        m.set("AU05", iris, 0.0, _iris_motion(*lids, -LID_RAISE, 0.0, still=True))
        tighten = LID_TIGHTEN_UPPER * LID_TIGHTEN, -LID_TIGHTEN
        m.set("AU07", iris, 0.0, _iris_motion(*lids, *tighten, still=False))
        cheek = -CHEEK_LID_SHARE * LID_TIGHTEN
        m.set("AU06", iris, 0.0, _iris_motion(*lids, 0.0, cheek, still=False))
        for au in ("AU05", "AU07", "AU45", "AU06"):
            m.anchor(au, upper + lower + iris)
    for au in ("AU05", "AU07", "AU45"):
        m.anchor(au, brows + NOSE)

    # Cheeks (AU06): cheek region rises a little, as do the lip corners.
    cheek = np.where(
        (np.abs(uv[:, 0]) > 0.3) & (np.abs(uv[:, 0]) < 0.8) & (uv[:, 1] > -0.75) & (uv[:, 1] < -0.1)
    )[0]
    m.set("AU06", cheek, 0.0, -CHEEK_RAISE)
    m.set("AU06", (61, 291), 0.0, -0.3 * CHEEK_RAISE)
    m.anchor("AU06", brows + NOSE_BRIDGE + lips + CHIN)

    # Nose wrinkler (AU09) and upper lip raiser (AU10).
    m.set("AU09", NOSE_WINGS, 0.0, -NOSE_WRINKLE)
    m.set("AU09", OUTER_UPPER_LIP, 0.0, -0.6 * NOSE_WRINKLE * m.centre_weight(OUTER_UPPER_LIP))
    m.anchor("AU09", eyes + brows + NOSE_BRIDGE + lower_lips + CHIN)
    m.set("AU10", upper_lips, 0.0, -UPPER_LIP_RAISE * _upper_lip_raise(m, upper_lips))
    # the nose stays: following the lip up (its tip and wings within reach of the lip's motion),
    # it kept the lip's distance to it (AU10 at 4 read 0.33 on MEAD surprised closed, 0.47 still)
    m.anchor("AU10", eyes + NOSE + OUTER_LOWER_LIP + INNER_LOWER_LIP + CHIN)

    # Lip corner movers: AU12 up and out, AU14 in and up, AU15 down, AU20 out and down, AU23 in.
    c, s = m.corner_weight(lips), m.side(lips)
    m.set("AU12", lips, s * CORNER_PULL_OUT * c, -CORNER_PULL * c)
    m.set("AU14", lips, -s * DIMPLE_IN * c, -DIMPLE_UP * c)
    # the lower lip comes down with the corners, and the inner upper lip with it: the lips stay
    # together (the inner upper lip held still opened a gap the cavity paint showed as a grey line)
    lower_all = np.isin(lips, OUTER_LOWER_LIP + INNER_LOWER_LIP + INNER_UPPER_LIP)
    m.set(
        "AU15",
        lips,
        s * CORNER_DEPRESS_OUT * c,
        CORNER_DEPRESS * np.where(lower_all, CORNER_DEPRESS_LIP + (1 - CORNER_DEPRESS_LIP) * c, c),
    )
    m.set("AU20", lips, s * LIP_STRETCH * c, 0.2 * LIP_STRETCH * c)
    # AU23 narrows the lips' red: the outer edges close in on the lips' meeting line, which
    # stays; the corners come in only a little (drawn in far it reads as a pucker or AU14)
    outer_edge = np.isin(lips, OUTER_UPPER_LIP[1:-1] + OUTER_LOWER_LIP[1:-1])
    thin = np.where(np.isin(lips, OUTER_UPPER_LIP), 1.0, -1.0) * LIP_THIN * (1 - c) * outer_edge
    m.set("AU23", lips, -s * LIP_TIGHTEN_IN * c, thin)
    for au in ("AU12", "AU14", "AU15", "AU20", "AU23"):
        m.anchor(au, eyes + brows + NOSE_BRIDGE + (1, 4) + (152,))
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
    m.anchor("AU17", eyes + NOSE)

    # Lips part (AU25): lips separate, jaw still.
    m.set("AU25", INNER_UPPER_LIP, 0.0, -LIPS_PART_UPPER * m.centre_weight(INNER_UPPER_LIP))
    m.set("AU25", OUTER_UPPER_LIP, 0.0, -0.6 * LIPS_PART_UPPER * m.centre_weight(OUTER_UPPER_LIP))
    flat = LIPS_PART_FLAT
    part_in = LIPS_PART_LOWER * (flat + (1 - flat) * m.centre_weight(INNER_LOWER_LIP))
    part_out = 0.8 * LIPS_PART_LOWER * (flat + (1 - flat) * m.centre_weight(OUTER_LOWER_LIP))
    m.set("AU25", INNER_LOWER_LIP, 0.0, part_in)
    m.set("AU25", OUTER_LOWER_LIP, 0.0, part_out)
    m.set("AU25", CHIN, 0.0, LIPS_PART_CHIN)
    m.anchor("AU25", eyes + brows + NOSE)

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
    m.set("AU26", below, 0.0, _follow_lower_lip(uv, below, OUTER_LOWER_LIP, outer_drop, drop))
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
    m.anchor("AU26", eyes + brows + NOSE + upper_lips)

    basis = np.stack([_follow(uv, m.drivers[k]) for k in range(NUM_AUS)])
    return _to_pixels(basis, ex, ey, unit / AU_INTENSITY_MAX)


def build_lower_lid_basis(face: Face) -> np.ndarray:
    """Displacement per unit of AU07's lower lid alone: its lower-lid raise (:data:`LID_TIGHTEN`),
    the visible iris landmarks squeezed towards the still upper lid, the covered ones moving with
    the lower lid (:func:`_iris_motion`); the upper lid stays.

    Returns:
        (478, 2) float32 pixels per unit.
    """
    uv, ex, ey, unit = face_uv(face)
    m = _Motions(uv)
    for upper, lower, iris in zip(EYE_UPPER, EYE_LOWER, IRISES, strict=True):
        m.set("AU07", lower, 0.0, -LID_TIGHTEN * _lid_shape(uv, lower))
        m.set("AU07", iris, 0.0, _iris_motion(uv, upper, lower, iris, 0.0, -LID_TIGHTEN, False))
        m.anchor("AU07", upper + lower + iris)
    m.anchor("AU07", BROWS[0] + BROWS[1] + NOSE)
    return _to_pixels(_follow(uv, m.drivers[au_index("AU07")]), ex, ey, unit / AU_INTENSITY_MAX)


def _brow_motions(m: _Motions) -> None:
    """The brows' AUs: AU01 inner raiser, AU02 outer raiser, AU04 lowerer (down and together);
    the forehead follows them, the eyes and the nose stay."""
    uv = m.uv
    brows = BROWS[0] + BROWS[1]
    eyes = sum(EYE_UPPER + EYE_LOWER + IRISES, ())
    bu = np.abs(uv[list(brows), 0])
    inner = np.clip(1.0 - (bu - 0.1) / 0.45, 0.3, 1.0)
    outer = np.clip((bu - OUTER_BROW_START) / OUTER_BROW_WIDTH, OUTER_BROW_FLOOR, 1.0)
    inner01 = np.concatenate([_inner_brow_share(uv, brow) for brow in BROWS])
    m.set("AU01", brows, 0.0, -INNER_BROW_RAISE * inner01)
    m.set("AU02", brows, 0.0, -BROW_RAISE * outer)
    m.set("AU04", brows, -np.sign(uv[list(brows), 0]) * BROW_SQUEEZE * inner, BROW_LOWER * inner)
    for au in ("AU01", "AU02", "AU04"):
        _forehead_follows_brows(m, au)
        m.anchor(au, eyes + NOSE)


def _under_brow_follows(m: _Motions, au: str) -> None:
    """The skin just under a raised brow moves with it (FACS: the brow hair rises as a block, the
    skin of the lid fold under it unfolds): each landmark in the upper :data:`UNDER_BROW_SHARE` of
    the gap between the brow's lower edge and the upper lid gets the edge's motion at its distance
    from the centre line times :func:`_carry_share` of its depth; the ones in the rest of the gap
    keep the motion the Gaussian fall-off gives them from the brow alone. The iris landmarks the
    upper lid covers (skin of the lid in the image) are carried as the skin around them; the lids
    and the visible iris stay (call after they are anchored)."""
    drivers = m.drivers[au_index(au)]
    uv = m.uv
    alone = _follow(uv, drivers)  # where the fall-off puts them without the skin carried
    for edge, lid, iris in zip(BROW_LOWER_EDGE, EYE_UPPER, IRISES, strict=True):
        order = np.argsort(uv[list(edge), 0])
        u_edge = uv[list(edge), 0][order]
        motion = np.stack([drivers[i] for i in edge])[order]
        inside = (uv[:, 0] > u_edge[0]) & (uv[:, 0] < u_edge[-1])
        brow_v = np.interp(uv[:, 0], u_edge, uv[list(edge), 1][order])
        lid_v = _lid_line(uv, lid, uv[:, 0])
        depth, gap = uv[:, 1] - brow_v, lid_v - brow_v
        covered = {i for i in iris if uv[i, 1] < lid_v[i]}
        under = [
            i
            for i in np.where(inside & (depth > 1e-6) & (depth < gap - 1e-6))[0].tolist()
            if i in covered or i not in drivers
        ]
        end = UNDER_BROW_SHARE * gap[under]
        share = _carry_share(depth[under], end)
        du = np.interp(uv[under, 0], u_edge, motion[:, 0]) * share
        dv = np.interp(uv[under, 0], u_edge, motion[:, 1]) * share
        carried = depth[under] < end
        for k, i in enumerate(under):
            drivers[i] = np.array([du[k], dv[k]]) if carried[k] else alone[i]


def _carry_share(depth: np.ndarray, end: np.ndarray) -> np.ndarray:
    """(n,) the share of a raised brow's motion carried by the skin ``depth`` (n,) face units
    under the brow's lower edge: all of it down to :data:`UNDER_BROW_RIGID` (at most half of
    ``end``), falling linearly to 0 at ``end`` (n,) face units."""
    rigid = np.minimum(UNDER_BROW_RIGID, 0.5 * end)
    return np.clip((end - depth) / np.maximum(end - rigid, 1e-6), 0.0, 1.0)


def build_under_brow_basis(face: Face) -> np.ndarray:
    """How far carrying the skin under raised brows (:func:`_under_brow_follows`) moves the
    landmarks beyond AU01's and AU02's own motion, per unit of each.

    Returns:
        (2, 478, 2) float32 pixels: AU01's and AU02's carry.
    """
    uv, ex, ey, unit = face_uv(face)
    m = _Motions(uv)
    _brow_motions(m)
    rows = []
    for au in ("AU01", "AU02"):
        alone = _follow(uv, m.drivers[au_index(au)])
        _under_brow_follows(m, au)
        rows.append(_follow(uv, m.drivers[au_index(au)]) - alone)
    return _to_pixels(np.stack(rows), ex, ey, unit / AU_INTENSITY_MAX)


def _upper_lip_raise(m: _Motions, indices) -> np.ndarray:
    """AU10's lift along the upper lip (share of :data:`UPPER_LIP_RAISE`): most in the middle."""
    return 0.3 + 0.7 * m.centre_weight(indices)


def build_sad_brow_basis(face: Face) -> np.ndarray:
    """Displacement per unit AU01 and AU04 share (FACS 1+4, the sad brow): AU04's lowering is
    undone on the medial part of the brows (:data:`SAD_BROW_MEDIAL` face units from the centre
    line, fading out over as much again), so the inner brows rise with AU01 and are drawn together
    by AU04 while the outer part is lowered.

    Returns:
        (478, 2) float32 pixels per unit of the AUs' share.
    """
    uv, ex, ey, unit = face_uv(face)
    m = _Motions(uv)
    brows = BROWS[0] + BROWS[1]
    bu = np.abs(uv[list(brows), 0])
    inner = np.clip(1.0 - (bu - 0.1) / 0.45, 0.3, 1.0)
    medial = np.clip(2.0 - bu / SAD_BROW_MEDIAL, 0.0, 1.0)
    m.set("AU04", brows, 0.0, -BROW_LOWER * inner * medial)
    _forehead_follows_brows(m, "AU04")
    m.anchor("AU04", sum(EYE_UPPER + EYE_LOWER + IRISES, ()) + NOSE)
    return _to_pixels(_follow(uv, m.drivers[au_index("AU04")]), ex, ey, unit / AU_INTENSITY_MAX)


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


def _follow_lower_lip(
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


def _follow(uv: np.ndarray, drivers: dict[int, np.ndarray]) -> np.ndarray:
    """(478, 2) displacement: the drivers' own, the other landmarks follow nearby drivers
    (Gaussian weights of radius :data:`FOLLOW_SIGMA`, decaying far from every driver)."""
    moved = np.zeros((len(uv), 2))
    if not drivers:
        return moved
    idx = np.array(list(drivers))
    disp = np.stack([drivers[i] for i in idx.tolist()])
    d2 = ((uv[:, None, :] - uv[None, idx, :]) ** 2).sum(-1)
    w = np.exp(-d2 / (2 * FOLLOW_SIGMA**2))
    moved = (w @ disp) / np.maximum(w.sum(1, keepdims=True), 1.0)
    moved[idx] = disp
    return moved


def _to_pixels(disp: np.ndarray, ex: np.ndarray, ey: np.ndarray, scale: float) -> np.ndarray:
    """Face-unit displacements (..., 2) -> pixels (float32), times ``scale``."""
    return ((disp[..., :1] * ex + disp[..., 1:] * ey) * scale).astype(np.float32)


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


def build_brow_raise_basis(face: Face, lift: np.ndarray) -> np.ndarray:
    """Displacement that raises each brow straight up, its lower edge's points by ``lift`` and the
    brow's upper edge above each of them as far; the forehead follows as it follows the brow AUs,
    the eyes and the nose stay.

    Args:
        face: The detected face.
        lift: (2, 5) face units per point of :data:`BROW_LOWER_EDGE` (outer end to inner end).

    Returns:
        (478, 2) float32 pixels.
    """
    uv, ex, ey, unit = face_uv(face)
    m = _Motions(uv)
    for lower, upper, up in zip(BROW_LOWER_EDGE, BROW_UPPER, np.asarray(lift), strict=True):
        m.set("AU04", lower + upper, 0.0, -np.concatenate([up, up]))
    _forehead_follows_brows(m, "AU04")
    m.anchor("AU04", sum(EYE_UPPER + EYE_LOWER + IRISES, ()) + NOSE)
    return _to_pixels(_follow(uv, m.drivers[au_index("AU04")]), ex, ey, unit)


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


def upper_lip_raise(face: Face) -> np.ndarray:
    """(11,) how far (face units) AU10 raises each inner upper-lip point per intensity unit."""
    return (
        UPPER_LIP_RAISE
        / AU_INTENSITY_MAX
        * _upper_lip_raise(_Motions(face_uv(face)[0]), INNER_UPPER_LIP)
    )


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
    along = np.clip(np.abs(points[:, 0]) / _Motions(uv).half_width, 0.0, 1.0)
    return np.maximum(thickness - LIP_END_TAPER * middle * np.sqrt(1.0 - along**2), 0.0)


def build_closure_basis(
    face: Face, photo_au10: float = 0.0, neck_room: float | None = None
) -> np.ndarray:
    """Displacement that closes the photo's own lip gap (the absolute-target mouth, AU25/AU26 below
    what the photo shows): the lips meet on the line through the mouth's corners (the upper lip
    comes down a :data:`CLOSE_UPPER_SHARE` of the gap, the inner lower lip rises the rest); the
    outer lips, the chin and the lower face follow the lower lip as the jaw closes; a mouth
    narrower than :data:`NEUTRAL_MOUTH_WIDTH` widens towards it (by at most
    :data:`CLOSE_WIDEN_SHARE` of the gap); an open mouth's lips (apart by :data:`OPEN_MOUTH_GAP`)
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
    if float(lip_gap(face).max()) >= OPEN_MOUTH_GAP:
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
    rise = -_follow_lower_lip(uv, below, INNER_LOWER_LIP, up, rise)
    for i, v in zip(below.tolist(), rise.tolist(), strict=True):
        drivers.setdefault(i, np.array([0.0, v]))
    put((61, 291), -corner_rise)
    # the corners out to a resting width, the lips with them (most near the corners)
    lip_points = tuple(
        dict.fromkeys(OUTER_UPPER_LIP + OUTER_LOWER_LIP + INNER_UPPER_LIP + INNER_LOWER_LIP)
    )
    width = abs(float(uv[291, 0] - uv[61, 0]))
    widen = min(max(NEUTRAL_MOUTH_WIDTH - width, 0.0), CLOSE_WIDEN_SHARE * float(gap.max()))
    if widen > 0.0:
        m = _Motions(uv)
        du = 0.5 * widen * m.side(lip_points) * m.corner_weight(lip_points)
        for i, a in zip(lip_points, du.tolist(), strict=True):
            drivers.setdefault(i, np.zeros(2))
            drivers[i] = drivers[i] + np.array([a, 0.0])
    for i in sum(EYE_UPPER + EYE_LOWER, ()) + NOSE:
        drivers.setdefault(i, np.zeros(2))
    return _to_pixels(_follow(uv, drivers), ex, ey, unit)
