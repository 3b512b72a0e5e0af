"""Prosody of an utterance: F0 median and range, speaking rate, energy (for expressive TTS checks).

- **F0** comes from Praat's autocorrelation pitch tracker (``praat-parselmouth``,
  ``Sound.to_pitch_ac`` with a 10 ms step, floor :data:`F0_FLOOR` and ceiling
  :data:`F0_CEILING`). The median and the range (95th minus 5th percentile of the voiced frames)
  are in semitones re 100 Hz (``12 log2(f / 100)``), so differences are in semitones whatever the
  voice.
- **Active speech** is the span from the first to the last 10 ms frame whose RMS level is within
  :data:`ACTIVE_DB` dB of the loudest frame (leading and trailing silence dropped).
- **Speaking rate** is phonemes (pauses not counted) per second of active speech.
- **Energy** is the mean RMS level in dB (re full scale) of the active frames that are within
  :data:`ACTIVE_DB` dB of the loudest one.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

#: Praat pitch tracker settings (Hz, s).
F0_FLOOR = 60.0
F0_CEILING = 500.0
TIME_STEP = 0.01
#: Frames this many dB below the loudest frame count as silence.
ACTIVE_DB = 35.0
#: Reference of the semitone scale (Hz).
SEMITONE_REF_HZ = 100.0


@dataclasses.dataclass(frozen=True)
class Prosody:
    """Prosodic statistics of one utterance.

    Attributes:
        f0_median: Median F0 of the voiced frames, semitones re 100 Hz (NaN if none is voiced).
        f0_range: 95th minus 5th percentile of the voiced F0, semitones.
        rate: Phonemes per second of active speech (NaN when the phoneme count is unknown).
        energy_db: Mean RMS level of the active frames, dB re full scale.
        active_s: Duration of the active speech, seconds.
        voiced_fraction: Share of the active frames that Praat finds voiced.
    """

    f0_median: float
    f0_range: float
    rate: float
    energy_db: float
    active_s: float
    voiced_fraction: float


def hz_to_semitones(f0_hz: np.ndarray | float) -> np.ndarray | float:
    """Semitones re :data:`SEMITONE_REF_HZ`."""
    return 12.0 * np.log2(np.asarray(f0_hz, dtype=np.float64) / SEMITONE_REF_HZ)


def f0_track(samples: np.ndarray, fs: int) -> np.ndarray:
    """(T,) F0 in Hz every :data:`TIME_STEP` s from Praat (0 where unvoiced; all 0 for a signal
    shorter than three periods of :data:`F0_FLOOR`).

    Args:
        samples: (N,) float signal.
        fs: Its sample rate.
    """
    import parselmouth

    if len(samples) < 3.0 * fs / F0_FLOOR:  # Praat needs three periods of the floor
        return np.zeros(max(0, int(len(samples) / fs / TIME_STEP)))
    sound = parselmouth.Sound(np.asarray(samples, dtype=np.float64), sampling_frequency=fs)
    pitch = sound.to_pitch_ac(time_step=TIME_STEP, pitch_floor=F0_FLOOR, pitch_ceiling=F0_CEILING)
    return np.nan_to_num(pitch.selected_array["frequency"], nan=0.0)


def frame_levels_db(samples: np.ndarray, fs: int) -> np.ndarray:
    """(T,) RMS level in dB re full scale of consecutive :data:`TIME_STEP` frames."""
    hop = max(1, int(round(TIME_STEP * fs)))
    n = len(samples) // hop
    if n == 0:
        return np.zeros(0)
    frames = np.asarray(samples[: n * hop], dtype=np.float64).reshape(n, hop)
    return 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def measure(samples: np.ndarray, fs: int, num_phonemes: int | None = None) -> Prosody:
    """The :class:`Prosody` of one utterance.

    Args:
        samples: (N,) float speech in [-1, 1].
        fs: Sample rate.
        num_phonemes: Phonemes spoken (pauses excluded), for the rate; None gives NaN.

    Raises:
        ValueError: for a signal shorter than one frame.
    """
    samples = np.asarray(samples, dtype=np.float64)
    levels = frame_levels_db(samples, fs)
    if len(levels) == 0:
        raise ValueError(f"signal of {len(samples)} samples is shorter than one frame")
    loud = levels >= levels.max() - ACTIVE_DB
    first, last = int(np.argmax(loud)), len(loud) - 1 - int(np.argmax(loud[::-1]))
    active_s = (last - first + 1) * TIME_STEP
    energy_db = float(np.mean(levels[first : last + 1][loud[first : last + 1]]))

    f0 = f0_track(samples, fs)
    voiced = f0[f0 > 0]
    if len(voiced):
        st = hz_to_semitones(voiced)
        f0_median = float(np.median(st))
        f0_range = float(np.percentile(st, 95) - np.percentile(st, 5))
    else:
        f0_median = f0_range = math.nan
    # Praat's frames start half a window in; the share is over the active span's length
    voiced_fraction = min(1.0, len(voiced) / max(1, last - first + 1))
    rate = math.nan if num_phonemes is None else num_phonemes / active_s
    return Prosody(
        f0_median=f0_median,
        f0_range=f0_range,
        rate=float(rate),
        energy_db=energy_db,
        active_s=float(active_s),
        voiced_fraction=float(voiced_fraction),
    )
