"""Undoing the photo's own expression: how far, and by which landmark motion.

In absolute mode an AU driven below the photo's own undoes the photo's action; these rules keep
the undoing at a resting face: the closure of the photo's open mouth and its press
(:func:`closure`), the smile taken away (:func:`smile_reversal`, :func:`unsmile`), the frown
lifted (:func:`unfrown`), the brows brought back at most to rest (:func:`brow_reversal`) and
raised from the raise they show (:func:`raise_gain`), the lids relaxed at most to a neutral
opening (:func:`lid_relax`). Distances are in eye distances (face units).
"""

from __future__ import annotations

import numpy as np

from espnet_cause.au import AU_INTENSITY_MAX, au_index
from espnet_cause.face.landmarker import Face
from espnet_cause.render.face_geometry import brow_edge_heights, brow_heights, face_uv, lid_opening
from espnet_cause.render.motion_brows import BROW_LOWER, build_brow_raise_basis
from espnet_cause.render.motion_closure import CLOSE_PRESS, NEUTRAL_MOUTH_WIDTH

#: AU vectors whose largest absolute value is below this are rendered as the unchanged photo (and
#: a photo's own intensity is at least this where the undoing divides by it).
ZERO_AU = 1e-3
#: Closing the photo's open mouth presses the lips past touching (CLOSE_PRESS) only while the
#: mouth AUs are near 0: the press is released over their first PRESS_RELEASE units.
PRESS_RELEASE = 1.0
#: Undoing a photo's own smile (AU12 driven below the photo's) lowers the lip corners at most until
#: they sit this far (eye distances) above the lips' meeting line, as on an unsmiling closed mouth
#: (0.005-0.052 on the six neutral closed-mouth dev photos, median 0.018): the tracker's AU12 of a
#: strong smile (4.5) reversed in full pulled the corners below that line, a frown, which left
#: AU15 nothing to add (its closed-loop r 0.79 -> -0.04 on that photo).
NEUTRAL_CORNER_LIFT = 0.02
#: ... and draws them in until the mouth is
#: :data:`~espnet_cause.render.motion_closure.NEUTRAL_MOUTH_WIDTH` wide, by at most UNSMILE_ACROSS
#: times the photo's AU12 units of AU12's outward pull (AU12 pulls them out less than up). Drawn in
#: by the photo's AU12 units alone, a broad smile stayed a wide mouth the tracker read as a smile
#: (AU12 1.1 at AU12 0 on single_face's open smile); by 1.5 times them on every smiling photo, the
#: mouths were drawn in past the same speakers' closed ones (0.66 on eNTERFACE's happy mouth, 0.78
#: closed), and AU15 read back weaker (its closed-loop r 0.50 -> 0.34 there).
UNSMILE_ACROSS = 1.5
#: Undoing a photo's own brow action (AU01, AU02 or AU04 driven below the photo's) moves the
#: brows at most back to a resting height (the reversal is scaled: a target of 0 brings them to
#: rest, targets in between in proportion): the inner ends of their lower edges (AU01, AU04) this
#: far above the eye corners' line, the outer ends (AU02) the second (eye distances; the medians of
#: the seven dev photos whose AU01, AU02 and AU04 all read below 0.5: inner 0.191-0.257, outer
#: 0.173-0.209; :func:`~espnet_cause.render.face_geometry.brow_heights`). The tracker's brow AUs
#: are not the renderer's: talking_jwp's inner brows sit 0.11 below rest (AU04 read 4.0), and
#: those 4 units reversed in full raised them 0.28, far above rest, in every frame that did not
#: ask for AU04 (raising them further stretched the skin under them into a second brow); MEAD
#: surprised's sit 0.09 above rest (AU01 read 4.2), and AU01 reversed in full sank them 0.25, a
#: frown in every frame, the brows pressed onto the lids in a jagged line.
NEUTRAL_BROW_HEIGHT = (0.237, 0.185)
#: Undoing a photo's own AU04 (driven below the photo's) then raises each point of the brows'
#: lower edges (:data:`~espnet_cause.render.face_geometry.BROW_LOWER_EDGE`, outer end to inner end)
#: still under this height above the eye corners' line to it (eye distances; each point's median
#: over the same seven dev photos as :data:`NEUTRAL_BROW_HEIGHT`, whose ends it repeats), by at
#: most the photo's AU04 above :data:`RESTING_AU04` units of AU04's full lowering (:func:`unfrown`).
#: Scaling AU04's own motion until the inner ends reached rest left low-browed photos frowning:
#: their brows lie low along their whole length (talking_jwp's middle 0.21, MEAD M030's outer
#: ends 0.16), the tracker still read AU04 3.5 on jwp's undone brows (4.0 on the photo), so the
#: AU04 sweep moved its read-back by 0.5 while raising the brows (AU01, AU02) took 2.2-3.2 away.
NEUTRAL_BROW_PROFILE = (0.185, 0.262, 0.309, 0.31, 0.237)
#: ... and a photo's AU04 up to this is what resting brows read (the seven photos: 0.07-0.49), not
#: a frown to lift beyond the inner ends' reversal (the frames of such photos are the same as
#: without the lift: the demo photo's, 0.07, moved 0.4 px, and its closed loop by the tracker's
#: noise).
RESTING_AU04 = 0.5
#: Undoing a photo's own lid tightening and blink (AU07, AU45 driven below the photo's) opens
#: the eyes at most this wide (:func:`~espnet_cause.render.face_geometry.lid_opening`, the lid gap
#: over the eye's width; the reversal is scaled, as the brows' is): the tracker reads AU07 1.5-3
#: on relaxed open eyes, and undone in full it opened every dev photo's eyes to 0.45-0.63, wider
#: than the surprised photo's 0.43 (a stare in every frame that did not ask for a squint; on
#: squinting photos the stretched lash line and iris lights drew a dark band with vertical bars).
NEUTRAL_LID_OPENING = 0.45
#: The AUs whose reversal opens the eyes.
LID_RELAX_AUS = (au_index("AU07"), au_index("AU45"))
#: The lip corners.
LIP_CORNERS = (61, 291)


def closure(target: np.ndarray, own: np.ndarray, lip_raise: float = 0.0) -> float:
    """The closure field's weight for the (2,) mouth AU targets (AU25, AU26; >= 0) on a photo
    whose own are ``own``: the share of the photo's opening the two targets fall short of
    (the sum of their shortfalls over the sum of the photo's own).

    It presses the lips past touching (:data:`~espnet_cause.render.motion_closure.CLOSE_PRESS`, to
    hide the interior) only while the targets are near 0: the press is released over their first
    :data:`PRESS_RELEASE` units. (Pressed at every closure, AU25 swept with AU26 at 0 left the
    lips shut over its first 1.5 units on a wide-open photo: a dead zone the tracker read as 0.)
    The upper lip's raise (the AU10 target ``lip_raise``) releases it too: pressed, the lips
    swallowed AU10's raise on a closed-over open mouth (the tracker read AU10 at 4 as 0.0-0.1).
    """
    total = float(own.sum())
    if total <= ZERO_AU:
        return 0.0
    closing = min(1.0, float(np.maximum(own - target, 0.0).sum()) / total)
    release = min(1.0, max(float(target.max()), lip_raise) / PRESS_RELEASE)
    return closing * (1.0 - release * (1.0 - 1.0 / CLOSE_PRESS))


def smile_reversal(face: Face, au12: np.ndarray) -> float:
    """How many AU12 units below the photo's may be undone: until the lip corners sit
    :data:`NEUTRAL_CORNER_LIFT` above the lips' meeting line (0 when they are not above it).

    Args:
        face: The photo's face.
        au12: (478, 2) AU12's landmark displacement per unit (pixels).
    """
    uv, _, ey, unit = face_uv(face)
    lift = -float(uv[list(LIP_CORNERS), 1].mean()) - NEUTRAL_CORNER_LIFT
    per_unit = -float((au12[list(LIP_CORNERS)] @ ey).mean()) / unit  # the corners' rise per unit
    if lift <= 0.0 or per_unit <= 1e-6:
        return 0.0
    return lift / per_unit


def unsmile(face: Face, au12: np.ndarray, own: float) -> np.ndarray:
    """(478, 2) pixels: the landmark motion that takes a photo's own smile (AU12 ``own``) away:
    AU12 reversed, up and down by at most :func:`smile_reversal` units (further, the corners sink
    into a frown), across by the units that bring the mouth's width down to
    :data:`NEUTRAL_MOUTH_WIDTH`, at most :data:`UNSMILE_ACROSS` times ``own`` (a smile widens the
    mouth, and the tracker reads the width).

    Args:
        face: The photo's face.
        au12: (478, 2) AU12's landmark displacement per unit (pixels).
        own: The photo's own AU12.
    """
    uv, ex, ey, unit = face_uv(face)
    along_y = (au12 @ ey)[:, None] * ey[None]
    across = au12 - along_y
    corners = list(LIP_CORNERS)
    out = float(np.abs(across[corners] @ ex).mean()) / float(ex @ ex) / unit  # per side, per unit
    excess = 0.5 * (abs(float(uv[corners[1], 0] - uv[corners[0], 0])) - NEUTRAL_MOUTH_WIDTH)
    drawn_in = 0.0 if out <= 1e-6 else min(UNSMILE_ACROSS * own, max(excess, 0.0) / out)
    down = min(own, smile_reversal(face, au12))
    return (-(drawn_in * across + down * along_y)).astype(np.float32)


def unfrown(face: Face, motion: np.ndarray, own: float) -> np.ndarray:
    """(478, 2) px: how far undoing the photo's own AU04 lifts its brows beyond the inner ends'
    reversal (:func:`brow_reversal`, AU04's own ``motion``, 478 x 2 px per unit, reversed until
    the brows' inner ends are back at rest): each point of the brows' lower edges still under
    :data:`NEUTRAL_BROW_PROFILE` rises to it, by at most the photo's AU04 above
    :data:`RESTING_AU04` units of AU04's full lowering
    (:data:`~espnet_cause.render.motion_brows.BROW_LOWER` at the maximum intensity) in all; the
    upper edges and the forehead rise with them
    (:func:`~espnet_cause.render.motion_brows.build_brow_raise_basis`). Zero for a photo whose
    brows are not lowered, or whose AU04 is at most :data:`RESTING_AU04`."""
    landmarks = face.landmarks.astype(np.float64)  # moved in x, y; the depth (its turn) kept
    height = brow_edge_heights(face_uv(face)[0])
    landmarks[:, :2] -= min(brow_reversal(face, motion, 0), max(own, 0.0)) * motion
    undone = brow_edge_heights(face_uv(Face(landmarks))[0])
    lowering = max(own - RESTING_AU04, 0.0) * BROW_LOWER / AU_INTENSITY_MAX
    most = np.maximum(lowering - (undone - height), 0.0)
    lift = np.clip(np.asarray(NEUTRAL_BROW_PROFILE) - undone, 0.0, most)
    return build_brow_raise_basis(face, lift)


def brow_reversal(
    face: Face, motion: np.ndarray, end: int, undone: np.ndarray | None = None
) -> float:
    """How many units of a brow AU below the photo's may be undone: until the brows' inner
    (``end`` 0) or outer (1) ends are back at :data:`NEUTRAL_BROW_HEIGHT` (0 when undoing the AU
    would move them away from it).

    Args:
        face: The photo's face.
        motion: (478, 2) the AU's landmark displacement per unit (pixels).
        end: 0: the brows' inner ends, 1: their outer ends.
        undone: (478, 2) what undoing other AUs moves the landmarks (pixels; None: nothing).
    """
    landmarks = face.landmarks.astype(np.float64)  # moved in x, y; the depth (its turn) kept
    if undone is not None:
        landmarks[:, :2] += undone
    height = brow_heights(face_uv(Face(landmarks))[0])[end]
    landmarks[:, :2] += motion
    per_unit = brow_heights(face_uv(Face(landmarks))[0])[end] - height
    if abs(per_unit) <= 1e-6:
        return 0.0
    return max((height - NEUTRAL_BROW_HEIGHT[end]) / per_unit, 0.0)


def raise_gain(own: float, shown: float) -> float:
    """How many units a brow raiser (AU01, AU02) moves the photo's brows per unit its target
    lies above the photo's own ``own``, when undoing ``shown`` units of it brings the brows to
    rest (:func:`brow_reversal`): the brows rise from the photo's height at ``own`` to rest plus
    the full raise at :data:`~espnet_cause.au.AU_INTENSITY_MAX`. A photo whose brows show less
    raise than the tracker reads (``shown`` < ``own``: MEAD surprised reads AU01 4.2 with its
    inner brows 1.0 unit above rest, eNTERFACE angry 3.3 with 0.8) had only ``5 - own`` units
    left to show: AU01 at 4 added 0.7 units there, and the sad brow (AU01 with AU04) was AU04's
    frown (the expression sheet read it as angry). 1 when the brows show all of ``own``.
    The lid tightener (AU07) too: relaxing a squinting photo stops at a neutral opening
    (:func:`lid_relax`), so its lids show ``lid_relax * own`` units of its squint; AU07 driven
    0 -> 4 on the demo photo (own 3.1, 0.44 of it shown) moved its lower lid by 2.3 units of
    AU07's motion (the closed loop's AU07 sweep spanned 0.57 of its range there).

    Args:
        own: The photo's own intensity of the AU (as the tracker reads it).
        shown: The units of it the photo's brows (lids) show above rest (:func:`brow_reversal`,
            :func:`lid_relax`).
    """
    shown = min(max(shown, 0.0), own)
    return (AU_INTENSITY_MAX - shown) / max(AU_INTENSITY_MAX - own, ZERO_AU)


def lid_relax(points: np.ndarray, basis: np.ndarray, own: np.ndarray) -> float:
    """The share of the photo's own AU07 and AU45 that driving them to 0 undoes: all of it, unless
    that opens the eyes wider than :data:`NEUTRAL_LID_OPENING`; then as much as opens them to it
    (0 when the photo's eyes are that open already).

    Args:
        points: (478, 2) the photo's landmarks (pixels).
        basis: (K, 478, 2) the per-unit displacements (pixels), AUs first.
        own: (17,) the photo's own AUs.
    """
    k = list(LID_RELAX_AUS)
    photo = lid_opening(points)
    relaxed = lid_opening(points - np.tensordot(np.maximum(own[k], 0.0), basis[k], axes=1))
    if relaxed <= NEUTRAL_LID_OPENING or relaxed <= photo + 1e-6:
        return 1.0
    return float(np.clip((NEUTRAL_LID_OPENING - photo) / (relaxed - photo), 0.0, 1.0))
