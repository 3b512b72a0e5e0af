"""Write frames (and speech) as an H.264 + AAC mp4 with PyAV, atomically."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np

from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.audio import pcm_to_float

logger = logging.getLogger(__name__)

#: x264 constant rate factor (lower is better quality; 18-23 is visually good).
DEFAULT_CRF = 20
#: x264 speed preset.
DEFAULT_PRESET = "veryfast"
#: AAC bit rate in bits per second.
AUDIO_BIT_RATE = 96_000
#: Output suffixes and the FFmpeg muxer that writes H.264 + AAC in that container.
CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
#: Sample rates the AAC encoder accepts.
AAC_SAMPLE_RATES = (
    8000,
    11025,
    12000,
    16000,
    22050,
    24000,
    32000,
    44100,
    48000,
    64000,
    88200,
    96000,
)


def _even(frame: np.ndarray) -> np.ndarray:
    """Pad the right/bottom edge by one replicated pixel where a side is odd (yuv420p needs even)."""
    height, width = frame.shape[:2]
    if height % 2 or width % 2:
        frame = np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
    return frame


def _audio_array(audio: np.ndarray) -> np.ndarray:
    """(channels, samples) float32 in [-1, 1] from (N,), (N, C) or integer PCM."""

    audio = pcm_to_float(audio)
    if audio.ndim == 1:
        audio = audio[None]
    elif audio.ndim == 2 and audio.shape[0] > audio.shape[1]:
        audio = audio.T  # (N, C) -> (C, N)
    if audio.ndim != 2 or audio.shape[0] > 2:
        raise CauseError(f"audio has shape {audio.shape}, expected mono or stereo samples")
    return np.ascontiguousarray(np.clip(audio, -1.0, 1.0))


def container_format(path: str | os.PathLike) -> str:
    """The muxer for a video output by its suffix (:data:`CONTAINERS`).

    Raises:
        CauseError: naming the path when its suffix is not a container written here.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in CONTAINERS:
        raise CauseError(
            f"{suffix or 'no suffix'!r} is not a video container this writes "
            f"(H.264 + AAC in {', '.join(CONTAINERS)})",
            path=path,
            fix="name the output like out.mp4",
        )
    return CONTAINERS[suffix]


def write_mp4(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    fps: float,
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
) -> int:
    """Encode RGB frames as H.264 (yuv420p) with optional AAC audio; the file appears whole.

    The video lasts ``len(frames) / fps`` seconds and the audio as long as ``audio``; give as many
    frames as the speech needs (``round(duration * fps)``) for equal durations.

    Args:
        path: Output video (written to a temporary file, then renamed); its suffix picks the
            container (:data:`CONTAINERS`: ``.mp4``, ``.m4v``, ``.mov``, ``.mkv``).
        frames: Iterable of (H, W, 3) uint8 RGB frames, all the same size. Odd sides are padded
            by one pixel.
        fps: Video frame rate.
        audio: (N,), (N, C) or (C, N) samples, float in [-1, 1] or integer PCM; None for no audio.
        sample_rate: Audio sample rate in Hz (required with ``audio``).
        crf: x264 quality (constant rate factor).
        preset: x264 speed preset.

    Returns:
        Number of video frames written.
    """
    import av

    if fps <= 0:
        raise CauseError(f"frame rate must be positive, got {fps}", fix="use --fps 25")
    if audio is not None:
        if sample_rate is None:
            raise ValueError("sample_rate is required with audio")
        audio = _audio_array(audio)
        if sample_rate not in AAC_SAMPLE_RATES:
            audio, sample_rate = _resample_for_aac(audio, sample_rate)
    path = Path(path)
    muxer = container_format(path)
    count = 0
    with atomic_write(path) as tmp:
        with av.open(str(tmp), mode="w", format=muxer) as container:
            video = None
            audio_stream = None
            if audio is not None:
                layout = "mono" if audio.shape[0] == 1 else "stereo"
                audio_stream = container.add_stream("aac", rate=sample_rate, layout=layout)
                audio_stream.bit_rate = AUDIO_BIT_RATE
            for frame in frames:
                frame = np.asarray(frame)
                if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
                    raise ValueError(
                        f"frame {count} has {frame.shape} {frame.dtype}, need HxWx3 u8"
                    )
                frame = _even(frame)
                if video is None:
                    video = container.add_stream(
                        "libx264",
                        rate=Fraction(fps).limit_denominator(1001),
                        options={"crf": str(crf), "preset": preset},
                    )
                    video.width, video.height = frame.shape[1], frame.shape[0]
                    video.pix_fmt = "yuv420p"
                elif (frame.shape[1], frame.shape[0]) != (video.width, video.height):
                    raise ValueError(f"frame {count} has size {frame.shape[:2]}, not the first's")
                vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                vf.pts = count
                container.mux(video.encode(vf))
                count += 1
            if video is None:
                raise CauseError("no video frames to write", path=path)
            container.mux(video.encode())
            if audio_stream is not None:
                _encode_audio(container, audio_stream, audio, sample_rate)
    logger.info("wrote %s (%d frames at %g fps)", path, count, fps)
    return count


def _encode_audio(container, stream, audio: np.ndarray, sample_rate: int) -> None:
    import av

    chunk = 1024 * 16
    layout = "mono" if audio.shape[0] == 1 else "stereo"
    for start in range(0, audio.shape[1], chunk):
        part = np.ascontiguousarray(audio[:, start : start + chunk])
        af = av.AudioFrame.from_ndarray(part, format="fltp", layout=layout)
        af.sample_rate = sample_rate
        af.pts = start
        af.time_base = Fraction(1, sample_rate)
        container.mux(stream.encode(af))
    container.mux(stream.encode())


def _resample_for_aac(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, int]:
    """Resample to 48 kHz (polyphase) when the rate is not one AAC supports."""
    from scipy.signal import resample_poly

    target = 48000
    g = np.gcd(target, sample_rate)
    logger.info("resampling audio %d Hz -> %d Hz for AAC", sample_rate, target)
    out = resample_poly(audio, target // g, sample_rate // g, axis=1).astype(np.float32)
    return np.clip(out, -1.0, 1.0), target
