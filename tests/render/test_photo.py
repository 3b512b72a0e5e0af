"""Any photo a user has: read once, several faces (each with its own AUs, only the chosen one
moves), large photos (worked on around the face), and the pixel limit."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from made_fixtures import au_row

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.errors import CauseError
from espnet_cause.render.face_geometry import face_frame, lip_gap
from espnet_cause.render.photo import MAX_IMAGE_PIXELS, read_face_photo
from espnet_cause.render.prepared_face import SUPPORT_MARGIN
from espnet_cause.render.warp import WarpRenderer


@pytest.fixture(scope="module")
def smiling(landmarker_path, grace):
    """The demo photo made into an open-mouthed smile by the renderer itself (as offsets)."""
    renderer = WarpRenderer(landmarker_path, absolute=False)
    image = next(renderer.render(grace, au_row(AU06=2, AU12=4, AU25=4, AU26=3)[None]))
    renderer.close()
    return image


@pytest.fixture(scope="module")
def two_faces(landmarker, grace, smiling):
    """The demo face (neutral, larger) on the left, the smiling one (smaller) right beside it."""
    x0, y0, x1, y1 = landmarker.detect(grace)[0].bbox
    pad = 0.25 * (x1 - x0)
    box = (slice(int(y0 - pad), int(y1 + pad)), slice(int(x0 - pad), int(x1 + pad)))
    left = grace[box]
    right = cv2.resize(smiling[box], None, fx=0.8, fy=0.8, interpolation=cv2.INTER_AREA)
    canvas = np.full((left.shape[0], left.shape[1] + right.shape[1], 3), 90, np.uint8)
    canvas[:, : left.shape[1]] = left
    canvas[: right.shape[0], left.shape[1] :] = right
    return canvas


def test_faces_are_numbered_by_size_and_read_their_ownau_row(landmarker_path, two_faces):
    first = read_face_photo(two_faces, 0, face_landmarker_path=landmarker_path)
    second = read_face_photo(two_faces, 1, face_landmarker_path=landmarker_path)
    assert first.face.area > second.face.area  # 0 is the largest
    assert first.face.bbox[0] < second.face.bbox[0]
    assert len(first.others) == len(second.others) == 1
    smile, mouth = au_index("AU12"), au_index("AU26")
    assert second.aus[smile] > first.aus[smile] + 1.0  # the smiling face's own AUs
    assert second.aus[mouth] > first.aus[mouth] + 0.5
    with pytest.raises(CauseError, match="has 2 face"):
        read_face_photo(two_faces, 2, face_landmarker_path=landmarker_path)


def test_only_the_chosen_face_moves(landmarker_path, two_faces):
    """Driving face 1 (with head motion and a wide-open mouth) changes no pixel of face 0 and
    none farther than the support margin from face 1's outline."""
    photo = read_face_photo(two_faces, 1, face_landmarker_path=landmarker_path)
    renderer = WarpRenderer(head_motion=2.0, seed=3)
    renderer.prepare_photo(photo)
    aus = np.repeat(au_row(AU12=0, AU25=5, AU26=5, AU01=4, AU02=4)[None], 12, axis=0)
    changed = np.zeros(two_faces.shape[:2], bool)
    for frame in renderer.frames(aus):
        changed |= (frame != two_faces).any(axis=2)
    assert changed.sum() > 1000  # the face moved
    other = photo.others[0]
    x0, y0, x1, y1 = (int(v) for v in other.bbox)
    assert not changed[y0:y1, x0:x1].any()
    hull = np.zeros(two_faces.shape[:2], np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(photo.face.points).astype(np.int32)), 1)
    distance = cv2.distanceTransform(1 - hull, cv2.DIST_L2, 5)
    unit = face_frame(photo.face)[3]
    assert not changed[distance > (SUPPORT_MARGIN + 0.05) * unit].any()


def test_large_open_mouth_photo_closes_without_error(landmarker_path, landmarker, grace, smiling):
    """A 3024x3024 open-mouth portrait (the demo's smile, cropped to the face and upscaled):
    closing the mouth covers more than 32767 interior pixels (cv2's SHRT_MAX failed there)."""
    x0, y0, x1, y1 = landmarker.detect(grace)[0].bbox
    pad = 0.3 * (x1 - x0)
    crop = smiling[int(y0 - pad) : int(y1 + pad), int(x0 - pad) : int(x1 + pad)]
    big = cv2.resize(crop, (3024, 3024), interpolation=cv2.INTER_CUBIC)
    photo = read_face_photo(big, face_landmarker_path=landmarker_path)
    assert lip_gap(photo.face).max() > 0.05  # open mouth
    renderer = WarpRenderer(head_motion=1.0)
    renderer.prepare_photo(photo)
    closed = list(renderer.frames(np.zeros((2, NUM_AUS), np.float32)))[-1]
    assert closed.shape == big.shape
    again = read_face_photo(closed, face_landmarker_path=landmarker_path)
    assert lip_gap(again.face).max() < 0.5 * lip_gap(photo.face).max()


def test_pixel_limit_on_decoded_images(landmarker_path):
    with pytest.raises(CauseError, match="megapixels"):
        read_face_photo(np.zeros((100, 100, 3), np.uint8), max_pixels=9_999)
    assert MAX_IMAGE_PIXELS >= 24_000_000  # a 6000x4000 camera photo is accepted


def test_a_given_face_gets_its_ownau_row(landmarker_path, landmarker, two_faces):
    """prepare() with a face found without blendshapes reads that face's AUs, not zeros."""
    face = landmarker.detect(two_faces)[1]
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(two_faces, face=face)
    expected = read_face_photo(two_faces, 1, face_landmarker_path=landmarker_path).aus
    np.testing.assert_allclose(renderer.photo_aus, expected, atol=1e-4)
    renderer.close()


def test_the_same_face_cut_with_more_or_less_margin_reads_the_same(
    landmarker_path, landmarker, grace
):
    """The photo's own AUs do not depend on the framing: the demo face cut with a quarter and a
    half of its size as margin, and the whole photo padded, read within 0.4 of each other on
    every AU (a read on the whole photo differed by up to 0.85, AU07)."""
    x0, y0, x1, y1 = landmarker.detect(grace)[0].bbox
    side = max(x1 - x0, y1 - y0)
    cuts = [
        grace[int(y0 - m * side) : int(y1 + m * side), int(x0 - m * side) : int(x1 + m * side)]
        for m in (0.25, 0.5)
    ]
    cuts.append(
        cv2.copyMakeBorder(grace, 150, 150, 150, 150, cv2.BORDER_CONSTANT, value=(128,) * 3)
    )
    reads = np.array([read_face_photo(c, face_landmarker_path=landmarker_path).aus for c in cuts])
    spread = reads.max(axis=0) - reads.min(axis=0)
    assert spread.max() < 0.4, spread
    assert spread.mean() < 0.06, spread
