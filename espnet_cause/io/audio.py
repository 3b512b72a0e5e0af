"""Speech audio in and out: any sample rate, mono or multi-channel, read into float32 mono.

One function per job: :func:`load_speech` reads a ``wav.scp`` value (a sound file, a Kaldi
``file.ark:offset`` or a ``cmd |`` pipe), :func:`load_audio` a sound file, :func:`pcm_to_float`
scales integer PCM, :func:`mix_down` averages channels, :func:`resample` changes the rate.

**The sample rule** (:func:`float_samples`, the same for whole recordings and for streams):
integer PCM is scaled to [-1, 1) (int16 ``x`` is ``x / 32768``), float samples are taken as they
are, and a NaN or infinite sample is refused. **Sample rates** outside
:data:`MIN_SAMPLE_RATE`-:data:`MAX_SAMPLE_RATE` Hz are refused (:func:`check_sample_rate`): a
header that says 1 Hz is a broken file, not 100 s of audio. A wav file shorter than its header
says is read as far as it goes, with a warning naming both lengths.
"""

from __future__ import annotations

import logging
import math
import os
import struct
from pathlib import Path

import numpy as np

from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write

logger = logging.getLogger(__name__)

#: Lines of a failing pipe's stderr quoted in the reason.
PIPE_STDERR_LINES = 3
#: Sample rates (Hz) the project reads: telephone speech (8 kHz) and below to 4 kHz, up to the
#: 384 kHz of studio converters; anything else is a broken header.
MIN_SAMPLE_RATE = 4000
MAX_SAMPLE_RATE = 384000
#: A RIFF/WAVE data size that means "unknown" (written by programs that stream to a pipe).
_UNKNOWN_WAV_SIZES = (0, 0xFFFFFFFF, 0x7FFFF000, 0x7FFFFFFF)


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


def check_sample_rate(fs, name: str = "input") -> int:
    """``fs`` as an int when it is within :data:`MIN_SAMPLE_RATE`-:data:`MAX_SAMPLE_RATE` Hz.

    Raises:
        CauseError: naming ``name`` and the rate otherwise.
    """
    try:
        rate = int(fs)
    except (TypeError, ValueError):
        rate = None
    if rate is None or rate != fs or not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise CauseError(
            f"sample rate {fs!r} Hz is outside the range this project reads "
            f"({MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz)",
            path=name,
            fix="check the file's header (re-export it, e.g. sox in.wav -r 16000 out.wav)",
        )
    return rate


def float_samples(samples, name: str | None = "input") -> np.ndarray:
    """The sample rule of the module docstring: integer PCM scaled, floats kept, NaN/inf refused.

    Args:
        samples: Any array of samples (integer PCM or float), any shape.
        name: How to call the input in messages.

    Returns:
        The samples as float32, same shape.

    Raises:
        CauseError: naming ``name`` when a sample is NaN or infinite.
    """
    out = pcm_to_float(samples)
    # a float64 sum is finite exactly when every sample is (no full-size temporary array)
    if out.size and not math.isfinite(float(np.sum(out, dtype=np.float64))):
        bad = int((~np.isfinite(out)).sum())
        if bad:
            raise CauseError(
                f"audio has {bad} NaN or infinite samples", path=name, fix="re-export the audio"
            )
    return out


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
    if samples.shape[axis] == 1:  # a view, not a copy: long recordings stay one array
        return np.take(samples, 0, axis=axis).astype(np.float32, copy=False)
    logger.info("%s: mixing %d channels down to mono", name, samples.shape[axis])
    return samples.mean(axis=axis).astype(np.float32)


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

    path = Path(path)
    label = name or str(path)
    if path.is_dir():
        raise CauseError(
            "is a directory, not an audio file", path=path, fix="give a wav/flac/ogg file"
        )
    if not path.is_file():
        raise CauseError("audio file not found", path=path, fix="check the path")
    samples, sr = _decode(
        str(path),
        label,
        path,
        "cannot read audio",
        "give a wav/flac/ogg file (16 kHz mono is best)",
    )
    if target_sr is not None and sr != target_sr:
        logger.info("%s: resampling %d Hz -> %d Hz", label, sr, target_sr)
        samples = resample(samples, sr, target_sr)
        sr = target_sr
    return samples, int(sr)


def _run_pipe(command: str, label: str) -> tuple[np.ndarray, int]:
    """Run a Kaldi ``cmd |`` entry with the shell (as Kaldi does) and read the wav it writes."""
    import io
    import subprocess

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
    fix = "the command must write a wav to stdout (e.g. sox ... -t wav -)"
    return _decode(io.BytesIO(proc.stdout), label, label, "command output is not audio", fix)


def _decode(source, label: str, path, what: str, fix: str) -> tuple[np.ndarray, int]:
    """Decode a sound file (path or file object) with libsndfile into float32 mono."""
    import soundfile as sf

    head = _head_bytes(source)
    try:
        data, sr = sf.read(source, dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, ValueError) as e:
        raise CauseError(f"{what}: {e}", path=path, fix=fix) from None
    sr = check_sample_rate(sr, label)
    declared = wav_declared_frames(head)
    if declared is not None and declared > len(data):
        logger.warning(
            "%s: the file is shorter than its header says: the header says %d samples "
            "(%.3f s), the file holds %d (%.3f s); using what is there (re-copy the file?)",
            label, declared, declared / sr, len(data), len(data) / sr,
        )  # fmt: skip
    return mix_down(data, label, channel_axis=1), sr


def _head_bytes(source, size: int = 4096) -> bytes:
    """The first ``size`` bytes of a file path or a seekable file object (position kept)."""
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as f:
            return f.read(size)
    pos = source.tell()
    head = source.read(size)
    source.seek(pos)
    return head


def wav_declared_frames(head: bytes) -> int | None:
    """Sample frames a RIFF/WAVE header declares (its ``data`` chunk size / block size).

    Args:
        head: The first bytes of the file (up to the start of the ``data`` chunk).

    Returns:
        The frames, or None for another format or a header that does not say (streamed wavs
        write 0 or 0xFFFFFFFF).
    """
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, block = 12, None
    while pos + 8 <= len(head):
        chunk, size = head[pos : pos + 4], struct.unpack("<I", head[pos + 4 : pos + 8])[0]
        if chunk == b"fmt " and pos + 22 <= len(head):
            block = struct.unpack("<H", head[pos + 20 : pos + 22])[0]
        elif chunk == b"data":
            if not block or size in _UNKNOWN_WAV_SIZES:
                return None
            return size // block
        pos += 8 + size + (size & 1)
    return None


def load_speech(
    value: str, name: str | None = None, target_sr: int | None = None
) -> tuple[np.ndarray, int]:
    """Audio of a ``wav.scp`` value, read as Kaldi reads it, as float32 mono.

    Three forms: a sound file path; ``file.ark:OFFSET`` (a wav stored in a Kaldi archive at that
    byte offset); ``command |`` (run with the shell; its stdout is a wav, its stderr becomes
    the reason when it fails).

    Args:
        value: The ``wav.scp`` value (or a plain path).
        name: How to call the input in messages (default: the value).
        target_sr: Resample to this rate (logged); None keeps the entry's rate.

    Raises:
        CauseError: naming the input when the file, archive entry or command cannot give audio.
    """
    samples, rate = _read_entry(value.strip(), name or value.strip())
    if target_sr is not None and rate != target_sr:
        logger.info("%s: resampling %d Hz -> %d Hz", name or value.strip(), rate, target_sr)
        samples, rate = resample(samples, rate, target_sr), target_sr
    return samples, rate


def _read_entry(value: str, label: str) -> tuple[np.ndarray, int]:
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
        rate = check_sample_rate(rate, label)
        return mix_down(float_samples(data, label), label, channel_axis=1), rate
    return load_audio(value, name=label)


def check_speech(samples: np.ndarray, sr: int, min_seconds: float, path: str | None = None) -> None:
    """Reject audio that no model can use: empty, NaN/Inf, shorter than ``min_seconds``, or silent.

    Raises:
        CauseError: naming ``path`` and what is wrong with the audio.
    """
    if samples.size == 0:
        raise CauseError("audio has no samples", path=path, fix="give a non-empty recording")
    float_samples(samples, path)  # NaN/inf refused as everywhere
    if samples.size < min_seconds * sr:
        raise CauseError(
            f"audio is {samples.size / sr * 1000:.1f} ms long, shorter than one frame "
            f"({min_seconds * 1000:.0f} ms)",
            path=path,
            fix="give a longer recording",
        )
    if float(samples.max()) == 0.0 and float(samples.min()) == 0.0:
        raise CauseError(
            "audio is digital silence (all samples are zero)", path=path, fix="check the recording"
        )


def write_wav(path: str | os.PathLike, samples: np.ndarray, sr: int) -> None:
    """Write float samples as 16-bit PCM wav, atomically."""
    import soundfile as sf

    with atomic_write(path) as tmp:
        sf.write(str(tmp), np.clip(samples, -1.0, 1.0), sr, subtype="PCM_16", format="WAV")
