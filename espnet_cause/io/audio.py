"""Speech audio in and out: any sample rate, mono or multi-channel, read into float32 mono."""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import numpy as np

from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write

logger = logging.getLogger(__name__)

#: Lines of a failing pipe's stderr quoted in the reason.
PIPE_STDERR_LINES = 3


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
    if path.is_dir():
        raise CauseError(
            "is a directory, not an audio file", path=path, fix="give a wav/flac/ogg file"
        )
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
    if data.shape[1] > 1:
        logger.info("%s: mixing %d channels down to mono", label, data.shape[1])
    samples = data.mean(axis=1)
    if target_sr is not None and sr != target_sr:
        logger.info("%s: resampling %d Hz -> %d Hz", label, sr, target_sr)
        samples = resample(samples, sr, target_sr)
        sr = target_sr
    return samples, int(sr)


def _int_to_float(data: np.ndarray) -> np.ndarray:
    """Integer PCM -> float32 in [-1, 1) (as soundfile scales it); floats pass through."""
    data = np.asarray(data)
    if data.dtype.kind in "iu":
        return (data.astype(np.float32) / float(-np.iinfo(data.dtype).min)).astype(np.float32)
    return data.astype(np.float32, copy=False)


def _mono(data: np.ndarray, label: str) -> np.ndarray:
    if data.ndim == 2:
        logger.info("%s: mixing %d channels down to mono", label, data.shape[1])
        return data.mean(axis=1).astype(np.float32)
    return data


def _run_pipe(command: str, label: str) -> tuple[np.ndarray, int]:
    """Run a Kaldi ``cmd |`` entry with the shell (as Kaldi does) and read the wav it writes."""
    import io
    import subprocess

    import soundfile as sf

    proc = subprocess.run(command, shell=True, capture_output=True, check=False)
    stderr = proc.stderr.decode("utf-8", "replace").strip()
    tail = " | ".join(stderr.splitlines()[-PIPE_STDERR_LINES:]) if stderr else "no message"
    if proc.returncode != 0:
        raise CauseError(
            f"command exited with status {proc.returncode}: {tail}",
            path=label,
            fix=f"run it in a shell to see why: {command}",
        )
    if not proc.stdout:
        raise CauseError(
            f"command wrote nothing to stdout ({tail})", path=label, fix="it must write a wav"
        )
    try:
        data, sr = sf.read(io.BytesIO(proc.stdout), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, ValueError) as e:
        raise CauseError(
            f"command output is not audio: {e}",
            path=label,
            fix="the command must write a wav to stdout (e.g. sox ... -t wav -)",
        ) from None
    return _mono(data, label) if data.shape[1] > 1 else data[:, 0], int(sr)


def load_speech(value: str, name: str | None = None) -> tuple[np.ndarray, int]:
    """Audio of a ``wav.scp`` value, read as Kaldi reads it, as float32 mono at its own rate.

    Three forms: a sound file path; ``file.ark:OFFSET`` (a wav stored in a Kaldi archive at that
    byte offset); ``command |`` (run with the shell; its stdout is a wav, its stderr becomes
    the reason when it fails).

    Args:
        value: The ``wav.scp`` value (or a plain path).
        name: How to call the input in messages (default: the value).

    Raises:
        CauseError: naming the input when the file, archive entry or command cannot give audio.
    """
    value = value.strip()
    label = name or value
    if value.endswith("|"):
        return _run_pipe(value[:-1].strip(), label)
    head, sep, tail = value.rpartition(":")
    if sep and tail.isdigit() and head and not Path(value).exists():
        import kaldiio

        if not Path(head).is_file():
            raise CauseError(f"archive {head} not found", path=label, fix="check the path")
        try:
            loaded = kaldiio.load_mat(value)
        except Exception as e:  # kaldiio raises several types for a wrong offset or entry
            raise CauseError(
                f"cannot read a wav at byte {tail} of {head}: {type(e).__name__} {e}".strip(),
                path=label,
                fix="check the offset (it must point at a wav entry of the archive)",
            ) from None
        if not (isinstance(loaded, tuple) and len(loaded) == 2):
            raise CauseError(
                f"byte {tail} of {head} holds a matrix, not a wav",
                path=label,
                fix="point wav.scp at a wav archive (wav-copy / kaldiio.save_ark of (rate, wav))",
            )
        rate, data = loaded
        return _mono(_int_to_float(data), label), int(rate)
    return load_audio(value, name=label)


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
