"""Fixtures shared by the renderer's tests."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.render.face_geometry import INNER_LOWER_LIP, INNER_UPPER_LIP
from espnet_cause.render.warp import WarpRenderer


@pytest.fixture(scope="module")
def smiling(landmarker_path, grace):
    """The demo photo made into a smile with an open mouth by the renderer itself (as offsets)."""
    row = np.zeros((1, NUM_AUS), np.float32)
    for name, value in (("AU06", 2.0), ("AU12", 4.0), ("AU25", 4.0), ("AU26", 2.0)):
        row[0, au_index(name)] = value
    renderer = WarpRenderer(landmarker_path, absolute=False)
    image = next(renderer.render(grace, row))
    renderer.close()
    return image


@pytest.fixture(scope="module")
def green_mouth(landmarker, smiling):
    """(photo, face): the smiling photo with its mouth interior painted a colour neither lips nor
    skin have (60, 200, 80), and its face."""
    face = landmarker.detect(smiling)[0]
    photo = smiling.copy()
    inner = face.points[list(INNER_UPPER_LIP + INNER_LOWER_LIP[::-1])]
    cv2.fillPoly(photo, [np.round(inner).astype(np.int32)], (60, 200, 80))
    return photo, face
