"""A face turned away from the camera, or tilted up or down, moves as the same face seen from the
front would, foreshortened as the turned or tilted face shows it."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_cause.au import au_index
from espnet_cause.face.landmarker import Face
from espnet_cause.render.warp_motion import (
    BLINK_FULL,
    CHIN,
    CLOSE_PRESS,
    EYE_LOWER,
    EYE_UPPER,
    INNER_LOWER_LIP,
    OUTER_LOWER_LIP,
    build_closure_basis,
    build_landmark_basis,
    face_frame,
    face_uv,
)

LAYOUT = [159, 386, 145, 374, 107, 336, 70, 300, 13, 14, 61, 291, 152]  # lids, brows, lips, chin


def _tilted(face: Face, degrees: float) -> Face:
    """The same landmarks tilted about the horizontal axis through the nose tip (orthographic;
    degrees > 0: the chin away from the camera, the face looking down)."""
    points = face.landmarks.astype(np.float64)
    pivot = points[1]
    a = np.radians(degrees)
    rel = points - pivot
    y = rel[:, 1] * np.cos(a) - rel[:, 2] * np.sin(a)
    z = rel[:, 1] * np.sin(a) + rel[:, 2] * np.cos(a)
    return Face(np.stack([rel[:, 0], y, z], 1).astype(np.float32) + pivot.astype(np.float32))


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
    # across the face the motion shrinks with the turn, as the face's own width does (on average
    # over the two lip corners: the far one more, the near one less, see below)
    side = [
        np.abs(build_landmark_basis(f)[au_index("AU20"), [61, 291], 0]) for f in (front, turned)
    ]
    assert 0.5 < float(np.mean(side[1] / side[0])) < 0.8, side
    # face units are the frontal face's: the lip corners as far apart as seen from the front
    width = [float(np.ptp(face_uv(f)[0][[61, 291], 0])) for f in (front, turned)]
    assert abs(width[1] / width[0] - 1.0) < 0.1, width


def test_landmarks_without_depth_count_as_frontal(landmarker, grace):
    front = landmarker.detect(grace)[0]
    flat = Face(front.points.copy())
    assert np.isclose(face_frame(flat)[3], np.linalg.norm(np.subtract(*flat.eye_centers())))


def test_the_far_side_of_a_turned_face_shows_its_motions_compressed(landmarker, grace):
    """The face curves away on the far side of a turn: a pull across it (the lip corners out, in,
    the brows together) shows shorter there than on the near side, which faces the camera (the
    surface's own slope, fitted from the landmarks' depth). It was drawn alike on both sides."""
    front = landmarker.detect(grace)[0]
    turned = _turned(front, 50.0)  # the subject's right side (lip corner 61, brow 55) turns away
    for au, far, near in (
        ("AU20", 61, 291),
        ("AU14", 61, 291),
        ("AU04", 55, 285),
    ):
        k = au_index(au)
        shown = [np.abs(build_landmark_basis(f)[k, [far, near], 0]) for f in (front, turned)]
        far_share, near_share = shown[1] / shown[0]
        assert far_share < 0.8 * near_share, (au, far_share, near_share)
        assert far_share < np.cos(np.radians(50.0)) < near_share + 0.15, (au, far_share, near_share)


def test_a_tilted_face_shows_its_vertical_motions_foreshortened(landmarker, grace):
    """Tilted 35 degrees up or down, a face keeps its size and its layout in face units, and its
    vertical motions (the jaw, the brows, the lids, the lips) are foreshortened: by cos 35 on
    average over the two tilts (the surface's slope adds as much to one as it takes from the
    other), more looking down under the mouth, where the face slopes back to the chin. Before,
    they were drawn at full length and the layout was the image's (the brows 0.2 too low)."""
    front = landmarker.detect(grace)[0]
    down, up = _tilted(front, 35.0), _tilted(front, -35.0)
    uv = face_uv(front)[0][LAYOUT]
    bases = {}
    for name, face in (("front", front), ("down", down), ("up", up)):
        assert abs(face_frame(face)[3] / face_frame(front)[3] - 1.0) < 0.03
        if name != "front":
            assert abs(np.linalg.norm(face_frame(face)[2]) - np.cos(np.radians(35.0))) < 0.05
            assert np.abs(face_uv(face)[0][LAYOUT] - uv).max() < 0.05, name
        bases[name] = build_landmark_basis(face)
    cosine = np.cos(np.radians(35.0))
    for au, landmark in (
        ("AU26", 152),
        ("AU01", 107),
        ("AU02", 70),
        ("AU05", 159),
        ("AU45", 159),
        ("AU10", 0),
        ("AU15", 291),
        ("AU17", 18),
        ("AU25", 14),
    ):
        k = au_index(au)
        front_v, down_v, up_v = (float(bases[n][k, landmark, 1]) for n in ("front", "down", "up"))
        assert abs(0.5 * (down_v + up_v) / front_v - cosine) < 0.05, (au, down_v, up_v, front_v)
    chin = au_index("AU26")
    assert bases["down"][chin, 152, 1] < 0.8 * bases["up"][chin, 152, 1]


def test_a_face_that_faces_the_camera_moves_as_in_its_image(landmarker, grace):
    """A face turned and tilted within the tolerances (the demo photo, and the same tilted 8
    degrees more) moves exactly as if its landmarks had no depth: frontal photos render as
    before, bit for bit."""
    front = landmarker.detect(grace)[0]
    for face in (front, _tilted(front, 8.0), _tilted(front, -8.0)):
        flat = Face(face.landmarks * np.array([1.0, 1.0, 0.0], np.float32))
        assert np.array_equal(build_landmark_basis(face), build_landmark_basis(flat))
        ex, ey = face_frame(face)[1:3]
        assert float(ex @ ey) == 0.0 and float(ey @ ey) == pytest.approx(1.0, abs=1e-6)


def test_a_tilted_face_closes_its_lids_and_lips_in_the_image(landmarker, grace):
    """Closing a gap moves one landmark onto another, across the gap the image shows: tilted,
    the blink (AU45 at its full intensity) brings the upper lid onto the lower one, and the mouth
    closure brings the lips together pressed CLOSE_PRESS past touching (measured in 3-D, with the
    surface's smooth slope, the blink closed 1.25 times the gap on a face looking down 20 degrees:
    the upper lid ran past the lower one)."""
    front = landmarker.detect(grace)[0]
    unit = face_frame(front)[3]
    opened = front.landmarks.copy()
    below = np.array(INNER_LOWER_LIP[1:-1] + OUTER_LOWER_LIP[1:-1] + CHIN)
    opened[below, 1] += 0.15 * unit  # the demo photo's mouth opened, before the tilt
    for degrees in (35.0, -35.0):
        face = _tilted(front, degrees)
        ey = face_frame(face)[2]
        down = ey / np.linalg.norm(ey)  # the image's direction down the face
        closed = face.points + BLINK_FULL * build_landmark_basis(face)[au_index("AU45")]
        across = np.array([down[1], -down[0]])
        for upper, lower in zip(EYE_UPPER, EYE_LOWER, strict=True):
            # the lower lid's contour under the closed upper lid's middle
            x, v = closed[list(lower)] @ across, closed[list(lower)] @ down
            order = np.argsort(x)
            under = np.interp(closed[upper[4]] @ across, x[order], v[order])
            left = float(under - closed[upper[4]] @ down) / unit
            assert abs(left) < 0.005, (degrees, left)
        mouth = _tilted(Face(opened), degrees)
        before = (mouth.points[14] - mouth.points[13]) @ down
        shut = mouth.points + build_closure_basis(mouth)
        after = (shut[14] - shut[13]) @ down
        assert abs(after - (1.0 - CLOSE_PRESS) * before) < 0.05 * before, (degrees, before, after)
