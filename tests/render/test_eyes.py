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
