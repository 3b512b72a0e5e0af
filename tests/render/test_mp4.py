"""write_mp4: H.264 + AAC, durations, even sizes, atomic output."""

from __future__ import annotations

import av
import numpy as np
import pytest

from espnet_cause.io.mp4 import write_mp4


def _streams(path):
    with av.open(str(path)) as container:
        info = {
            s.type: (s.codec_context.name, s, float(s.duration * s.time_base))
            for s in container.streams
        }
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        return info, frames, container.streams.video[0].average_rate


def test_video_and_audio_durations(tmp_path):
    sr, seconds, fps = 16000, 1.52, 25
    audio = (0.3 * np.sin(2 * np.pi * 220 * np.arange(int(sr * seconds)) / sr)).astype(np.float32)
    n = round(seconds * fps)
    frames = [np.full((61, 45, 3), 10 * i % 255, np.uint8) for i in range(n)]
    out = tmp_path / "a.mp4"
    assert write_mp4(out, iter(frames), fps, audio=audio, sample_rate=sr) == n
    info, decoded, rate = _streams(out)
    assert info["video"][0] == "h264" and info["audio"][0] == "aac"
    assert rate == fps
    assert len(decoded) == n
    assert decoded[0].shape == (62, 46, 3)  # odd sides padded to even
    assert abs(info["audio"][2] - seconds) < 0.1
    assert abs(info["video"][2] - seconds) < 0.1
    assert info["audio"][1].sample_rate == sr
    # content survives encoding
    assert abs(decoded[5].astype(float).mean() - 50) < 3


def test_video_only_and_atomic(tmp_path):
    out = tmp_path / "v.mp4"
    write_mp4(out, [np.zeros((32, 32, 3), np.uint8)] * 5, 10)
    info, decoded, _ = _streams(out)
    assert set(info) == {"video"} and len(decoded) == 5

    def broken():
        yield np.zeros((32, 32, 3), np.uint8)
        raise RuntimeError("renderer failed")

    target = tmp_path / "broken.mp4"
    with pytest.raises(RuntimeError):
        write_mp4(target, broken(), 25)
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["v.mp4"]  # no temp file left


def test_unusual_sample_rate_is_resampled(tmp_path):
    sr = 15000
    audio = np.zeros(sr, np.float32)
    out = tmp_path / "r.mp4"
    write_mp4(out, [np.zeros((16, 16, 3), np.uint8)] * 25, 25, audio=audio, sample_rate=sr)
    info, _, _ = _streams(out)
    assert abs(info["audio"][2] - 1.0) < 0.1
