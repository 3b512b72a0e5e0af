"""The loudness and pitch envelopes of speech (Praat): loudness peak-relative on [0, 1], log F0.

One rule each, used by the mini corpus's teacher (:mod:`espnet_cause.corpora.mini.teacher`, the
mouth follows loudness, the brows pitch accents), by the lip-sync check's loudness baseline
(:mod:`espnet_cause.evaluation.lipsync`) and by the avatar's speech reading
(:mod:`espnet_cause.avatar.acoustics`, :mod:`espnet_cause.avatar.head`).
"""

from __future__ import annotations

import numpy as np

#: Loudness window below the utterance's intensity peak, in dB.
LOUDNESS_RANGE_DB = 30.0
#: Pitch analysis floor in Hz (Praat's intensity window is set from it).
PITCH_FLOOR_HZ = 75.0
#: Pitch analysis ceiling in Hz.
PITCH_CEILING_HZ = 500.0
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


def _sample_at(times: np.ndarray, src_times: np.ndarray, values: np.ndarray) -> np.ndarray:
    if len(src_times) == 0:
        return np.zeros_like(times)
    return np.interp(times, src_times, values)


def log_f0_track(samples: np.ndarray, sr: int, times: np.ndarray | None = None) -> np.ndarray:
    """Natural-log F0 (NaN where unvoiced), at ``times`` or at the analysis frames.

    Args:
        samples: (N,) float32 speech.
        sr: Its sample rate.
        times: (T,) times in seconds, or None for the voiced analysis frames only.

    Returns:
        (T,) log F0 with NaN for unvoiced frames, or (V,) log F0 of the voiced frames.
    """
    import parselmouth  # Praat (native library): loaded only when pitch is measured

    sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=sr)
    pitch = sound.to_pitch(
        time_step=ANALYSIS_STEP_S, pitch_floor=PITCH_FLOOR_HZ, pitch_ceiling=PITCH_CEILING_HZ
    )
    f0 = pitch.selected_array["frequency"]
    t = np.asarray(pitch.xs())
    voiced = f0 > 0
    if times is None:
        return np.log(f0[voiced])
    if not voiced.any():
        return np.full(len(times), np.nan)
    # Nearest analysis frame decides voicing; voiced values are interpolated.
    idx = np.clip(np.round((times - t[0]) / ANALYSIS_STEP_S).astype(int), 0, len(t) - 1)
    out = _sample_at(times, t[voiced], np.log(f0[voiced]))
    return np.where(voiced[idx], out, np.nan)
