"""Undoing a photo's own frown (AU04 driven below the photo's): the brows come back up along their
whole length, to a resting profile, and no further."""

from __future__ import annotations

import numpy as np

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.face.landmarker import Face
from espnet_cause.render.warp import NEUTRAL_BROW_PROFILE, WarpRenderer
from espnet_cause.render.warp_motion import BROWS, brow_edge_heights, face_uv

AU04 = au_index("AU04")


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
