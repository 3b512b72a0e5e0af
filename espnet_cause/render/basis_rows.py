"""The rows of the warp renderer's displacement basis: what each row is, and one face's rows.

One (29, 478, 2) basis per face, in pixels (:func:`build_basis`): the 17 AUs per intensity unit
(:func:`~espnet_cause.render.warp_motion.build_landmark_basis`), then the closure of the photo's
own mouth, the head pose, the sad brow, the photo's smile and frown undone
(:mod:`espnet_cause.render.neutralise`), AU07's lower lid alone, the skin carried under raised
brows, the fear brow and the stretched lips' opening. A frame weights the rows
(:meth:`~espnet_cause.render.prepared_face.PreparedFace.coefficients`).
"""

from __future__ import annotations

import numpy as np

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.face.landmarker import Face
from espnet_cause.render.motion_brows import (
    build_fear_brow_basis,
    build_sad_brow_basis,
    build_under_brow_basis,
)
from espnet_cause.render.motion_closure import build_closure_basis
from espnet_cause.render.motion_lids import build_lower_lid_basis
from espnet_cause.render.motion_mouth import build_stretched_opening_basis
from espnet_cause.render.neutralise import unfrown, unsmile
from espnet_cause.render.warp_motion import build_landmark_basis

AU04, AU10, AU12 = au_index("AU04"), au_index("AU10"), au_index("AU12")

#: Rows of the basis after the 17 AUs: the closure (NUM_AUS), the head pose (roll, x, y), then
#: the sad brow: AU01 with AU04 (FACS 1+4) raises the inner brows and draws them together, AU04
#: lowering only their outer part. Summed, AU04's lowering outweighed AU01's raise (an angry brow,
#: and the tracker read sad faces as angry); the sad-brow row undoes AU04's lowering on the medial
#: brow (:func:`~espnet_cause.render.motion_brows.build_sad_brow_basis`) by the units AU01 and
#: AU04 share. (It replaces raising AU01 one more unit per shared unit: the expression sheet of 5
#: dev photos at 4 read sad as sad on 2 -> 3 of 5, fearful 1 -> 1, angry, happy and surprised
#: unchanged.)
HEAD_ROWS = slice(NUM_AUS + 1, NUM_AUS + 4)
SAD_BROW_ROW = NUM_AUS + 4
#: ... then the un-smile: the landmark motion that takes the photo's own smile away (AU12 reversed,
#: :func:`~espnet_cause.render.neutralise.unsmile`), weighted by the share of the photo's AU12 the
#: target falls short of (AU12's own row then only adds above the photo's).
UNSMILE_ROW = NUM_AUS + 5
#: ... then the un-frown: the brows lifted to
#: :data:`~espnet_cause.render.neutralise.NEUTRAL_BROW_PROFILE`
#: (:func:`~espnet_cause.render.neutralise.unfrown`), weighted by the share of the photo's AU04
#: the target falls short of (with AU04's own row reversed at most to the inner ends' rest,
#: :func:`~espnet_cause.render.neutralise.brow_reversal`).
UNFROWN_ROW = NUM_AUS + 6
#: ... then AU07's lower lid alone: AU07 driven above a squinting photo's own adds the units its
#: relaxed squint took away (:func:`~espnet_cause.render.neutralise.raise_gain` of the squint the
#: lids show, ``lid_relax``) with the lower lid only. With the whole of AU07 (the upper lid
#: coming down too) the tracker read the added tightening as a blink as much as a squint: over the
#: 25 dev photos AU07's closed-loop r rose 0.608 -> 0.636 and AU45's fell 0.867 -> 0.846 (a real blink reads as AU07 and back).
LOWER_LID_ROW = NUM_AUS + 7
#: ... then the skin under raised brows carried with them
#: (:func:`~espnet_cause.render.motion_brows.build_under_brow_basis`), AU01's and AU02's, weighted
#: by the part of their offsets above the photo's own (undoing a photo's raised brows moves them
#: as the brow AUs alone do: carried down too, the skin under them was pushed onto the lids).
CARRY_ROWS = slice(NUM_AUS + 8, NUM_AUS + 10)
#: ... then the fear brow: AU01 and AU02 with AU04 (FACS 1+2+4: raised and drawn together) draw
#: the brows together further (:func:`~espnet_cause.render.motion_brows.build_fear_brow_basis`),
#: by the units the three share; 0 unless all three are driven above the photo's.
FEAR_BROW_ROW = NUM_AUS + 10
#: ... then the stretched opening: AU20 with the jaw dropped (FACS 20+26, fear's mouth) stretches
#: the lips evenly between the corners
#: (:func:`~espnet_cause.render.motion_mouth.build_stretched_opening_basis`), by the units of
#: AU20 (above the photo's) and of the AU26 target they share.
STRETCHED_OPENING_ROW = NUM_AUS + 11


def build_basis(
    face: Face, photo_aus: np.ndarray | None, neck_room: float, unit: float
) -> np.ndarray:
    """(29, 478, 2) float32 pixels: per intensity unit of each AU, the full closure of the
    photo's mouth, the head's roll (per radian) and shift (per eye distance), the sad brow (per
    unit AU01 and AU04 share), then the photo's smile and its frown undone in full, AU07's lower
    lid alone (per unit), the skin carried under AU01's and AU02's raise (per unit), the fear
    brow (per unit AU01, AU02 and AU04 share) and the stretched opening (per unit AU20 and AU26
    share).

    Args:
        face: The photo's face.
        photo_aus: (17,) the photo's own AUs (absolute mode; None: the AUs are offsets from the
            photo, nothing of it is undone).
        neck_room: How far below the chin the face region ends (face units): closing the mouth,
            the chin rises less, and the jaw drops less, when little of the neck is in it.
        unit: The face's unit (pixels per eye distance,
            :func:`~espnet_cause.render.face_geometry.face_frame`).
    """
    basis = np.concatenate(
        [
            build_landmark_basis(face, neck_room),
            build_closure_basis(face, 0.0 if photo_aus is None else photo_aus[AU10], neck_room)[
                None
            ],
            _head_basis(face.points.astype(np.float32), unit),
            build_sad_brow_basis(face)[None],
        ]
    )
    own_smile = 0.0 if photo_aus is None else float(photo_aus[AU12])
    own = np.zeros(NUM_AUS, np.float32) if photo_aus is None else photo_aus
    return np.concatenate(
        [
            basis,
            unsmile(face, basis[AU12], own_smile)[None],
            unfrown(face, basis[AU04], float(own[AU04]))[None],
            build_lower_lid_basis(face)[None],
            build_under_brow_basis(face),
            build_fear_brow_basis(face)[None],
            build_stretched_opening_basis(face)[None],
        ]
    )


def _head_basis(points: np.ndarray, unit: float) -> np.ndarray:
    """(3, 478, 2) px: every landmark moved by a head roll (per radian, about a pivot below the
    chin) and by a shift of one eye distance in x and in y (the face moves rigidly; the fixed
    border of the face region feathers it back into the still background)."""
    pivot = points[152] + np.array([0.0, 0.3 * unit], np.float32)  # the neck, under the chin
    rel = points - pivot
    roll = np.stack([-rel[:, 1], rel[:, 0]], axis=1)
    shift_x = np.broadcast_to(np.array([unit, 0.0], np.float32), points.shape)
    shift_y = np.broadcast_to(np.array([0.0, unit], np.float32), points.shape)
    return np.stack([roll, shift_x, shift_y]).astype(np.float32)
