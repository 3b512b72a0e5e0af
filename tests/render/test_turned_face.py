"""A face turned away from the camera moves as far as the same face seen from the front."""

from __future__ import annotations

import numpy as np

from espnet_cause.au import au_index
from espnet_cause.face.landmarker import Face
from espnet_cause.render.warp_motion import build_landmark_basis, face_frame, face_uv


def _turned(face: Face, degrees: float) -> Face:
    """The same landmarks turned about the vertical axis through the nose tip (orthographic)."""
    points = face.landmarks.astype(np.float64)
    pivot = points[1]
    a = np.radians(degrees)
    rel = points - pivot
    x = rel[:, 0] * np.cos(a) + rel[:, 2] * np.sin(a)
    z = -rel[:, 0] * np.sin(a) + rel[:, 2] * np.cos(a)
    return Face(np.stack([x, rel[:, 1], z], 1).astype(np.float32) + pivot.astype(np.float32))


def test_a_turned_face_keeps_its_size_and_its_vertical_motions(landmarker, grace):
    """Turned 50 degrees, the eye line is 0.64 as long in the image: the eye distance was the face
    unit, so the jaw drop and the raised brows came out 0.64 as tall as on the frontal face."""
    front = landmarker.detect(grace)[0]
    turned = _turned(front, 50.0)
    assert abs(face_frame(turned)[3] / face_frame(front)[3] - 1.0) < 0.03  # was 0.64
    for au, landmark in (("AU26", 152), ("AU01", 107), ("AU02", 70), ("AU15", 291)):
        rise = [float(build_landmark_basis(f)[au_index(au), landmark, 1]) for f in (front, turned)]
        assert abs(rise[1] / rise[0] - 1.0) < 0.1, (au, rise)  # vertical motion kept
    # across the face the motion shrinks with the turn, as the face's own width does
    side = [float(build_landmark_basis(f)[au_index("AU20"), 291, 0]) for f in (front, turned)]
    assert 0.5 < side[1] / side[0] < 0.8, side
    # face units are the frontal face's: the lip corners as far apart as seen from the front
    width = [float(np.ptp(face_uv(f)[0][[61, 291], 0])) for f in (front, turned)]
    assert abs(width[1] / width[0] - 1.0) < 0.1, width


def test_landmarks_without_depth_count_as_frontal(landmarker, grace):
    front = landmarker.detect(grace)[0]
    flat = Face(front.points.copy())
    assert np.isclose(face_frame(flat)[3], np.linalg.norm(np.subtract(*flat.eye_centers())))
