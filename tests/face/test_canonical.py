"""MediaPipe's canonical face, read from the packaged model, and the landmarks' mirror images."""

from __future__ import annotations

import numpy as np

from espnet_cause.face.canonical import canonical_face, mirror_landmarks
from espnet_cause.face.landmarker import LEFT_EYE_CORNERS, NUM_LANDMARKS, RIGHT_EYE_CORNERS


def test_the_canonical_face_is_read_from_the_packaged_model():
    vertices = canonical_face()
    assert vertices.shape == (468, 3)
    assert vertices[263, 0] > vertices[33, 0]  # the subject's left eye on the image right
    assert vertices[152, 1] > vertices[10, 1]  # the chin below the forehead (y down)
    assert vertices[1, 2] < vertices[234, 2]  # the nose tip nearer the camera than the cheek


def test_each_landmark_has_one_mirror_image():
    mirror = mirror_landmarks()
    assert mirror.shape == (NUM_LANDMARKS,)
    np.testing.assert_array_equal(mirror[mirror], np.arange(NUM_LANDMARKS))
    for a, b in zip(RIGHT_EYE_CORNERS, LEFT_EYE_CORNERS, strict=True):
        assert mirror[a] == b
    assert mirror[61] == 291 and mirror[107] == 336  # lip corners, brows' inner ends
    assert mirror[1] == 1 and mirror[152] == 152  # the nose tip and the chin on the midline
    # the irises swap, and so do the points to their image left and right
    assert mirror[468] == 473 and mirror[469] == 476 and mirror[470] == 475


def test_the_demo_face_is_nearly_symmetric_under_the_mirror(landmarker, grace):
    """A landmark and its mirror image sit about as far from the face's midline on a frontal face
    (each landmark's x over the nose bridge's, within 0.1 eye distances)."""
    face = landmarker.detect(grace)[0]
    x = face.points[:, 0] - face.points[[168, 6, 197, 195], 0].mean()
    eyes = float(np.linalg.norm(np.subtract(*face.eye_centers())))
    off = np.abs(x + x[mirror_landmarks()]) / eyes
    assert float(np.median(off)) < 0.05 and float(off.max()) < 0.2, (np.median(off), off.max())
