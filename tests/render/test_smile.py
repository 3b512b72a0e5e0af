"""The lip corners and the upper lip: undoing a photo's own smile (AU12 below the photo's) and the
upper lip raiser (AU10)."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.face.landmarker import Face
from espnet_cause.render.face_geometry import INNER_LOWER_LIP, INNER_UPPER_LIP, NOSE, face_uv
from espnet_cause.render.motion_closure import NEUTRAL_MOUTH_WIDTH
from espnet_cause.render.warp import WarpRenderer
from espnet_cause.render.warp_motion import build_landmark_basis

AU10, AU12 = au_index("AU10"), au_index("AU12")
CORNERS = [61, 291]


@pytest.fixture(scope="module")
def broad_smile(landmarker, grace):
    """The demo photo's landmarks drawn into a broad smile: the lip corners raised 3 units of the
    renderer's AU12 and drawn out 5 units (a smile widens the mouth more than AU12 draws it)."""
    face = landmarker.detect(grace)[0]
    au12 = build_landmark_basis(face)[AU12]
    ey = face_uv(face)[2]
    up = (au12 @ ey)[:, None] * ey[None]
    landmarks = face.landmarks.copy()
    landmarks[:, :2] += 3.0 * up + 5.0 * (au12 - up)
    return Face(landmarks)


def _moved(landmarker_path, grace, face, own: dict[str, float], target: dict[str, float]):
    """(478, 2) landmarks (pixels) of ``face`` read as ``own`` and driven to ``target``."""
    photo_aus = np.zeros(NUM_AUS, np.float32)
    for name, value in own.items():
        photo_aus[au_index(name)] = value
    row = np.zeros(NUM_AUS, np.float32)
    for name, value in target.items():
        row[au_index(name)] = value
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(grace, face=face, photo_aus=photo_aus)
    moved = renderer._prepared.moved_points(row)
    renderer.close()
    return moved


def _corners(points: np.ndarray) -> tuple[float, float]:
    """The lip corners' height above the mouth centre and the mouth's width (eye distances)."""
    uv = face_uv(Face(np.asarray(points, np.float32)))[0]
    return -float(uv[CORNERS, 1].mean()), float(uv[CORNERS[1], 0] - uv[CORNERS[0], 0])


def test_undoing_a_smile_is_proportional(landmarker_path, grace, broad_smile):
    """A photo read as AU12 4.5 whose corners may come down only part of it (further, a frown):
    every AU12 target below the photo's moves the corners (the reversal was clamped: targets
    0-1.6 all rendered the same mouth, a dead zone the tracker read as 0)."""
    own = {"AU12": 4.5}
    heights = [_corners(_moved(landmarker_path, grace, broad_smile, own, {"AU12": t}))[0]
               for t in (0.0, 0.5, 1.0, 2.0, 4.5)]  # fmt: skip
    assert np.all(np.diff(heights) > 0.002), heights
    assert heights[-1] == pytest.approx(_corners(broad_smile.points)[0], abs=1e-3)


def test_undoing_a_broad_smile_draws_the_corners_in_to_a_resting_width(
    landmarker_path, grace, broad_smile
):
    """AU12 0 on a broad smile brings the mouth back to a resting width (drawn in only by the
    photo's AU12 units, it stayed wider than any unsmiling dev photo's mouth but one and the
    tracker still read a smile); a mouth already at a resting width is not narrowed."""
    wide = _corners(broad_smile.points)[1]
    assert wide > NEUTRAL_MOUTH_WIDTH + 0.2  # the photo's smile widens the mouth
    width = _corners(_moved(landmarker_path, grace, broad_smile, {"AU12": 4.5}, {}))[1]
    assert width == pytest.approx(NEUTRAL_MOUTH_WIDTH, abs=0.01)
    half = _corners(_moved(landmarker_path, grace, broad_smile, {"AU12": 4.5}, {"AU12": 2.25}))[1]
    assert half == pytest.approx(0.5 * (wide + NEUTRAL_MOUTH_WIDTH), abs=0.01)  # in proportion


def test_undoing_a_slight_smile_keeps_a_resting_mouth_width(landmarker_path, landmarker, grace):
    face = landmarker.detect(grace)[0]
    own = _corners(face.points)[1]
    assert own > NEUTRAL_MOUTH_WIDTH  # the demo photo's mouth, a little wider than the rest width
    width = _corners(_moved(landmarker_path, grace, face, {"AU12": 2.0}, {}))[1]
    assert NEUTRAL_MOUTH_WIDTH - 0.005 < width < own


def test_the_upper_lip_rises_under_a_still_nose(landmarker, grace):
    """AU10 lifts the upper lip towards the nose: the nose stays (it followed the lip, so the lip
    kept its distance to the nose: AU10 at 4 read 0.33 on MEAD surprised closed, 0.47 now)."""
    face = landmarker.detect(grace)[0]
    au10 = build_landmark_basis(face)[AU10]
    assert np.abs(au10[list(NOSE)]).max() < 1e-6
    assert au10[0, 1] < -0.02 * face_uv(face)[3]  # the upper lip's middle rises


def test_the_upper_lip_rises_off_a_closed_over_mouth(landmarker_path, landmarker, smiling):
    """An open-mouth photo driven closed (AU25 = AU26 = 0) has its lips pressed past touching;
    AU10 releases the press like the mouth AUs do, so the raised upper lip parts from the lower
    one (pressed, AU10 at 1 left them overlapping and the tracker read AU10 at 4 as 0.0-0.1)."""
    face = landmarker.detect(smiling)[0]
    own = {"AU25": 2.0, "AU26": 2.0}
    closed = _moved(landmarker_path, smiling, face, own, {})
    raised = _moved(landmarker_path, smiling, face, own, {"AU10": 1.0})

    def gap(points: np.ndarray) -> float:
        return float((points[list(INNER_LOWER_LIP)] - points[list(INNER_UPPER_LIP)])[5, 1])

    assert gap(closed) < 0.0  # pressed past touching
    assert gap(raised) > 0.0


def test_a_raised_upper_lip_shows_the_photos_interior(landmarker_path, green_mouth):
    """AU10 above the photo's on a closed-over open mouth shows the interior under the raised lip
    (the cover that hides the interior as the lips close covered it: nothing showed)."""
    photo, face = green_mouth
    own = np.zeros(NUM_AUS, np.float32)
    own[au_index("AU25")] = own[au_index("AU26")] = 1.0
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(photo, face=face, photo_aus=own)
    raised = np.zeros((1, NUM_AUS), np.float32)
    raised[0, AU10] = 4.0
    frame = next(renderer.render(photo, raised)).astype(int)
    renderer.close()
    assert ((frame[..., 1] - np.maximum(frame[..., 0], frame[..., 2])) > 40).sum() > 30
