"""The rule that turns a synthetic utterance's speech into its AU track (mini corpus).

This is the mapping a speech->AU model trained on the mini corpus has to learn. It is built from
acoustic measurements, so it is learnable from the audio, but it involves a time shift, per-speaker
normalisation, non-linearities, an utterance-level mood and random blinks and noise, so it is not
a trivial copy of one feature. All randomness comes from the generator passed in (seeded per
utterance), so a track is reproducible.

The rule, on a 25 fps grid (frame ``k`` at ``k / fps`` s, ``ceil(duration * fps)`` frames):

1. **Mouth from phonemes** (v3, when the utterance's timed phonemes are given): the viseme
   track of :mod:`espnet_cause.corpora.mini.visemes` (AU10, AU17, AU20, AU23, AU25, AU26: lips close
   on /p b m/, lower lip to teeth on /f v/, rounding, spreading, jaw with vowel height,
   dominance-function coarticulation leading the sound by 40 ms), scaled by loudness:
   ``mouth * (1 - LOUDNESS_SCALE + LOUDNESS_SCALE * l)`` with ``LOUDNESS_SCALE = 1`` (v4): the
   viseme sets the shape and how far it opens at full voice, loudness how far it opens now, as
   a real jaw's opening follows the acoustic envelope closely (v3 used 0.4, which left a quiet
   syllable 60 % open), with
   **loudness** ``l(t)`` in [0, 1]: praat-parselmouth intensity (dB, 10 ms steps) relative to the
   utterance's peak, ``clip((I - (I_peak - 30 dB)) / 30 dB, 0, 1)``, read 40 ms *ahead* (the jaw
   moves before the sound it shapes) and smoothed (Gaussian, sigma 1 frame). Without phonemes
   (the v2 rule) the mouth follows loudness alone: ``AU25 = 4.5 * l**0.5`` (lips part),
   ``AU26 = 4.0 * l**1.5`` (jaw drop), ``AU10 = 1.2 * l`` (upper lip raiser).
2. **F0 excursion** ``z(t)``: praat-parselmouth pitch (75-500 Hz); log-F0 (interpolated over
   unvoiced frames) minus its local baseline (Gaussian, sigma 0.5 s), divided by the *speaker's*
   log-F0 standard deviation (measured on calibration sentences of that voice): a pitch accent
   raises the brows, a local fall lowers them. Unvoiced frames 0, smoothed (sigma 3 frames:
   brows are slow).
   Brows: ``up = max(z - 0.2, 0)``, ``down = max(-z - 0.2, 0)``;
   ``AU01 = 3.0 * up``, ``AU02 = 2.4 * up``, ``AU04 = 3.0 * down``.
3. **Mood** (v5): the utterance's emotion and strength ``s`` (also audible in the voice) add
   that emotion's AUs times ``s`` (table in :mod:`espnet_cause.corpora.mini.moods`: happy
   AU06/AU12/AU14, sad AU15/AU04/AU09/AU23, angry AU04/AU05/AU07/AU23, surprised
   AU01/AU02/AU05/AU26). The offset ramps in over the first 0.3 s. Without an emotion (v3
   callers) a signed ``mood`` picks happy (``m > 0``) or sad (``m < 0``).
4. **Effort, pauses and fricatives** (from the same loudness and voicing): lid tightener
   ``AU07 = 1.5 * l**2``; chin raiser ``AU17 = 1.5 * p`` with the pause signal
   ``p = 1 - smooth(l, sigma 5 frames)``; lip stretcher ``AU20 = 2.0 * smooth(l * unvoiced)``
   (loud but unvoiced: fricatives; v2 only, v3 takes AU20 from the visemes); upper lid raiser
   ``AU05 = 1.0 * up``.
5. **Blinks** AU45: a 150 ms bump peaking at 4.0 at each pause onset (the slow loudness falling
   below 0.35 after speech), as people blink at phrase boundaries.
6. **Noise**: every AU gets smooth Gaussian noise (sigma 3 frames, standard deviation 0.1).
7. Everything is clipped to the OpenFace scale 0..5.

Every AU depends on the speech, so a perfect model scores a PCC near 1 on every AU but for the
noise; the mean PCC a model reaches says how much of the rule it learned.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from espnet_cause.au import AU_INTENSITY_MAX, AU_INTENSITY_MIN, NUM_AUS, au_index
from espnet_cause.corpora.mini.moods import MOODS
from espnet_cause.corpora.mini.visemes import mouth_track
from espnet_cause.io.loudness import log_f0_track, loudness_track
from espnet_cause.io.timegrid import num_frames_for_fps

#: The mouth AUs lead the sound by this much, in seconds.
MOUTH_LEAD_S = 0.04
#: Smoothing (Gaussian sigma, frames) of the mouth and brow drivers.
MOUTH_SMOOTH_FRAMES = 1.0
BROW_SMOOTH_FRAMES = 3.0
#: Local F0 baseline (Gaussian sigma, seconds) that pitch accents are measured against.
F0_BASELINE_S = 0.5
#: F0 excursions within +-this dead zone (speaker standard deviations) move no brow.
BROW_DEAD_ZONE = 0.2
#: Share of the viseme mouth that loudness scales (0: none, 1: silent frames close it; v3: 0.4).
LOUDNESS_SCALE = 1.0
#: Gains of the mouth AUs on loudness, and their exponents (v2 rule, without phonemes).
MOUTH_GAINS = {"AU25": (4.5, 0.5), "AU26": (4.0, 1.5), "AU10": (1.2, 1.0)}
#: Gains of the brow AUs on upward (AU01, AU02) and downward (AU04) F0 excursions.
BROW_UP_GAINS = {"AU01": 3.0, "AU02": 2.4}
BROW_DOWN_GAINS = {"AU04": 3.0}
#: The mood AUs ramp in over this long, in seconds.
MOOD_RAMP_S = 0.3
#: Effort, pause and fricative drivers (rule step 4).
EFFORT_GAIN = {"AU07": 1.5}
PAUSE_GAIN = {"AU17": 1.5}
PAUSE_SMOOTH_FRAMES = 5.0
FRICATIVE_GAIN = {"AU20": 2.0}
LID_UP_GAIN = {"AU05": 1.0}
#: Blinks at pause onsets: loudness threshold, duration and peak intensity.
BLINK_PAUSE_THRESHOLD = 0.35
BLINK_DURATION_S = 0.15
BLINK_PEAK = 4.0
#: Smooth noise: standard deviation and smoothing (frames).
NOISE_STD = 0.1
NOISE_SMOOTH_FRAMES = 3.0


def gaussian_smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    """Smooth along the first axis with a Gaussian of ``sigma`` frames (edges held)."""
    if sigma <= 0 or len(x) < 2:
        return x
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(x, sigma, axis=0, mode="nearest")


def speaker_f0_stats(utterances: list[np.ndarray], sr: int) -> tuple[float, float]:
    """Mean and standard deviation of log F0 over a speaker's (calibration) utterances."""
    values = np.concatenate([log_f0_track(x, sr) for x in utterances])
    if len(values) < 2:
        return math.log(150.0), 0.2
    return float(values.mean()), max(float(values.std()), 1e-3)


def au_track_from_speech(
    samples: np.ndarray,
    sr: int,
    *,
    f0_mean: float,
    f0_std: float,
    mood: float,
    rng: np.random.Generator,
    fps: float,
    phonemes: Sequence | None = None,
    emotion: str | None = None,
) -> np.ndarray:
    """Apply the rule (module docstring) to one utterance.

    Args:
        samples: (N,) float32 speech.
        sr: Its sample rate.
        f0_mean: The speaker's mean log F0.
        f0_std: The speaker's standard deviation of log F0.
        mood: Strength of the utterance's mood, 0-1 (without ``emotion``: in [-1, 1],
            negative sad, positive happy).
        rng: Random generator for blinks and noise (seed it per utterance).
        fps: AU frame rate.
        phonemes: The utterance's timed phonemes
            (:class:`~espnet_cause.tts.espeak.Phoneme`, times in seconds of ``samples``)
            for the v3 mouth; None for the v2 loudness-only mouth.
        emotion: The mood (:data:`espnet_cause.corpora.mini.moods.MOODS`), or None (sign of
            ``mood``).

    Returns:
        (T, 17) float32 AU intensities, T = ceil(duration * fps), OpenFace order, 0..5.
    """

    duration = len(samples) / sr
    num_frames = num_frames_for_fps(duration, fps)
    times = np.arange(num_frames) / fps
    aus = np.zeros((num_frames, NUM_AUS), dtype=np.float64)

    loud = gaussian_smooth(loudness_track(samples, sr, times + MOUTH_LEAD_S), MOUTH_SMOOTH_FRAMES)
    if phonemes is not None:
        aus += (
            mouth_track(phonemes, times) * (1.0 - LOUDNESS_SCALE + LOUDNESS_SCALE * loud)[:, None]
        )
    else:
        for name, (gain, power) in MOUTH_GAINS.items():
            aus[:, au_index(name)] += gain * loud**power

    log_f0 = log_f0_track(samples, sr, times)
    voiced = ~np.isnan(log_f0)
    if voiced.any():
        filled = np.interp(times, times[voiced], log_f0[voiced])
        baseline = gaussian_smooth(filled, F0_BASELINE_S * fps)
        z = np.where(voiced, (filled - baseline) / f0_std, 0.0)
    else:
        z = np.zeros(num_frames)
    z = gaussian_smooth(z, BROW_SMOOTH_FRAMES)
    up = np.maximum(z - BROW_DEAD_ZONE, 0.0)
    down = np.maximum(-z - BROW_DEAD_ZONE, 0.0)
    for name, gain in BROW_UP_GAINS.items():
        aus[:, au_index(name)] += gain * up
    for name, gain in BROW_DOWN_GAINS.items():
        aus[:, au_index(name)] += gain * down

    ramp = np.clip(times / MOOD_RAMP_S, 0.0, 1.0)
    if emotion is None:
        emotion = "happy" if mood > 0 else "sad" if mood < 0 else "neutral"
    for name, gain in MOODS[emotion].aus.items():
        aus[:, au_index(name)] += gain * abs(mood) * ramp

    for name, gain in EFFORT_GAIN.items():
        aus[:, au_index(name)] += gain * loud**2
    slow = gaussian_smooth(loud, PAUSE_SMOOTH_FRAMES)
    for name, gain in PAUSE_GAIN.items():
        aus[:, au_index(name)] += gain * (1.0 - slow)
    unvoiced = np.isnan(log_f0_track(samples, sr, times))
    fricative = gaussian_smooth(loud * unvoiced, MOUTH_SMOOTH_FRAMES)
    for name, gain in FRICATIVE_GAIN.items() if phonemes is None else ():
        aus[:, au_index(name)] += gain * fricative
    for name, gain in LID_UP_GAIN.items():
        aus[:, au_index(name)] += gain * up

    speaking = slow >= BLINK_PAUSE_THRESHOLD
    onsets = np.flatnonzero(speaking[:-1] & ~speaking[1:]) + 1
    sigma = BLINK_DURATION_S / 4.0  # +-2 sigma spans the blink
    for k in onsets:
        aus[:, au_index("AU45")] += BLINK_PEAK * np.exp(-0.5 * ((times - times[k]) / sigma) ** 2)

    noise = gaussian_smooth(rng.normal(0.0, 1.0, size=aus.shape), NOISE_SMOOTH_FRAMES)
    noise *= NOISE_STD / max(float(noise.std()), 1e-6)
    aus += noise
    return np.clip(aus, AU_INTENSITY_MIN, AU_INTENSITY_MAX).astype(np.float32)
