"""Frame grids of AU streams and feature extractors, and resampling between them.

Conventions (shared by labels, inference output and TTS export):

- An AU stream at ``fps`` has frame ``k`` at time ``k / fps`` seconds (as :class:`AUTrack`), and
  covers the frames whose time lies inside the audio: ``ceil(duration * fps)`` frames.
- A feature extractor with ``hop_length`` at ``fs`` and ``center=True`` (ESPnet's
  ``LogMelFbank``/``DefaultFrontend``, i.e. ``torch.stft(center=True)``) has frame ``k`` centred at
  sample ``k * hop_length`` and ``1 + num_samples // hop_length`` frames for an even ``n_fft``.

Resampling is linear interpolation by timestamp; times outside the source hold the edge value.
"""

from __future__ import annotations

import math

import numpy as np

from espnet_cause.au import NUM_AUS
from espnet_cause.errors import CauseError

#: Tolerance (in frames) for floating-point error when a duration is an exact number of frames.
FRAME_EPS = 1e-6


def _check_rate(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise CauseError(f"{name} must be a positive number, got {value}", fix=f"pass {name} > 0")


def num_frames_for_fps(duration_s: float, fps: float) -> int:
    """Frames of a stream at ``fps`` whose time ``k / fps`` lies inside ``[0, duration_s)``.

    Args:
        duration_s: Length of the audio in seconds.
        fps: Frame rate.

    Returns:
        ``ceil(duration_s * fps)`` (0 for an empty signal); 4 s at 25 fps gives 100.
    """
    _check_rate("fps", fps)
    if duration_s <= 0:
        return 0
    return max(1, int(math.ceil(duration_s * fps - FRAME_EPS)))


def pool_window(k: int, ratio: int, num_feats: int | None = None) -> tuple[int, int]:
    """The feature frames ``[lo, hi)`` that average into AU frame ``k``.

    The window is ``ratio`` frames centred on the AU frame (as
    :func:`espnet_cause.models.frame_rate.avg_pool_frames` pools offline); AU frames past the end
    of a finished stream of ``num_feats`` frames repeat the last window that still holds a frame.
    ``num_feats`` is None while streaming.
    """
    half = ratio // 2
    if num_feats is not None:
        k = min(k, (num_feats - 1 + half) // ratio)
    lo, hi = max(k * ratio - half, 0), k * ratio + ratio - half
    return lo, hi if num_feats is None else min(hi, num_feats)


def pooled_rows(feats, feat_base: int, ks: range, ratio: int, num_feats: int | None) -> list:
    """The averaged feature rows of AU frames ``ks`` (:func:`pool_window` each), for streamers.

    Args:
        feats: (F, D) the feature frames a streamer still holds (numpy array or tensor).
        feat_base: Index of ``feats[0]`` in the whole stream.
        ks: The AU frames to pool.
        ratio: Feature frames per AU frame.
        num_feats: Total feature frames of the finished stream (None while streaming).

    Returns:
        One (D,) row per AU frame.
    """
    rows = []
    for k in ks:
        lo, hi = pool_window(k, ratio, num_feats)
        rows.append(feats[lo - feat_base : hi - feat_base].mean(0))
    return rows


def drop_pooled(feats, feat_base: int, next_out: int, ratio: int) -> tuple:
    """Drop the held feature frames that no window from AU frame ``next_out`` on needs.

    Returns:
        ``(feats, feat_base)`` after the drop (unchanged when nothing can go).
    """
    keep_from = pool_window(next_out, ratio)[0]
    if keep_from <= feat_base:
        return feats, feat_base
    return feats[keep_from - feat_base :], keep_from


def num_frames_for_samples(num_samples: int, fs: int, fps: float) -> int:
    """:func:`num_frames_for_fps` of a signal of ``num_samples`` at ``fs``: the AU frames of
    ``num_samples`` samples, ``ceil(num_samples / fs * fps)`` (0 for an empty signal)."""
    _check_rate("fs", fs)
    return num_frames_for_fps(num_samples / fs, fps)


def num_frames_for_hop(
    num_samples: int,
    fs: int,
    hop_length: int,
    center: bool = True,
    n_fft: int | None = None,
) -> int:
    """Frame count of ESPnet's STFT-based feature extractors (``espnet2.layers.stft.Stft``).

    Args:
        num_samples: Signal length in samples at ``fs``.
        fs: Sampling rate (only checked; the count depends on samples and hop).
        hop_length: Hop in samples.
        center: ``torch.stft(center=True)`` pads ``n_fft // 2`` samples on both sides.
        n_fft: FFT size; needed for ``center=False`` and for odd sizes. None means even.

    Returns:
        ``(num_samples + 2 * (n_fft // 2) - n_fft) // hop_length + 1`` as ESPnet computes the
        output lengths, i.e. ``1 + num_samples // hop_length`` for ``center=True`` and even n_fft.
    """
    _check_rate("fs", fs)
    if hop_length <= 0:
        raise CauseError(f"hop_length must be positive, got {hop_length}", fix="pass hop > 0")
    if center:
        odd = 1 if (n_fft is not None and n_fft % 2) else 0
        return max(0, (num_samples - odd) // hop_length + 1)
    if n_fft is None:
        raise ValueError("n_fft is needed to count frames with center=False")
    return max(0, (num_samples - n_fft) // hop_length + 1)


def frame_times_fps(num_frames: int, fps: float) -> np.ndarray:
    """(num_frames,) float64 times ``k / fps`` in seconds."""
    _check_rate("fps", fps)
    return np.arange(num_frames, dtype=np.float64) / fps


def frame_times_hop(num_frames: int, fs: int, hop_length: int) -> np.ndarray:
    """(num_frames,) float64 centre times ``k * hop_length / fs`` of centred STFT frames."""
    _check_rate("fs", fs)
    return np.arange(num_frames, dtype=np.float64) * hop_length / fs


def interpolate_frames(
    values: np.ndarray, src_times: np.ndarray, dst_times: np.ndarray
) -> np.ndarray:
    """The one linear resampler of frame streams: ``values`` at ``src_times`` -> ``dst_times``.

    Every AU, blendshape or head-pose stream is resampled here: regular streams by
    :func:`resample_au` (:func:`to_fps`, :func:`to_hop_grid`), tracks with timestamps and gaps by
    :meth:`espnet_cause.io.track.AUTrack.resample`.

    Args:
        values: (T, D) frames.
        src_times: (T,) their times in seconds, increasing.
        dst_times: (T',) times to sample; those outside ``src_times`` hold the first/last frame.

    Returns:
        (T', D) float32.
    """
    values = np.asarray(values, dtype=np.float32)
    src = np.asarray(src_times, dtype=np.float64)
    dst = np.asarray(dst_times, dtype=np.float64)
    if len(values) == 0:
        if len(dst):
            raise ValueError("cannot resample an empty stream onto a non-empty grid")
        return np.zeros((0, values.shape[1]), np.float32)
    left = np.clip(np.searchsorted(src, dst, side="right") - 1, 0, len(src) - 1)
    right = np.minimum(left + 1, len(src) - 1)
    span = src[right] - src[left]
    at = np.clip(dst, src[0], src[-1])
    w = np.where(span > 0, (at - src[left]) / np.where(span > 0, span, 1.0), 0.0)[:, None]
    return (values[left] * (1.0 - w) + values[right] * w).astype(np.float32)


def resample_au(aus: np.ndarray, src_fps: float, dst_times: np.ndarray) -> np.ndarray:
    """Linearly interpolate an AU stream at ``src_fps`` onto arbitrary times.

    Any number of columns works the same way (a (T, 51) blendshape track, for instance).

    Args:
        aus: (T, 17) AU intensities (or (T, D) other frame values), frame ``k`` at
            ``k / src_fps``.
        src_fps: Frame rate of ``aus``.
        dst_times: (T',) times in seconds; those outside the source hold its first/last frame.

    Returns:
        (T', 17) float32.
    """
    _check_rate("src_fps", src_fps)
    aus = np.asarray(aus, dtype=np.float32)
    if aus.ndim != 2:
        raise ValueError(f"AU array has shape {aus.shape}, expected (T, {NUM_AUS}) or (T, D)")
    return interpolate_frames(aus, frame_times_fps(len(aus), src_fps), dst_times)


def to_fps(aus: np.ndarray, src_fps: float, dst_fps: float, duration_s: float) -> np.ndarray:
    """Resample to ``dst_fps`` over ``duration_s``: ``num_frames_for_fps(duration_s, dst_fps)``."""
    n = num_frames_for_fps(duration_s, dst_fps)
    return resample_au(aus, src_fps, frame_times_fps(n, dst_fps))


def to_hop_grid(
    aus: np.ndarray,
    src_fps: float,
    num_samples: int,
    fs: int,
    hop_length: int,
    n_fft: int | None = None,
) -> np.ndarray:
    """Resample onto the frames of a centred STFT feature extractor, one row per feature frame.

    Args:
        aus: (T, 17) AU stream at ``src_fps``.
        src_fps: Its frame rate.
        num_samples: Length of the audio at ``fs`` (not at the model's rate).
        fs: Sampling rate of the feature extractor.
        hop_length: Its hop in samples.
        n_fft: Its FFT size when odd (see :func:`num_frames_for_hop`).

    Returns:
        (num_frames_for_hop(num_samples, fs, hop_length), 17) float32.
    """
    n = num_frames_for_hop(num_samples, fs, hop_length, center=True, n_fft=n_fft)
    return resample_au(aus, src_fps, frame_times_hop(n, fs, hop_length))
