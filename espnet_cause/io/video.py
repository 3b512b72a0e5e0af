"""Video in: decoded RGB frames with timestamps, stream information, and the audio track.

Everything goes through PyAV (``av``), imported when a function is called, so that importing this
module stays cheap. Times are in seconds from the start of the video stream (its first frame is at
0), which is also how OpenFace and the built-in extractor time-stamp AU frames.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from espnet_cause.errors import CauseError

logger = logging.getLogger(__name__)

#: Sample rate of the audio the recipes use (Hz).
AUDIO_SAMPLE_RATE = 16000
#: PyAV decoder threading: "AUTO" lets FFmpeg use frame and slice threads.
DECODE_THREAD_TYPE = "AUTO"
#: Frames are scaled to even sizes (what most pixel formats and encoders need).
_EVEN = 2


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """What a video file holds.

    Attributes:
        path: The file.
        fps: Average frame rate of the video stream.
        duration: Length of the video stream in seconds (container duration if unknown).
        width: Frame width in pixels.
        height: Frame height in pixels.
        num_frames: Frame count from the container (0 if the container does not say).
        has_audio: Whether the file has an audio stream.
    """

    path: str
    fps: float
    duration: float
    width: int
    height: int
    num_frames: int
    has_audio: bool


def _open(path: str | os.PathLike):
    """Open a media file with PyAV; CauseError naming the file if it is missing or unreadable."""
    import av

    path = Path(path)
    if not path.is_file():
        raise CauseError("video file not found", path=path, fix="check the path")
    try:
        return av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as e:
        raise CauseError(
            f"cannot open as a video (corrupt or not a media file): {e}",
            path=path,
            fix="check the file plays (ffprobe FILE); re-encode or re-download it",
        ) from None


def _video_stream(container, path):
    if not container.streams.video:
        raise CauseError("no video stream", path=path, fix="give a file with a video track")
    return container.streams.video[0]


def video_info(path: str | os.PathLike) -> VideoInfo:
    """Read stream information without decoding frames.

    Raises:
        CauseError: naming the file if it cannot be opened or has no video stream.
    """
    with _open(path) as container:
        stream = _video_stream(container, path)
        fps = float(stream.average_rate or stream.guessed_rate or 0.0)
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000  # av.time_base is microseconds
        else:
            duration = 0.0
        return VideoInfo(
            path=str(path),
            fps=fps,
            duration=duration,
            width=int(stream.codec_context.width),
            height=int(stream.codec_context.height),
            num_frames=int(stream.frames or 0),
            has_audio=bool(container.streams.audio),
        )


def scaled_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """Frame size with the longer side at most ``max_side`` (aspect kept, even numbers).

    Args:
        width: Source width.
        height: Source height.
        max_side: Longest side wanted; None or a larger value keeps the size.
    """
    if not max_side or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    w = max(_EVEN, int(round(width * scale / _EVEN)) * _EVEN)
    h = max(_EVEN, int(round(height * scale / _EVEN)) * _EVEN)
    return w, h


def iter_frames(
    path: str | os.PathLike, *, max_side: int | None = None, max_fps: float | None = None
) -> Iterator[tuple[float, np.ndarray]]:
    """Decode the first video stream as RGB frames.

    Args:
        path: The video file.
        max_side: Downscale frames so that their longer side is at most this (done by FFmpeg's
            scaler during the RGB conversion, which is cheaper than scaling afterwards).
        max_fps: Yield at most one frame per ``1 / max_fps`` seconds bin (the first frame in
            each bin; all frames are still decoded). None yields every frame.

    Yields:
        ``(timestamp, frame)``: seconds from the first frame, and a C-contiguous (H, W, 3)
        uint8 RGB array (whatever the width; FFmpeg's row padding is removed).

    Raises:
        CauseError: naming the file if it cannot be opened, has no video stream, or is corrupt
            before any frame could be decoded. Corruption later in the file ends the iteration
            with a warning (the frames before it are good).
    """
    import av

    with _open(path) as container:
        stream = _video_stream(container, path)
        stream.thread_type = DECODE_THREAD_TYPE
        time_base = float(stream.time_base) if stream.time_base is not None else None
        start = stream.start_time
        width, height = scaled_size(
            int(stream.codec_context.width), int(stream.codec_context.height), max_side
        )
        fps = float(stream.average_rate or stream.guessed_rate or 0.0)
        first_pts = None
        n = 0
        last_bin = -1
        try:
            for frame in container.decode(stream):
                if frame.pts is not None and time_base is not None:
                    if first_pts is None:
                        first_pts = start if start is not None else frame.pts
                    t = (frame.pts - first_pts) * time_base
                else:  # no timing in the stream: count frames
                    t = n / fps if fps else float(n)
                n += 1
                if max_fps:
                    time_bin = int(np.floor(t * max_fps + 1e-6))
                    if time_bin <= last_bin:
                        continue
                    last_bin = time_bin
                image = frame.to_ndarray(format="rgb24", width=width, height=height)
                # FFmpeg pads each row to an alignment (e.g. 426 px -> 1296 bytes, not 1278):
                # to_ndarray returns a strided view, which readers of raw buffers such as
                # mp.Image would read with the padding as pixels.
                yield float(t), np.ascontiguousarray(image)
        except av.FFmpegError as e:
            if n == 0:
                raise CauseError(
                    f"corrupt video, no frame could be decoded: {e}",
                    path=path,
                    fix="check the file plays (ffprobe FILE); re-encode or re-download it",
                ) from None
            logger.warning("%s: decoding stopped after %d frames: %s", path, n, e)
        if n == 0:
            raise CauseError(
                "the video stream has no decodable frames",
                path=path,
                fix="check the file plays (ffprobe FILE); re-encode or re-download it",
            )


def read_audio_track(
    path: str | os.PathLike, *, sample_rate: int = AUDIO_SAMPLE_RATE
) -> np.ndarray:
    """Decode the first audio stream of a media file as mono float32 at ``sample_rate``.

    Works on video containers and on plain audio files alike (any format FFmpeg reads).

    Args:
        path: The file.
        sample_rate: Output sample rate in Hz.

    Returns:
        (N,) float32 samples in [-1, 1].

    Raises:
        CauseError: naming the file if it cannot be opened, has no audio stream, or its audio
            cannot be decoded.
    """
    import av

    with _open(path) as container:
        if not container.streams.audio:
            raise CauseError(
                "no audio track",
                path=path,
                fix="give a video recorded with sound (audio is the model input)",
            )
        stream = container.streams.audio[0]
        stream.thread_type = DECODE_THREAD_TYPE
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        chunks: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                frame.pts = None  # let the resampler follow sample counts, not jumpy pts
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):  # flush
                chunks.append(out.to_ndarray().reshape(-1))
        except av.FFmpegError as e:
            if not chunks:
                raise CauseError(
                    f"corrupt audio track: {e}", path=path, fix="re-encode or re-download the file"
                ) from None
            logger.warning("%s: audio decoding stopped early: %s", path, e)
    if not chunks:
        raise CauseError("the audio track has no samples", path=path, fix="check the recording")
    return np.concatenate(chunks).astype(np.float32, copy=False)
