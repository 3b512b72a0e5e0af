"""PyAV video I/O: frames with timestamps, stream info, audio track, and bad files."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from espnet_cause.errors import CauseError
from espnet_cause.io.video import iter_frames, read_audio_track, scaled_size, video_info

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "extract"))
from extract_media import blank_frames, write_video  # noqa: E402


def test_info_frames_and_audio_of_rendered_clip(smile_video):
    clip = smile_video  # H.264 + AAC, made by the project's renderer and mp4 writer (conftest)
    info = video_info(clip)
    assert (info.width, info.height) == (640, 600)
    assert info.fps == pytest.approx(30.0)
    assert info.has_audio
    assert 2.3 < info.duration < 2.5

    stamps, shapes = [], set()
    for t, image in iter_frames(clip, max_side=320):
        stamps.append(t)
        shapes.add(image.shape)
    assert shapes == {(300, 320, 3)}  # longer side 320, aspect kept
    assert stamps[0] == 0.0
    assert np.allclose(np.diff(stamps), 1 / 30, atol=1e-3)
    assert len(stamps) == 72

    # At most one frame per 1/25 s bin: 2.4 s of 30 fps video -> 60 frames.
    sub = [t for t, _ in iter_frames(clip, max_fps=25)]
    assert len(sub) == 60 and sub[0] == 0.0 and np.all(np.diff(sub) > 0)
    assert np.all(np.diff(np.floor(np.array(sub) * 25 + 1e-6)) == 1)

    audio = read_audio_track(clip, sample_rate=16000)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) / 16000 - 2.4) < 0.05
    assert 0 < np.abs(audio).max() <= 1.0


def test_written_clip_round_trips(tmp_path):
    path = write_video(tmp_path / "tone.mp4", blank_frames(10), audio_seconds=0.4)
    info = video_info(path)
    assert info.has_audio and info.fps == pytest.approx(25.0)
    assert len(list(iter_frames(path))) == 10
    audio = read_audio_track(path)
    assert abs(len(audio) / 16000 - 0.4) < 0.08


def test_scaled_size_keeps_aspect_and_even():
    assert scaled_size(640, 360, 320) == (320, 180)
    assert scaled_size(640, 360, None) == (640, 360)
    assert scaled_size(100, 50, 640) == (100, 50)
    w, h = scaled_size(1279, 719, 333)
    assert w % 2 == 0 and h % 2 == 0 and max(w, h) <= 334


def test_errors_name_the_file(tmp_path):
    with pytest.raises(CauseError, match="not found"):
        video_info(tmp_path / "missing.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    with pytest.raises(CauseError, match="junk.mp4.*cannot open"):
        list(iter_frames(junk))
    silent = write_video(tmp_path / "silent.mp4", blank_frames(3))
    with pytest.raises(CauseError, match="silent.mp4.*no audio track"):
        read_audio_track(silent)
    wav = tmp_path / "tone.wav"
    import soundfile as sf

    sf.write(wav, np.zeros(1600, np.float32), 16000)
    with pytest.raises(CauseError, match="tone.wav.*no video stream"):
        video_info(wav)
    assert len(read_audio_track(wav)) == 1600  # plain audio files work too


@pytest.mark.parametrize("size", [(426, 240), (1080, 1920), (640, 480)])
@pytest.mark.parametrize("max_side", [None, 640])
def test_frames_are_contiguous_at_any_width(tmp_path, size, max_side):
    """FFmpeg pads rows (426 px rgb24 -> 1296-byte rows); frames must not carry that padding."""
    width, height = size
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (height, width, 3), dtype=np.uint8) for _ in range(2)]
    clip = write_video(tmp_path / "odd.mp4", frames)
    decoded = list(iter_frames(clip, max_side=max_side))
    assert len(decoded) == 2
    for _, image in decoded:
        assert image.flags["C_CONTIGUOUS"], image.strides
        assert image.strides == (image.shape[1] * 3, 3, 1)
