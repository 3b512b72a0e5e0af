"""A face turned away from the camera moves as far as the same face seen from the front."""

from __future__ import annotations

import numpy as np

from espnet_cause.au import au_index
from espnet_cause.face.landmarker import Face
from espnet_cause.render.face_geometry import face_frame, face_uv
from espnet_cause.render.warp_motion import build_landmark_basis


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


#: The landmarker's depth of a turned face is shallower than the turn: on dev photos turned 50
#: degrees (their image eye distance 0.65 of the frontal one) the landmarks' depth gave a
#: foreshortening of 0.76, as depth differences about 0.7 as deep as the turn's.
SHALLOW_DEPTH = 0.7


def _shallow(face: Face) -> Face:
    """The landmarks with their depth differences (about the nose tip) made SHALLOW_DEPTH as deep."""
    points = face.landmarks.copy()
    points[:, 2] = points[1, 2] + SHALLOW_DEPTH * (points[:, 2] - points[1, 2])
    return Face(points)


def test_a_turned_face_keeps_its_midline_when_its_depth_is_shallow(landmarker, grace):
    """With the depth shallower than the turn, undoing the turn left the face's sides unequal
    (the far brow's outer end 0.76 eye distances from the midline, the near one's 1.16), and the
    motion model's regions, measured from the midline, fell on other parts of the face: AU02, the
    outer brow raiser, lifted the near brow's inner end three times as far as the far one's."""
    front = landmarker.detect(grace)[0]
    turned = _shallow(_turned(front, 50.0))
    uv_front, uv_turned = face_uv(front)[0], face_uv(turned)[0]
    for a, b in ((33, 263), (107, 336), (70, 300), (234, 454), (61, 291)):
        assert abs(uv_turned[a, 0] + uv_turned[b, 0]) < 1e-6, (a, b, uv_turned[[a, b], 0])
        width = [abs(uv[b, 0] - uv[a, 0]) for uv in (uv_front, uv_turned)]
        assert abs(width[1] / width[0] - 1.0) < 0.15, (a, b, width)
    lift = -build_landmark_basis(turned)[au_index("AU02"), [107, 336], 1]
    assert abs(lift[0] / lift[1] - 1.0) < 0.1, lift  # was 0.54 and 1.71 px
