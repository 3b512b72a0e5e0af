"""Small media files for the extraction tests, written with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

FPS = 25
SAMPLE_RATE = 16000


def write_video(
    path: Path,
    frames: list[np.ndarray],
    *,
    fps: int = FPS,
    audio_seconds: float | None = None,
) -> Path:
    """Encode RGB frames (H, W, 3 uint8) as mp4, with a 220 Hz tone of ``audio_seconds``."""
    import av

    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        video = out.add_stream("mpeg4", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = None
        if audio_seconds is not None:
            audio = out.add_stream("aac", rate=SAMPLE_RATE)
            audio.layout = "mono"
        for image in frames:
            for packet in video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if audio is not None:
            n = int(audio_seconds * SAMPLE_RATE)
            tone = (0.3 * np.sin(2 * np.pi * 220 * np.arange(n) / SAMPLE_RATE)).astype(np.float32)
            block = 1024
            for start in range(0, n, block):
                chunk = tone[start : start + block]
                frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
                frame.sample_rate = SAMPLE_RATE
                frame.pts = start
                frame.time_base = Fraction(1, SAMPLE_RATE)
                for packet in audio.encode(frame):
                    out.mux(packet)
            for packet in audio.encode():
                out.mux(packet)
    return path


def video_frames(src: Path, num_frames: int) -> list[np.ndarray]:
    """The first ``num_frames`` RGB frames of a video."""
    from espnet_cause.io.video import iter_frames

    frames = []
    for _, image in iter_frames(src):
        frames.append(image)
        if len(frames) == num_frames:
            break
    return frames


def blank_frames(num_frames: int, size: tuple[int, int] = (96, 128)) -> list[np.ndarray]:
    """Flat grey frames: no face anywhere."""
    return [np.full((*size, 3), 128, dtype=np.uint8) for _ in range(num_frames)]
