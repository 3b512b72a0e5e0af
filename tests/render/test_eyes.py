"""The lids: a blink closes the eye wherever the other lid AUs put the lids."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.render.warp import WarpRenderer
from espnet_cause.render.warp_motion import face_uv

#: The middle of each upper lid and the lower-lid point under it.
LID_MIDDLES = ((159, 145), (386, 374))


def _lid_gaps(points: np.ndarray, unit: float) -> np.ndarray:
    return np.array([points[lo, 1] - points[up, 1] for up, lo in LID_MIDDLES]) / unit


@pytest.fixture(scope="module")
def squinting(landmarker_path, landmarker, grace):
    """The demo photo with its tracked squint (AU07 3.1) and a little of a blink, absolute mode."""
    face = landmarker.detect(grace)[0]
    own = np.zeros(NUM_AUS, np.float32)
    own[au_index("AU07")] = 3.1
    own[au_index("AU45")] = 0.3
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(grace, face=face, photo_aus=own)
    yield renderer._prepared, face
    renderer.close()


def _moved(prepared, row: np.ndarray) -> np.ndarray:
    coefficients = prepared.coefficients(row.astype(np.float32))
    return prepared.points + np.tensordot(coefficients, prepared.basis, axes=1)


def test_a_blink_closes_a_squinting_photos_eyes(squinting):
    """AU45 at 4 with every other AU at 0 closes the lids, although AU07 at 0 relaxes the photo's
    squint (the relaxed squint held the closed eye open: the lid gap stayed at 1.1 of the
    photo's, and the tracker read the blink as a squint)."""
    prepared, face = squinting
    unit = face_uv(face)[3]
    photo = _lid_gaps(face.points, unit)
    row = np.zeros(NUM_AUS, np.float32)
    relaxed = _lid_gaps(_moved(prepared, row), unit)
    assert (relaxed > 1.1 * photo).all()  # AU07 at 0 opens the squint
    row[au_index("AU45")] = 4.0
    closed = _lid_gaps(_moved(prepared, row), unit)
    assert np.abs(closed).max() < 0.05 * photo.min()
    row[au_index("AU45")] = 2.0  # half way: between open and closed
    half = _lid_gaps(_moved(prepared, row), unit)
    assert (half < 0.7 * relaxed).all() and (half > 0.3 * relaxed).all()


@pytest.fixture(scope="module")
def offsets(landmarker_path, landmarker, grace):
    """The demo photo's warp with AUs as offsets (nothing moves but what is driven)."""
    face = landmarker.detect(grace)[0]
    renderer = WarpRenderer(landmarker_path, absolute=False)
    renderer.prepare(grace, face=face)
    yield renderer, face
    renderer.close()


def _opening_mask(points: np.ndarray, eye: int, shape: tuple[int, ...]) -> np.ndarray:
    import cv2

    from espnet_cause.render.eye_paint import _outline

    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points[_outline(eye)]).astype(np.int32)], 1)
    return mask.astype(bool)


def test_a_raised_upper_lid_uncovers_a_still_eyeball(offsets, grace):
    """AU05 at 4: the eye inside the photo's opening stays the photo's (the warp stretched it:
    the iris and its lights pulled up with the lid, the lashes into a dark band), and the band
    the lid uncovers is eyeball, brighter than the lash line it replaced."""
    import cv2

    renderer, face = offsets
    row = np.zeros((1, NUM_AUS), np.float32)
    row[0, au_index("AU05")] = 4.0
    frame = next(iter(renderer.frames(row)))
    prepared = renderer._prepared
    offset = np.array([prepared.x0, prepared.y0], np.float32)
    moved = _moved(prepared, row[0]) + offset
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(float)
    photo = cv2.cvtColor(grace, cv2.COLOR_RGB2GRAY).astype(float)
    kernel = np.ones((5, 5), np.uint8)
    for eye in range(2):
        seen = _opening_mask(face.points, eye, grace.shape)
        inner = cv2.erode(seen.astype(np.uint8), kernel).astype(bool)  # away from the lashes
        assert np.abs(grey[inner] - photo[inner]).mean() < 1.0  # 3.8 when the warp stretched it
        uncovered = _opening_mask(moved, eye, grace.shape) & ~seen
        assert uncovered.sum() > 20
        lashes = cv2.dilate(seen.astype(np.uint8), kernel).astype(bool) & ~seen
        assert grey[uncovered].mean() > photo[lashes].mean() + 10
