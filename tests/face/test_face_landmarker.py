"""Face detection, face choice, large/gray/alpha photos and the aligned crop."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from espnet_cause.errors import CauseError
from espnet_cause.face.align import CROP_EYES, align_crop
from espnet_cause.face.landmarker import NUM_LANDMARKS, find_face
from espnet_cause.io.image import load_image, to_rgb


def test_detects_grace_hopper(landmarker, grace):
    faces = landmarker.detect(grace)
    assert len(faces) == 1
    pts = faces[0].points
    assert pts.shape == (NUM_LANDMARKS, 2)
    height, width = grace.shape[:2]
    assert (pts[:, 0] > 0).all() and (pts[:, 0] < width).all()
    assert (pts[:, 1] > 0).all() and (pts[:, 1] < height).all()
    left, right = faces[0].eye_centers()
    assert left[0] < right[0]
    assert 40 < np.linalg.norm(right - left) < 200


def test_no_face_is_an_error_naming_the_image(landmarker):
    noise = np.random.default_rng(0).integers(0, 256, (320, 300, 3), dtype=np.uint8)
    with pytest.raises(CauseError, match="no face") as info:
        find_face(landmarker, noise, source="noise.png")
    assert "noise.png" in str(info.value)


def test_two_faces_largest_first_and_face_index(landmarker, grace):
    small = cv2.resize(grace, (grace.shape[1] // 2, grace.shape[0] // 2))
    canvas = np.full((grace.shape[0], grace.shape[1] + small.shape[1], 3), 255, np.uint8)
    canvas[:, : grace.shape[1]] = grace
    canvas[: small.shape[0], grace.shape[1] :] = small
    faces = landmarker.detect(canvas)
    assert len(faces) == 2
    assert faces[0].area > 2 * faces[1].area
    big = find_face(landmarker, canvas)
    assert big.points[:, 0].max() < grace.shape[1]
    second = find_face(landmarker, canvas, face_index=1)
    assert second.points[:, 0].min() > grace.shape[1]
    with pytest.raises(CauseError, match="face_index"):
        find_face(landmarker, canvas, face_index=2)


def test_large_image_detected_in_original_coordinates(landmarker, grace):
    big = cv2.resize(grace, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)  # 2400 x 2048
    assert max(big.shape[:2]) > landmarker.max_detect_side
    small_face = landmarker.detect(grace)[0]
    big_face = landmarker.detect(big)[0]
    ref = small_face.points * 4
    err = np.median(np.linalg.norm(big_face.points - ref, axis=1))
    assert err < 0.03 * (ref[:, 0].max() - ref[:, 0].min())


def test_gray_and_alpha_images_become_rgb(landmarker, grace, tmp_path):
    gray = cv2.cvtColor(grace, cv2.COLOR_RGB2GRAY)
    assert to_rgb(gray).shape == grace.shape
    rgba = np.concatenate([grace, np.full(grace.shape[:2] + (1,), 255, np.uint8)], axis=2)
    assert np.array_equal(to_rgb(rgba), grace)
    clear = rgba.copy()
    clear[..., 3] = 0
    assert (to_rgb(clear) == 255).all()  # transparent -> white
    cv2.imwrite(str(tmp_path / "gray.png"), gray)
    cv2.imwrite(str(tmp_path / "rgba.png"), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    for name in ("gray.png", "rgba.png"):
        image = load_image(tmp_path / name)
        assert image.shape == grace.shape and image.dtype == np.uint8
        assert len(landmarker.detect(image)) == 1


def test_unreadable_image(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(CauseError, match="bad.jpg"):
        load_image(bad)
    with pytest.raises(CauseError, match="not found"):
        load_image(tmp_path / "missing.jpg")


def test_align_crop_puts_eyes_in_place(landmarker, grace):
    face = landmarker.detect(grace)[0]
    crop, matrix = align_crop(grace, face, 128)
    assert crop.shape == (128, 128, 3)
    left, right = face.eye_centers()
    moved = np.array([left, right]) @ matrix[:, :2].T + matrix[:, 2]
    want = np.array([[CROP_EYES[0], CROP_EYES[2]], [CROP_EYES[1], CROP_EYES[2]]]) * 128
    assert np.abs(moved - want).max() < 1e-3


def test_a_collected_landmarker_is_closed_later_not_in_the_collector(grace):
    # MediaPipe's close blocks on its dispatcher thread: run from the garbage collector inside
    # another library's call it deadlocked the suite, so __del__ only hands the graph on.
    import gc

    from espnet_cause.face import landmarker as lm

    first = lm.FaceLandmarker()
    graph = first._landmarker
    del first
    gc.collect()
    assert graph in lm._PENDING  # not closed by the collector
    second = lm.FaceLandmarker()  # opening the next one closes it
    assert graph not in lm._PENDING and not lm._PENDING
    assert len(find_face(second, grace).landmarks) == NUM_LANDMARKS
    second.close()


def test_a_landmarker_in_a_reference_cycle_is_not_closed_by_mediapipe_in_the_collector():
    # The collector calls every finalizer of a garbage cycle, MediaPipe's own __del__ (which
    # closes and waits on a thread) included, unless the graph is still held: it is, by _GRAPHS.
    import gc

    from espnet_cause.face import landmarker as lm

    first = lm.FaceLandmarker()
    first.cycle = first
    graph = first._landmarker
    del first
    gc.collect()
    assert graph._handle is not None  # MediaPipe's finalizer did not run
    assert graph in lm._PENDING and graph in lm._GRAPHS
    lm.close_pending()
    assert graph._handle is None and graph not in lm._GRAPHS
