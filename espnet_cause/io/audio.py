"""Speech audio in and out: any sample rate, mono or multi-channel, read into float32 mono.

One function per job: :func:`read_wav_entry` reads a ``wav.scp`` value (a sound file, a Kaldi
``file.ark:offset`` or a ``cmd |`` pipe), :func:`load_audio` a sound file, :func:`pcm_to_float`
scales integer PCM, :func:`mix_down` averages channels, :func:`resample` changes the rate.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import numpy as np

from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write

logger = logging.getLogger(__name__)


def resample(samples: np.ndarray, src_sr: int, dst_sr: int) -> np.ndarray:
    """Resample a 1-D float signal with a polyphase filter.

    Args:
        samples: (N,) float32 signal.
        src_sr: Its sample rate.
        dst_sr: The wanted sample rate.

    Returns:
        (round(N * dst_sr / src_sr),) float32 signal.
    """
    if src_sr == dst_sr:
        return samples.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    g = math.gcd(int(src_sr), int(dst_sr))
    out = resample_poly(samples.astype(np.float64), dst_sr // g, src_sr // g)
    return out.astype(np.float32)


def pcm_to_float(samples: np.ndarray) -> np.ndarray:
    """Integer PCM to float32 in [-1, 1) (as libsndfile reads it); float input is returned as is.

    Signed samples are divided by ``2**(bits-1)``; unsigned ones (8-bit wav) are centred first.
    """
    samples = np.asarray(samples)
    if samples.dtype.kind == "i":
        return samples.astype(np.float32) / float(-np.iinfo(samples.dtype).min)
    if samples.dtype.kind == "u":
        half = float(np.iinfo(samples.dtype).max // 2 + 1)
        return (samples.astype(np.float32) - half) / half
    return samples.astype(np.float32, copy=False)


def mix_down(
    samples: np.ndarray, name: str = "input", channel_axis: int | None = None
) -> np.ndarray:
    """(N,), (N, C) or (C, N) samples -> (N,) float32 mono.

    Args:
        samples: The samples.
        name: How to call the input in messages.
        channel_axis: The axis of the channels of a 2-D array; None takes the shorter one.

    Raises:
        CauseError: naming ``name`` for an array of another rank.
    """
    samples = np.asarray(samples)
    if samples.ndim == 1:
        return samples.astype(np.float32, copy=False)
    if samples.ndim != 2:
        raise CauseError(f"{name}: audio array has shape {samples.shape}, expected (N,) or (N, C)")
    axis = channel_axis
    if axis is None:
        axis = 1 if samples.shape[1] <= samples.shape[0] else 0
    if samples.shape[axis] > 1:
        logger.info("%s: mixing %d channels down to mono", name, samples.shape[axis])
    return samples.mean(axis=axis).astype(np.float32)


def read_wav_entry(
    value: str, name: str | None = None, target_sr: int | None = None
) -> tuple[np.ndarray, int]:
    """Read one ``wav.scp`` value as float32 mono.

    Args:
        value: A sound file path, a Kaldi ark offset (``/a/b.ark:123``) or a command whose
            output is a wav (``sox x.flac -t wav - |``).
        name: How to call the input in messages (default: the value).
        target_sr: Resample to this rate; None keeps the entry's rate.

    Returns:
        (N,) float32 samples in [-1, 1] and their sample rate.

    Raises:
        CauseError: naming the entry when it cannot be read.
    """
    from espnet_cause.io.datadir import value_path

    value = value.strip()
    label = name or value
    path = value_path(value)
    if path == value:
        return load_audio(value, target_sr, name=label)
    import kaldiio

    try:
        rate, data = kaldiio.load_mat(value)
    except Exception as e:  # kaldiio raises several types for failed commands and bad offsets
        raise CauseError(
            f"cannot read wav.scp entry {value!r}: {e}",
            path=label,
            fix="check the command or the ark file and offset",
        ) from None
    samples = mix_down(pcm_to_float(data), label, channel_axis=1)  # kaldiio: (N,) or (N, C)
    if target_sr is not None and rate != target_sr:
        logger.info("%s: resampling %d Hz -> %d Hz", label, rate, target_sr)
        samples, rate = resample(samples, rate, target_sr), target_sr
    return samples, int(rate)


def load_audio(
    path: str | os.PathLike, target_sr: int | None = None, *, name: str | None = None
) -> tuple[np.ndarray, int]:
    """Read a sound file as float32 mono, mixing channels down and resampling when asked.

    Both conversions are logged, so a user sees what happened to their input.

    Args:
        path: A file soundfile can read (wav, flac, ogg, ...).
        target_sr: Resample to this rate; None keeps the file's rate.
        name: How to call the input in messages (default: the path).

    Returns:
        (N,) float32 samples in [-1, 1] and their sample rate.

    Raises:
        CauseError: naming the file when it is missing, unreadable or has no samples.
    """
    import soundfile as sf

    path = Path(path)
    label = name or str(path)
    if not path.is_file():
        raise CauseError("audio file not found", path=path, fix="check the path")
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, ValueError) as e:
        raise CauseError(
            f"cannot read audio: {e}",
            path=path,
            fix="give a wav/flac/ogg file (16 kHz mono is best)",
        ) from None
    samples = mix_down(data, label, channel_axis=1)
    if target_sr is not None and sr != target_sr:
        logger.info("%s: resampling %d Hz -> %d Hz", label, sr, target_sr)
        samples = resample(samples, sr, target_sr)
        sr = target_sr
    return samples, int(sr)


def check_speech(samples: np.ndarray, sr: int, min_seconds: float, path: str | None = None) -> None:
    """Reject audio that no model can use: empty, NaN/Inf, shorter than ``min_seconds``, or silent.

    Raises:
        CauseError: naming ``path`` and what is wrong with the audio.
    """
    if samples.size == 0:
        raise CauseError("audio has no samples", path=path, fix="give a non-empty recording")
    if not np.isfinite(samples).all():
        bad = int((~np.isfinite(samples)).sum())
        raise CauseError(
            f"audio has {bad} NaN or infinite samples", path=path, fix="re-export the audio"
        )
    if samples.size < min_seconds * sr:
        raise CauseError(
            f"audio is {samples.size / sr * 1000:.1f} ms long, shorter than one frame "
            f"({min_seconds * 1000:.0f} ms)",
            path=path,
            fix="give a longer recording",
        )
    if float(np.max(np.abs(samples))) == 0.0:
        raise CauseError(
            "audio is digital silence (all samples are zero)", path=path, fix="check the recording"
        )


def write_wav(path: str | os.PathLike, samples: np.ndarray, sr: int) -> None:
    """Write float samples as 16-bit PCM wav, atomically."""
    import soundfile as sf

    with atomic_write(path) as tmp:
        sf.write(str(tmp), np.clip(samples, -1.0, 1.0), sr, subtype="PCM_16", format="WAV")
