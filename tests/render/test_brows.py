"""Undoing a photo's own frown (AU04 driven below the photo's): the brows come back up along their
whole length, to a resting profile, and no further. Raised brows rise as a block: the skin under
them is carried along, only while they are raised above the photo's own."""

from __future__ import annotations

import cv2
import numpy as np

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.face.landmarker import Face
from espnet_cause.render.basis_rows import CARRY_ROWS
from espnet_cause.render.face_geometry import (
    BROW_LOWER_EDGE,
    BROW_UPPER,
    BROWS,
    EYE_UPPER,
    brow_edge_heights,
    face_uv,
)
from espnet_cause.render.neutralise import NEUTRAL_BROW_PROFILE
from espnet_cause.render.warp import WarpRenderer

AU01, AU02, AU04 = au_index("AU01"), au_index("AU02"), au_index("AU04")
#: The painted brows of :func:`_painted_brows`: hair on skin (RGB).
HAIR, SKIN = (50, 35, 30), (205, 160, 135)
#: ... the hair reaching this far (eye distances) under the brows' lower-edge landmarks (the median
#: on the 24 brows of the 12 closed-mouth dev photos).
HAIR_BELOW_EDGE = 0.04


def _low_browed(landmarker, grace, lowered: float) -> Face:
    """The demo photo's face with its brows drawn ``lowered`` eye distances lower."""
    face = landmarker.detect(grace)[0]
    landmarks = face.landmarks.copy()
    landmarks[list(BROWS[0] + BROWS[1]), 1] += lowered * face_uv(face)[3]
    return Face(landmarks)


def _prepared(landmarker_path, grace, face: Face, own_au04: float) -> WarpRenderer:
    photo_aus = np.zeros(NUM_AUS, np.float32)
    photo_aus[AU04] = own_au04
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(grace, face=face, photo_aus=photo_aus)
    return renderer


def _edge_heights(renderer: WarpRenderer, au04: float) -> np.ndarray:
    """(5,) the brows' lower edges (outer end to inner end, mean of both brows) above the eye
    corners' line, with AU04 driven to ``au04`` and every other AU at 0."""
    row = np.zeros(NUM_AUS, np.float32)
    row[AU04] = au04
    moved = renderer._prepared.moved_points(row)
    return brow_edge_heights(face_uv(Face(moved))[0]).mean(axis=0)


def test_undoing_a_low_brow_raises_its_whole_length_to_rest(landmarker_path, landmarker, grace):
    """Heavy, low brows (the demo photo's drawn 0.1 eye distances lower along their whole length,
    read as AU04 4) driven to AU04 0: every point of the brows' lower edges comes back up to the
    resting profile. (AU04's own motion, scaled until the inner ends were at rest, left the
    middle and the outer ends 0.03-0.07 low: low-browed photos still frowned at AU04 0.)"""
    face = _low_browed(landmarker, grace, 0.1)
    renderer = _prepared(landmarker_path, grace, face, 4.0)
    before, after = _edge_heights(renderer, 4.0), _edge_heights(renderer, 0.0)
    renderer.close()
    profile = np.asarray(NEUTRAL_BROW_PROFILE)
    assert (before < profile - 0.05).all(), before  # the photo frowns along the whole brow
    np.testing.assert_allclose(after, profile, atol=0.015)


def test_a_driven_frown_moves_from_rest_to_the_photo_in_proportion(
    landmarker_path, landmarker, grace
):
    """Between 0 and the photo's AU04 the brows sit in proportion between rest and the photo's;
    at the photo's own AU04 the frame is the photo."""
    face = _low_browed(landmarker, grace, 0.1)
    renderer = _prepared(landmarker_path, grace, face, 4.0)
    rest, half, own = (_edge_heights(renderer, v) for v in (0.0, 2.0, 4.0))
    row = np.zeros((1, NUM_AUS), np.float32)
    row[0, AU04] = 4.0
    frame = next(renderer.render(grace, row))
    renderer.close()
    np.testing.assert_allclose(half, 0.5 * (rest + own), atol=2e-3)
    assert np.array_equal(frame, grace)


def test_brows_above_rest_are_not_raised(landmarker_path, landmarker, grace):
    """A photo read as frowning whose brows already sit above the resting profile (the demo
    photo's drawn 0.08 higher, read as AU04 2): AU04 0 leaves its brows where they are."""
    face = _low_browed(landmarker, grace, -0.08)
    renderer = _prepared(landmarker_path, grace, face, 2.0)
    before, after = _edge_heights(renderer, 2.0), _edge_heights(renderer, 0.0)
    renderer.close()
    np.testing.assert_allclose(after, before, atol=1e-4)


def _painted_brows(face: Face, image: np.ndarray) -> np.ndarray:
    """The demo photo with plain brows painted on (its own sit on the glasses' rim): skin from
    above each brow down to its upper lid, on it dark hair from the brow's upper edge to
    :data:`HAIR_BELOW_EDGE` under its lower edge's landmarks."""
    image = image.copy()
    unit, pts = face_uv(face)[3], face.points
    for upper, lower, lid in zip(BROW_UPPER, BROW_LOWER_EDGE, EYE_UPPER, strict=True):
        skin = np.concatenate(
            [pts[list(upper)] - [0, 0.1 * unit], pts[list(lid)] - [0, 0.02 * unit]]
        )
        cv2.fillPoly(
            image, [np.round(cv2.convexHull(skin.astype(np.float32))).astype(np.int32)], SKIN
        )
        under = pts[list(lower)] + [0, HAIR_BELOW_EDGE * unit]
        hair = np.concatenate([pts[list(upper)], under[::-1]])
        cv2.fillPoly(image, [np.round(hair).astype(np.int32)], HAIR)
    return image


def _hair_heights(image: np.ndarray, points: np.ndarray, unit: float) -> list[float]:
    """The height (eye distances) of the dark band through each brow's middle (the column between
    landmarks 105 and 52, 334 and 282), for an (H, W, 3) image and its (478, 2) landmarks."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    dark = gray < (sum(HAIR) + sum(SKIN)) / 6.0
    heights = []
    for up, lo in ((105, 52), (334, 282)):
        x, y = np.round((points[up] + points[lo]) / 2).astype(int)
        column = dark[:, x - 1 : x + 2].all(1)
        assert column[y]
        top, bottom = y, y
        while column[top - 1]:
            top -= 1
        while column[bottom + 1]:
            bottom += 1
        heights.append((bottom - top + 1) / unit)
    return heights


def test_raised_brows_keep_the_hair_s_height(landmarker, landmarker_path, grace):
    """Surprise's brows (AU01 and AU02 at 4) on plain painted brows: the hair keeps its height
    within 1.25 times the photo's (0.135 eye distances; the skin under it unfolds instead). With
    the brows' Gaussian fall-off alone the ring of landmarks under them rose 0.3-0.5 of the brows
    and the hair was stretched to 1.36 times its height, a smear down to the lids (1.09 with the
    skin under the brows carried)."""
    face = landmarker.detect(grace)[0]
    image = _painted_brows(face, grace)
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(image, face=face, photo_aus=np.zeros(NUM_AUS, np.float32))
    row = np.zeros((1, NUM_AUS), np.float32)
    row[0, [AU01, AU02]] = 4.0
    moved = renderer._prepared.moved_points(row[0])
    frame = next(renderer.render(image, row))
    renderer.close()
    unit = face_uv(face)[3]
    before = _hair_heights(image, face.points, unit)
    after = _hair_heights(frame, moved, unit)
    assert np.all(moved[[105, 334], 1] < face.points[[105, 334], 1] - 0.15 * unit)  # raised
    assert np.all(np.asarray(after) < 1.25 * np.asarray(before)), (before, after)


def test_the_skin_under_the_brows_is_carried_only_above_the_photo_s_raise(landmarker_path, grace):
    """A photo whose brows read raised (AU01 and AU02 at 3): driven to 0, its brows come down as
    the brow AUs alone move them (the carry's weights are 0: carried down too, the skin under
    them was pushed onto the lids, and the tracker read the eyes as narrowed); driven to 4, the
    skin under them is carried up."""
    photo_aus = np.zeros(NUM_AUS, np.float32)
    photo_aus[[AU01, AU02]] = 3.0
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(grace, photo_aus=photo_aus)
    p = renderer._prepared
    renderer.close()
    rest, raised = np.zeros(NUM_AUS, np.float32), np.zeros(NUM_AUS, np.float32)
    raised[[AU01, AU02]] = 4.0
    assert np.all(p.coefficients(rest)[CARRY_ROWS] == 0.0)
    assert np.all(p.coefficients(raised)[CARRY_ROWS] > 0.0)
    ring = [222, 223, 224, 442, 443, 444]  # the ring of landmarks just under each brow
    carry = np.tensordot(p.coefficients(raised)[CARRY_ROWS], p.basis[CARRY_ROWS], axes=1)
    assert np.all(carry[ring, 1] < -0.01 * p.unit)  # up
