"""What the avatar reads off the speech itself, on the animation's frame grid.

The model gives the face's AUs; a few things it does not give are read from the sound directly:

- ``loudness`` (0..1): praat intensity relative to the take's peak over a 30 dB window
  (:func:`espnet_cause.io.loudness.loudness_track`, the mini corpus teacher's envelope);
  drives silence (``sil``/``X``), nods and speaking activity.
- ``log_f0``: natural-log F0 (praat, 75-500 Hz), NaN where unvoiced; stress for the nods.
- ``frication`` (0..1): share of the frame's energy above :data:`FRICATION_HZ` (25 ms windows):
  high for /s z S Z f v T D/, low for vowels and nasals; tells the fricative visemes apart.
- ``rounding`` (0..1): how far the second formant is below the take's usual F2 in loud, voiced
  frames, ``clip((median F2 - F2) / (median F2 - 10th percentile F2), 0, 1)``: rounded vowels and
  /w/ lower F2 (the lips lengthen the vocal tract), so this reads lip rounding off the sound.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from espnet_cause.io.loudness import log_f0_track, loudness_track
from espnet_cause.io.timegrid import frame_times_fps

#: Frication is the share of energy above this frequency.
FRICATION_HZ = 4000.0
#: Analysis window of the frication measure, seconds.
WINDOW_S = 0.025
#: Frames louder than this (and voiced) take part in the F2 statistics and get a rounding value.
ROUNDING_MIN_LOUDNESS = 0.3
#: Formant analysis ceiling (praat's default for an adult voice).
MAX_FORMANT_HZ = 5500.0


@dataclasses.dataclass(frozen=True)
class SpeechFeatures:
    """Per-frame measurements of a take (module docstring); every array is (T,)."""

    fps: float
    loudness: np.ndarray
    log_f0: np.ndarray
    frication: np.ndarray
    rounding: np.ndarray

    @property
    def num_frames(self) -> int:
        return len(self.loudness)


def frication_track(samples: np.ndarray, sr: int, times: np.ndarray) -> np.ndarray:
    """Share of energy above :data:`FRICATION_HZ` in a window centred on each time (0..1)."""
    samples = np.asarray(samples, np.float64)
    if sr <= 2 * FRICATION_HZ:
        return np.zeros(len(times), np.float32)
    n = max(16, int(round(WINDOW_S * sr)))
    window = np.hanning(n)
    padded = np.pad(samples, (n // 2, n))
    starts = np.clip(np.round(times * sr).astype(int), 0, len(samples))
    frames = np.stack([padded[s : s + n] for s in starts]) * window
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    high = np.fft.rfftfreq(n, 1.0 / sr) >= FRICATION_HZ
    total = power.sum(axis=1)
    share = np.where(total > 1e-10, power[:, high].sum(axis=1) / np.maximum(total, 1e-10), 0.0)
    return share.astype(np.float32)


def f2_track(samples: np.ndarray, sr: int, times: np.ndarray) -> np.ndarray:
    """Second formant (Hz, praat Burg) at each time, NaN where praat finds none."""
    import parselmouth

    sound = parselmouth.Sound(np.asarray(samples, np.float64), sampling_frequency=sr)
    formant = sound.to_formant_burg(time_step=0.01, maximum_formant=MAX_FORMANT_HZ)
    return np.array([formant.get_value_at_time(2, float(t)) for t in times], np.float64)


def rounding_track(f2: np.ndarray, loudness: np.ndarray, log_f0: np.ndarray) -> np.ndarray:
    """Lip rounding read off F2 (module docstring), 0 outside loud voiced frames."""
    usable = np.isfinite(f2) & np.isfinite(log_f0) & (loudness >= ROUNDING_MIN_LOUDNESS)
    out = np.zeros(len(f2), np.float32)
    if usable.sum() < 5:
        return out
    median, low = np.median(f2[usable]), np.percentile(f2[usable], 10)
    spread = max(median - low, 1.0)
    out[usable] = np.clip((median - f2[usable]) / spread, 0.0, 1.0)
    return out


def speech_features(samples: np.ndarray, sr: int, num_frames: int, fps: float) -> SpeechFeatures:
    """All measurements of a take on a frame grid.

    Args:
        samples: (N,) mono float speech.
        sr: Its sample rate.
        num_frames: T, frames of the animation.
        fps: Their rate.

    Returns:
        The :class:`SpeechFeatures`.
    """
    samples = np.asarray(samples, np.float32)
    times = frame_times_fps(num_frames, fps)
    loudness = loudness_track(samples, sr, times).astype(np.float32)
    log_f0 = log_f0_track(samples, sr, times)
    rounding = rounding_track(f2_track(samples, sr, times), loudness, log_f0)
    return SpeechFeatures(
        fps=float(fps),
        loudness=loudness,
        log_f0=log_f0,
        frication=frication_track(samples, sr, times),
        rounding=rounding,
    )
