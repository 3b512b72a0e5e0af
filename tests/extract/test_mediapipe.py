"""The built-in MediaPipe extractor on a real clip, and on clips without a face."""

from __future__ import annotations

import numpy as np
import pytest
from extract_media import blank_frames, write_video

from espnet_cause.au import au_index
from espnet_cause.errors import CauseError
from espnet_cause.extract.mediapipe import (
    MODEL_SHA256,
    MediaPipeAUExtractor,
    resolve_face_landmarker,
    sha256sum,
)


@pytest.fixture(scope="module")
def extractor(request):
    shared = request.getfixturevalue("shared")
    with MediaPipeAUExtractor(face_landmarker_path=shared("models/face_landmarker.task")) as ex:
        yield ex


def test_au12_rises_as_the_man_smiles(extractor, shared):
    """Acceptance: the man in the clip starts neutral and smiles from about 0.7 s on."""
    track = extractor(shared("fixtures/video/single_face.mp4"))
    assert len(track) == 72 and track.fps == pytest.approx(30.0)
    assert track.success.all()
    au12 = track.intensities[:, au_index("AU12")]
    third = len(au12) // 3
    first, last = au12[:third].mean(), au12[-third:].mean()
    # Measured: first third ~0.2, last third ~4.3 (on the 0-5 scale).
    assert last > first + 2.5
    assert last > 3.0 and first < 1.0
    # The smile is the dominant change: AU12 moves more than any other AU.
    change = np.abs(track.intensities[-third:].mean(0) - track.intensities[:third].mean(0))
    assert int(np.argmax(change)) == au_index("AU12")


def test_unthreaded_downscaled_and_subsampled_paths_agree(extractor, shared):
    clip = shared("fixtures/video/single_face.mp4")
    with MediaPipeAUExtractor(
        face_landmarker_path=extractor.model_path, threaded=False, max_side=320, max_fps=25
    ) as other:
        small = other(clip)
    full = extractor(clip)
    assert len(full) == 72 and len(small) == 60  # 30 fps video tracked at most 25 times a second
    au12 = au_index("AU12")
    on_grid = np.interp(small.timestamps, full.timestamps, full.intensities[:, au12])
    assert np.abs(small.intensities[:, au12] - on_grid).mean() < 0.5


def test_reused_landmarker_forgets_the_previous_video(extractor, shared, tmp_path):
    clip = shared("fixtures/video/single_face.mp4")
    fresh = MediaPipeAUExtractor(face_landmarker_path=extractor.model_path)
    first = fresh(clip)
    # After a video that ends smiling, then a video without a face, the clip reads the same.
    with pytest.raises(CauseError):
        fresh(write_video(tmp_path / "blank.mp4", blank_frames(4)))
    again = fresh(clip)
    fresh.close()
    assert np.abs(again.intensities - first.intensities).max() < 0.05
    assert np.array_equal(again.timestamps, first.timestamps)


def test_no_face_in_any_frame_is_an_error(extractor, tmp_path):
    clip = write_video(tmp_path / "blank.mp4", blank_frames(8), audio_seconds=0.3)
    with pytest.raises(CauseError, match="blank.mp4.*no face found in any of the 8 frames"):
        extractor(clip)


def test_model_file_resolution(tmp_path, shared, monkeypatch):
    model = shared("models/face_landmarker.task")
    assert sha256sum(model) == MODEL_SHA256
    assert resolve_face_landmarker(model) == model
    with pytest.raises(CauseError, match="not found"):
        resolve_face_landmarker(tmp_path / "nope.task")
    # No path, empty cache, no --download: a message saying how to get it; nothing fetched.
    monkeypatch.setenv("ESPNET_CAUSE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(CauseError, match="--download"):
        resolve_face_landmarker(None)
    assert not (tmp_path / "cache").exists()
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "face_landmarker.task").write_bytes(model.read_bytes())
    assert resolve_face_landmarker(None) == tmp_path / "cache" / "face_landmarker.task"


def test_not_a_model_is_an_error(tmp_path):
    bad = tmp_path / "bad.task"
    bad.write_bytes(b"not a model")
    with pytest.raises(CauseError, match="bad.task.*not a usable face landmarker model"):
        MediaPipeAUExtractor(face_landmarker_path=bad)


def test_blendshapes_and_head_pose_are_kept(extractor, shared):
    from espnet_cause.arkit import BLENDSHAPE_NAMES, MEDIAPIPE_CATEGORIES, blendshapes_to_aus

    track = extractor(shared("fixtures/video/single_face.mp4"))
    assert extractor.category_names == list(MEDIAPIPE_CATEGORIES)
    assert track.blendshapes.shape == (len(track), 51) and track.head_pose.shape == (len(track), 3)
    assert np.isfinite(track.blendshapes).all() and np.isfinite(track.head_pose).all()
    assert track.blendshapes.min() >= 0 and track.blendshapes.max() <= 1
    # the AUs are the table applied to the stored blendshapes
    np.testing.assert_allclose(
        blendshapes_to_aus(track.blendshapes, BLENDSHAPE_NAMES), track.intensities, atol=1e-5
    )
    smile = track.blendshapes[:, BLENDSHAPE_NAMES.index("mouthSmileLeft")]
    assert smile[-10:].mean() > smile[:10].mean() + 0.4
    # a roughly frontal face: within 30 degrees on every axis, and it moves a little
    assert np.abs(track.head_pose).max() < 30 and track.head_pose.std(axis=0).max() > 0.1


def test_head_pose_from_matrix_inverts_the_documented_rotation():
    from espnet_cause.extract.mediapipe import head_pose_from_matrix

    yaw, pitch, roll = np.radians([20.0, -10.0, 5.0])
    cy, sy, cp, sp, cr, sr = (
        np.cos(yaw),
        np.sin(yaw),
        np.cos(pitch),
        np.sin(pitch),
        np.cos(roll),
        np.sin(roll),
    )
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    m = np.eye(4)
    m[:3, :3] = 1.7 * ry @ rx @ rz  # with a scale, as MediaPipe's matrices have
    m[:3, 3] = [1, 2, -30]
    np.testing.assert_allclose(head_pose_from_matrix(m), [20.0, -10.0, 5.0], atol=1e-4)
