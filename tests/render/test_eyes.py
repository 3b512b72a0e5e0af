"""The lids: a blink closes the eye wherever the other lid AUs put the lids."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.face.landmarker import Face
from espnet_cause.render.face_geometry import EYE_LOWER, EYE_UPPER, IRISES, face_uv, lid_opening
from espnet_cause.render.neutralise import NEUTRAL_LID_OPENING
from espnet_cause.render.warp import WarpRenderer
from espnet_cause.render.warp_motion import build_landmark_basis

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
    return prepared.moved_points(row.astype(np.float32))


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


def test_relaxing_a_squint_stops_at_a_neutral_opening(squinting):
    """AU07 and AU45 driven to 0 on a squinting photo open its eyes at most to
    NEUTRAL_LID_OPENING (undone in full, the demo photo's eyes opened to 0.63 of their width, wider
    than a surprised face's), in proportion on the way (no dead zone), and the photo's own AUs
    leave the lids where they are."""
    prepared, face = squinting
    photo = lid_opening(face.points)
    row = np.zeros(NUM_AUS, np.float32)
    relaxed = lid_opening(_moved(prepared, row))
    assert photo + 0.03 < relaxed <= NEUTRAL_LID_OPENING + 0.01
    row[au_index("AU07")] = 3.1 / 2  # half the photo's squint, the blink at 0: about half way
    half = lid_opening(_moved(prepared, row))
    assert photo < half < relaxed
    assert abs(half - (photo + relaxed) / 2) < 0.25 * (relaxed - photo)
    row[au_index("AU07")], row[au_index("AU45")] = 3.1, 0.3
    assert abs(lid_opening(_moved(prepared, row)) - photo) < 1e-3


def test_a_blink_brings_the_upper_lid_down_to_a_still_lower_lid(landmarker, grace):
    """AU45 closes the eye with the upper lid (FACS): the lower lid stays (it rose 0.15 of the
    gap, as in a squint, and the tracker read the closing eye as AU07)."""
    basis = build_landmark_basis(landmarker.detect(grace)[0])[au_index("AU45")]
    for up, lo in LID_MIDDLES:
        assert basis[up, 1] > 0.0  # down (image y)
        assert abs(basis[lo, 1]) < 0.02 * basis[up, 1]


def test_the_cheek_raiser_narrows_the_eye_less_than_the_lid_tightener(landmarker, grace):
    """AU06 pushes the lower lid up at most a third as far as AU07 does (half as far before: the
    tracker, which never reads AU06, read that raise as a squint)."""
    basis = build_landmark_basis(landmarker.detect(grace)[0])
    for _, lo in LID_MIDDLES:
        cheek, tighten = -basis[au_index("AU06"), lo, 1], -basis[au_index("AU07"), lo, 1]
        assert 0.0 < cheek < tighten / 3


def test_a_small_faces_blink_keeps_the_lower_lid_still(landmarker_path, landmarker, grace):
    """A face 70 px tall (eye distance 24 px, a face in a group photo): the displacement field the
    renderer stores on its grid (upsampled as
    :meth:`~espnet_cause.render.prepared_face.PreparedFace.source_map` does) moves the upper lid's
    middle down in a blink and leaves the lower lid's middle, 3 px under it, still.
    Before, the grid's nodes were 2 px apart on any face (0.08 eye distances here), the field
    between the lids was smoothed across them, the lower lid moved 0.22-0.27 of the upper lid's
    way and the blink closed the eye half way (single_closed at this size: AU45 at 4 read back
    1.0, 2.0 rendered at full size and scaled down)."""
    face = landmarker.detect(grace)[0]
    scale = 24.0 / face_uv(face)[3]
    small = cv2.resize(grace, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(
        small,
        face=Face(face.landmarks * np.float32(scale)),
        photo_aus=np.zeros(NUM_AUS, np.float32),
    )
    p = renderer._prepared
    renderer.close()
    blink = au_index("AU45")
    (gh, gw), (rw, rh) = p.grid_shape, p.roi_size
    field = cv2.resize(p.fields[blink].reshape(gh, gw, 2), (rw, rh), interpolation=cv2.INTER_LINEAR)
    points = (p.points - np.array([p.x0, p.y0], np.float32)).astype(np.float32)
    down = cv2.remap(field[..., 1], points[:, 0:1], points[:, 1:2], cv2.INTER_LINEAR)[:, 0]
    for up, lo in LID_MIDDLES:
        assert down[up] > 0.5 * p.basis[blink, up, 1] > 0.0
        assert abs(down[lo]) < 0.15 * down[up], (down[lo], down[up])


def _lid_lines(points: np.ndarray, upper, lower, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The heights of an eye's upper and lower lid contours at the positions ``xs``."""
    lines = []
    for contour in (upper, lower):
        p = points[list(contour)]
        order = np.argsort(p[:, 0])
        lines.append(np.interp(xs, p[order, 0], p[order, 1]))
    return lines[0], lines[1]


@pytest.mark.parametrize("au", ["AU05", "AU07"])
def test_a_moving_lid_never_crosses_the_iris_landmarks(landmarker, grace, au):
    """MediaPipe places the whole iris circle, under the lids too. The iris landmarks the photo's
    upper lid covers stay above it when AU05 raises it (held still, the raised lid's middle went
    0.03-0.06 eye distances past them: the field folded, a notch in the lash line), and the
    visible ones stay between the lids when AU07 raises the lower lid (it went past the
    bottom of the iris). AU07 at 3 on top of the demo photo's own squint (3.1) nearly closes the
    eye; further, the lids themselves would meet."""
    face = landmarker.detect(grace)[0]
    basis = build_landmark_basis(face)
    moved = face.points + (5.0 if au == "AU05" else 3.0) * basis[au_index(au)]
    covered = 0
    for upper, lower, iris in zip(EYE_UPPER, EYE_LOWER, IRISES, strict=True):
        xs = face.points[list(iris), 0]
        top, bottom = _lid_lines(face.points, upper, lower, xs)
        new_top, new_bottom = _lid_lines(moved, upper, lower, moved[list(iris), 0])
        y, new_y = face.points[list(iris), 1], moved[list(iris), 1]
        above = y < top
        covered += int(above.sum())
        assert (new_y[above] < new_top[above]).all()
        between = ~above & (y < bottom)
        assert (new_y[between] >= new_top[between] - 1e-3).all()
        assert (new_y[between] <= new_bottom[between] + 1e-3).all()
    assert covered >= 2  # the demo photo's upper lids cover the top of each iris


def _opening_mask(points: np.ndarray, shape: tuple[int, int], inset: int) -> np.ndarray:
    """(H, W) bool: inside both eyes' lid outlines, ``inset`` pixels in from them."""
    mask = np.zeros(shape, np.uint8)
    for upper, lower in zip(EYE_UPPER, EYE_LOWER, strict=True):
        outline = points[list(upper) + list(lower[::-1])]
        cv2.fillPoly(mask, [np.round(outline).astype(np.int32)], 1)
    return cv2.erode(mask, np.ones((2 * inset + 1,) * 2, np.uint8)).astype(bool)


@pytest.mark.parametrize("au, value", [("AU07", 1.0), ("AU45", 1.5)])
def test_a_closing_lid_covers_a_still_eyeball(landmarker_path, landmarker, grace, au, value):
    """The lower lid rising (AU07) and the upper lid coming down (a blink on its way) slide over
    the eyeball: what of the eye stays open shows the photo's eye where it was (the warp squeezed
    the iris between the lids into an oval: a mean difference of 3.2 grey levels there under
    AU07 at 1, 18 under AU45 at 1.5)."""
    face = landmarker.detect(grace)[0]
    renderer = WarpRenderer(landmarker_path, absolute=False)
    renderer.prepare(grace, face=face, photo_aus=np.zeros(NUM_AUS, np.float32))
    row = np.zeros(NUM_AUS, np.float32)
    row[au_index(au)] = value
    frame = renderer.frame(row)
    moved = renderer._prepared.moved_points(row)
    renderer.close()
    # pixels in from both outlines (the lash lines stay the warp's; the demo photo's eye distance
    # is 82 px, its eyes 10-11 px open)
    still = _opening_mask(moved, grace.shape[:2], 2) & _opening_mask(
        face.points, grace.shape[:2], 3
    )
    assert still.sum() > 40
    diff = np.abs(frame.astype(np.float32) - grace.astype(np.float32))[still].mean()
    assert diff < 1.0, diff
