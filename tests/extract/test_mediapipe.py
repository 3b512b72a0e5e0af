"""The built-in MediaPipe extractor on a rendered smiling clip, and on clips without a face."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import numpy as np
import pytest
from extract_media import blank_frames, write_video

from espnet_cause.au import AU_NAMES, au_index
from espnet_cause.errors import CauseError
from espnet_cause.extract.mediapipe import MediaPipeAUExtractor
from espnet_cause.face.model_file import MODEL_SHA256, resolve_face_landmarker
from espnet_cause.io.cache import sha256_file as sha256sum


@pytest.fixture(scope="module")
def extractor():
    with MediaPipeAUExtractor() as ex:  # no path: the packaged model
        yield ex


def test_au12_rises_as_the_rendered_face_smiles(extractor, smile_video):
    """Acceptance: the rendered face starts neutral and smiles from 0.7 s on (AU12 0 -> 5 by 1.4 s)."""
    track = extractor(smile_video)
    assert len(track) == 72 and track.fps == pytest.approx(30.0)
    assert track.success.all()
    au12 = track.intensities[:, au_index("AU12")]
    third = len(au12) // 3
    first, last = au12[:third].mean(), au12[-third:].mean()
    # Measured: first third ~0.05, last third ~3.4 (on the 0-5 scale).
    assert last > first + 2.5
    assert last > 3.0 and first < 1.0
    # The smile is the dominant change: AU12 moves more than any other AU.
    change = np.abs(track.intensities[-third:].mean(0) - track.intensities[:third].mean(0))
    assert int(np.argmax(change)) == au_index("AU12")


def test_unthreaded_downscaled_and_subsampled_paths_agree(extractor, smile_video):
    clip = smile_video
    with MediaPipeAUExtractor(
        face_landmarker_path=extractor.model_path, threaded=False, max_side=320, max_fps=25
    ) as other:
        small = other(clip)
    full = extractor(clip)
    assert len(full) == 72 and len(small) == 60  # 30 fps video tracked at most 25 times a second
    au12 = au_index("AU12")
    on_grid = np.interp(small.timestamps, full.timestamps, full.intensities[:, au12])
    assert np.abs(small.intensities[:, au12] - on_grid).mean() < 0.5


def test_reused_landmarker_forgets_the_previous_video(extractor, smile_video, tmp_path):
    clip = smile_video
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


def test_model_file_resolution(tmp_path, face_model, monkeypatch):
    """Explicit path > cache > (--download) > the packaged model; nothing is fetched unasked."""
    from espnet_cause import assets

    assert sha256sum(face_model) == MODEL_SHA256  # the packaged file is the official one
    assert face_model.parent == Path(assets.__file__).parent
    own = tmp_path / "mine.task"
    own.write_bytes(face_model.read_bytes())
    assert resolve_face_landmarker(own) == own
    with pytest.raises(CauseError, match="nope.task.*not found"):
        resolve_face_landmarker(tmp_path / "nope.task")
    # No path, empty cache, no --download: the packaged model; nothing fetched or created.
    monkeypatch.setenv("ESPNET_CAUSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(urllib.request, "urlopen", _no_network)
    assert resolve_face_landmarker(None) == face_model
    assert not (tmp_path / "cache").exists()
    # A model in the cache (e.g. a newer one fetched with --download) wins over the packaged one.
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "face_landmarker.task").write_bytes(face_model.read_bytes())
    assert resolve_face_landmarker(None) == tmp_path / "cache" / "face_landmarker.task"


def _no_network(*args, **kwargs):
    raise AssertionError("resolve_face_landmarker must not download unless asked")


def test_not_a_model_is_an_error(tmp_path):
    bad = tmp_path / "bad.task"
    bad.write_bytes(b"not a model")
    with pytest.raises(CauseError, match="bad.task.*not a usable face landmarker model"):
        MediaPipeAUExtractor(face_landmarker_path=bad)


def test_blendshapes_and_head_pose_are_kept(extractor, smile_video):
    from espnet_cause.arkit import BLENDSHAPE_NAMES, MEDIAPIPE_CATEGORIES, blendshapes_to_aus

    track = extractor(smile_video)
    assert extractor.category_names == list(MEDIAPIPE_CATEGORIES)
    assert track.blendshapes.shape == (len(track), 51) and track.head_pose.shape == (len(track), 3)
    assert np.isfinite(track.blendshapes).all() and np.isfinite(track.head_pose).all()
    assert track.blendshapes.min() >= 0 and track.blendshapes.max() <= 1
    # the AUs are the table applied to the stored blendshapes, but AU25 (the lip gap)
    table = blendshapes_to_aus(track.blendshapes, BLENDSHAPE_NAMES)
    others = [i for i, name in enumerate(AU_NAMES) if name != "AU25"]
    np.testing.assert_allclose(table[:, others], track.intensities[:, others], atol=1e-5)
    smile = track.blendshapes[:, BLENDSHAPE_NAMES.index("mouthSmileLeft")]
    assert smile[-10:].mean() > smile[:10].mean() + 0.4
    # the rendered photo is a frontal face: within 30 degrees on every axis
    assert np.abs(track.head_pose).max() < 30


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


@pytest.mark.parametrize("size", [(426, 240), (1080, 1920)])
def test_face_found_at_odd_widths_and_portrait(extractor, demo_image, tmp_path, size):
    """A photo scaled to an odd-row-size frame (phone portrait, 240p) still shows its face."""
    import av

    from espnet_cause.io.image import load_image

    photo = load_image(demo_image)
    width, height = size
    frame = av.VideoFrame.from_ndarray(photo, format="rgb24").reformat(width, height, "rgb24")
    image = np.ascontiguousarray(frame.to_ndarray())
    track = extractor(write_video(tmp_path / f"face_{width}x{height}.mp4", [image] * 4))
    assert track.success.all(), track.success
