"""The head's rotation from 3-D landmarks, fitted to MediaPipe's canonical face."""

from __future__ import annotations

import numpy as np

from espnet_cause.face.canonical import canonical_face, head_rotation


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    y, p, r = np.radians([yaw, pitch, roll])
    about_y = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    about_x = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    about_z = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return about_y @ about_x @ about_z


def test_the_canonical_face_is_read_from_the_packaged_model():
    vertices, ids, weights = canonical_face()
    assert vertices.shape == (468, 3) and len(ids) == len(weights) > 20
    assert vertices[263, 0] > vertices[33, 0]  # the subject's left eye on the image right
    assert vertices[152, 1] > vertices[10, 1]  # the chin below the forehead (y down)


def test_a_rotated_scaled_shifted_canonical_face_gives_back_its_rotation():
    vertices = canonical_face()[0]
    for angles in ((0, 0, 0), (45, 25, -5), (-55, -20, 10)):
        truth = _rotation(*angles)
        landmarks = np.zeros((478, 3))
        landmarks[:468] = 17.0 * vertices @ truth.T + np.array([300.0, 250.0, 0.0])
        np.testing.assert_allclose(head_rotation(landmarks), truth, atol=1e-9)


def test_the_demo_photo_faces_the_camera_upright(landmarker, grace):
    rotation = head_rotation(landmarker.detect(grace)[0].landmarks)
    assert np.degrees(np.arccos(np.clip(rotation[1, 1], -1, 1))) < 10.0  # tilted under 10 degrees
