"""Fixtures for the rendering tests: the face landmarker and the test photo, loaded once."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def landmarker_path(face_model):
    return face_model


@pytest.fixture(scope="module")
def landmarker(landmarker_path):
    from espnet_cause.render.face import FaceLandmarker

    with FaceLandmarker(landmarker_path) as lm:
        yield lm


@pytest.fixture(scope="module")
def grace(demo_image) -> np.ndarray:
    from espnet_cause.render.face import load_image

    return load_image(demo_image)
