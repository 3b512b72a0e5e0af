"""The loudness envelope of speech: Praat intensity, peak-relative, on [0, 1].

One rule, used by the mini corpus's teacher (:mod:`espnet_cause.corpora.mini.teacher`, the mouth
follows loudness) and by the lip-sync check's loudness baseline
(:mod:`espnet_cause.evaluation.lipsync`).
"""

from __future__ import annotations

import numpy as np

#: Loudness window below the utterance's intensity peak, in dB.
LOUDNESS_RANGE_DB = 30.0
#: Pitch analysis floor in Hz (Praat's intensity window is set from it).
PITCH_FLOOR_HZ = 75.0
#: Analysis step of intensity and pitch, in seconds.
ANALYSIS_STEP_S = 0.01


def loudness_track(samples: np.ndarray, sr: int, times: np.ndarray) -> np.ndarray:
    """Loudness in [0, 1] at ``times`` (the teacher's rule step 1, without lead and smoothing).

    Args:
        samples: (N,) float32 speech.
        sr: Its sample rate.
        times: (T,) times in seconds.

    Returns:
        (T,) peak-relative intensity mapped to [0, 1].
    """
    import parselmouth  # Praat (native library): loaded only when loudness is measured

    sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=sr)
    intensity = sound.to_intensity(
        minimum_pitch=PITCH_FLOOR_HZ, time_step=ANALYSIS_STEP_S, subtract_mean=True
    )
    db = intensity.values[0]
    t = np.asarray(intensity.xs())
    ok = np.isfinite(db)
    if not ok.any():
        return np.zeros_like(times)
    db_at = np.interp(times, t[ok], db[ok])
    # Outside the analysed span (edges) the sound is silent.
    db_at = np.where((times < t[0]) | (times > t[-1]), -np.inf, db_at)
    peak = float(db[ok].max())
    return np.clip((db_at - (peak - LOUDNESS_RANGE_DB)) / LOUDNESS_RANGE_DB, 0.0, 1.0)
