"""Acoustic functionals of one utterance: the voice cues emotion is heard by, as one vector.

Numpy (and Praat through ``parselmouth``, a runtime requirement, for F0 and harmonicity); no
torch. Computed over the utterance's speech (the frames within :data:`SPEECH_RANGE_DB` of its
loudest 25 ms frame, from the first to the last such frame). The groups (names in
:func:`feature_names`):

- **pitch** (Praat autocorrelation F0, semitones re 100 Hz, voiced frames): mean, SD, 10/50/90th
  percentiles, their range, the slope over the utterance (st/s), mean absolute change per frame;
- **loudness** (frame RMS level, dB re full scale): mean, SD, percentiles, range, mean absolute
  change, the level of voiced frames minus the level of unvoiced ones;
- **timing**: voiced fraction of the speech, pause fraction (frames 25 dB below the peak),
  loudness peaks per second (a syllable-rate proxy), speech duration (s, log);
- **voice quality**: harmonics-to-noise ratio (Praat cross-correlation), a jitter proxy (mean
  absolute relative change of the F0 period between voiced frames), a shimmer proxy (the same
  on voiced frames' amplitudes), spectral tilt (alpha ratio: 50-1000 Hz over 1-5 kHz, dB),
  Hammarberg index (0-2 kHz peak over 2-5 kHz peak, dB), spectral centroid mean and SD (kHz),
  spectral flux;
- **spectrum**: the mean and SD of :data:`NUM_BANDS` log-mel band energies and of
  :data:`NUM_MFCC` MFCCs (1..13, c0 left out) over the speech frames.

The absolute values depend on the speaker and the microphone; the recogniser
(:mod:`espnet_cause.inference.emotion_recogniser`) z-scores them with the speaker's own
statistics (Kaldi's per-speaker CMVN) before classifying.
"""

from __future__ import annotations

import functools

import numpy as np

from espnet_cause.errors import CauseError
from espnet_cause.io.audio import resample

#: Sample rate the functionals are computed at (input is resampled to it).
FS = 16000
#: Analysis window and hop (seconds).
WIN_S = 0.025
HOP_S = 0.01
#: Frames within this many dB of the loudest frame count as speech (span first..last).
SPEECH_RANGE_DB = 40.0
#: Frames this far below the peak inside the span count as pauses.
PAUSE_DB = 25.0
#: Praat pitch range (Hz).
F0_FLOOR = 75.0
F0_CEILING = 600.0
#: Semitone reference (Hz).
SEMITONE_REF_HZ = 100.0
NUM_BANDS = 26
NUM_MFCC = 13
N_FFT = 512

PITCH_NAMES = ("f0_mean", "f0_sd", "f0_p10", "f0_p50", "f0_p90", "f0_range", "f0_slope", "f0_delta")
LEVEL_NAMES = (
    "level_mean", "level_sd", "level_p10", "level_p50", "level_p90", "level_range",
    "level_delta", "level_voiced_minus_unvoiced",
)  # fmt: skip
TIMING_NAMES = ("voiced_fraction", "pause_fraction", "peak_rate", "log_duration")
QUALITY_NAMES = (
    "hnr", "jitter", "shimmer", "alpha_ratio", "hammarberg", "centroid_mean", "centroid_sd",
    "flux",
)  # fmt: skip


def feature_names() -> tuple[str, ...]:
    """Names of the columns of :func:`voice_functionals`, in order."""
    spectral = tuple(f"mel{i:02d}_{s}" for s in ("mean", "sd") for i in range(NUM_BANDS))
    spectral += tuple(f"mfcc{i:02d}_{s}" for s in ("mean", "sd") for i in range(1, NUM_MFCC + 1))
    return PITCH_NAMES + LEVEL_NAMES + TIMING_NAMES + QUALITY_NAMES + spectral


NUM_FEATURES = len(feature_names())
#: Functionals that move with the recording's gain and frequency response more than with the
#: voice: the absolute level (mean and percentiles) and the band and MFCC means.
CHANNEL_DEPENDENT = ("level_mean", "level_p10", "level_p50", "level_p90")


def channel_robust_columns() -> np.ndarray:
    """Indices of the functionals left when the channel-dependent ones are dropped (for hearing
    one utterance without its speaker's statistics): no absolute level, no band or MFCC means."""
    names = feature_names()
    return np.array(
        [
            i
            for i, n in enumerate(names)
            if n not in CHANNEL_DEPENDENT
            and not (n.endswith("_mean") and n.startswith(("mel", "mfcc")))
        ]
    )


@functools.lru_cache(maxsize=4)
def _mel_matrix(fs: int, n_fft: int, n_mels: int) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangular mel filters (HTK mel scale, 50 Hz to fs / 2)."""

    def mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def hz(m):
        return 700.0 * (10.0 ** (np.asarray(m) / 2595.0) - 1.0)

    edges = hz(np.linspace(mel(50.0), mel(fs / 2), n_mels + 2))
    freqs = np.linspace(0, fs / 2, n_fft // 2 + 1)
    out = np.zeros((n_mels, len(freqs)))
    for i in range(n_mels):
        lo, mid, hi = edges[i : i + 3]
        up = (freqs - lo) / (mid - lo)
        down = (hi - freqs) / (hi - mid)
        out[i] = np.clip(np.minimum(up, down), 0.0, None)
    return out


@functools.lru_cache(maxsize=2)
def _dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) orthonormal DCT-II rows 1..n_out (c0 left out)."""
    k = np.arange(1, n_out + 1)[:, None]
    n = np.arange(n_in)[None, :]
    return np.sqrt(2.0 / n_in) * np.cos(np.pi * k * (2 * n + 1) / (2 * n_in))


def _frames(wav: np.ndarray) -> np.ndarray:
    """(F, win) Hann-windowed frames of ``wav`` at :data:`FS`."""
    win, hop = int(WIN_S * FS), int(HOP_S * FS)
    if len(wav) < win:
        wav = np.pad(wav, (0, win - len(wav)))
    n = 1 + (len(wav) - win) // hop
    idx = np.arange(win)[None, :] + hop * np.arange(n)[:, None]
    return wav[idx] * np.hanning(win)[None, :]


def _pitch(wav: np.ndarray, num_frames: int) -> np.ndarray:
    """(num_frames,) F0 in Hz on the analysis frames (0 where unvoiced), Praat AC."""
    import parselmouth  # Praat (native library, a runtime requirement)

    out = np.zeros(num_frames)
    if len(wav) < 3.0 * FS / F0_FLOOR:
        return out
    sound = parselmouth.Sound(wav.astype(np.float64), sampling_frequency=FS)
    pitch = sound.to_pitch_ac(time_step=HOP_S, pitch_floor=F0_FLOOR, pitch_ceiling=F0_CEILING)
    f0 = np.nan_to_num(pitch.selected_array["frequency"], nan=0.0)
    times = np.asarray(pitch.xs())
    centres = (np.arange(num_frames) * HOP_S) + WIN_S / 2
    idx = np.clip(np.round((centres - times[0]) / HOP_S).astype(int), 0, len(f0) - 1)
    return f0[idx]


def harmonicity_frames(wav: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Praat's cross-correlation harmonicity of ``wav`` (at :data:`FS`) per analysis frame.

    Returns:
        (times in s from the start of ``wav``, HNR in dB), each (H,); unvoiced frames are
        below -100 dB (Praat's -200). Each frame hears only its own 60 ms, so a stream can compute
        the frames of its new audio alone and join them (:mod:`espnet_cause.inference.live_expression`).
    """
    import parselmouth  # Praat (native library, a runtime requirement)

    if len(wav) < 3.0 * FS / F0_FLOOR:
        return np.zeros(0), np.zeros(0)
    sound = parselmouth.Sound(np.asarray(wav, dtype=np.float64), sampling_frequency=FS)
    harm = sound.to_harmonicity_cc(time_step=HOP_S, minimum_pitch=F0_FLOOR)
    return np.asarray(harm.xs(), dtype=np.float64), np.asarray(harm.values[0], dtype=np.float64)


def _hnr(times: np.ndarray, values: np.ndarray, span: tuple[float, float]) -> float:
    """Mean harmonicity (dB) of the voiced frames in the time span (0 without any)."""
    keep = (values > -100) & (times >= span[0]) & (times <= span[1])
    return float(values[keep].mean()) if keep.any() else 0.0


def _stats(x: np.ndarray) -> list[float]:
    """mean, SD, p10, p50, p90, p90 - p10 (zeros for an empty array)."""
    if len(x) == 0:
        return [0.0] * 6
    p10, p50, p90 = np.percentile(x, [10, 50, 90])
    return [float(x.mean()), float(x.std()), float(p10), float(p50), float(p90), float(p90 - p10)]


def _rel_change(x: np.ndarray, runs: np.ndarray) -> float:
    """Mean |x[t] - x[t-1]| / mean(x) over consecutive frames that are both in ``runs``."""
    both = runs[1:] & runs[:-1]
    if not both.any():
        return 0.0
    d = np.abs(np.diff(x))[both]
    return float(d.mean() / max(float(np.mean(x[runs])), 1e-9))


def voice_functionals(
    wav: np.ndarray, fs: int, harmonicity: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """The functionals of one utterance (module docstring).

    Args:
        wav: (N,) float samples in [-1, 1], mono.
        fs: Their sample rate (resampled to :data:`FS`).
        harmonicity: :func:`harmonicity_frames` of ``wav`` when already known (times from its
            start); None computes them (the costliest part: 40 ms per second of audio).

    Returns:
        (NUM_FEATURES,) float64, in :func:`feature_names` order, all finite.

    Raises:
        CauseError: for audio shorter than one analysis window or digital silence.
    """
    wav = np.asarray(wav, dtype=np.float64)
    if wav.ndim != 1:
        raise CauseError(f"expected mono samples, got shape {wav.shape}")
    if fs != FS:
        wav = np.asarray(resample(wav.astype(np.float32), fs, FS), dtype=np.float64)
    if len(wav) < int(WIN_S * FS) or not np.isfinite(wav).all() or np.abs(wav).max() == 0:
        raise CauseError(
            f"no voice to measure: {len(wav) / FS:.3f} s of audio, silent or not finite",
            fix="give at least 25 ms of speech",
        )
    if harmonicity is None:
        harmonicity = harmonicity_frames(wav)
    frames = _frames(wav)
    level = 10.0 * np.log10(np.mean(frames**2, axis=1) * (8.0 / 3.0) + 1e-10)  # Hann power gain
    loud = np.flatnonzero(level >= level.max() - SPEECH_RANGE_DB)
    first, last = int(loud[0]), int(loud[-1])
    sl = slice(first, last + 1)
    level_s = level[sl]
    power = np.abs(np.fft.rfft(frames[sl], n=N_FFT, axis=1)) ** 2  # (S, bins)
    f0 = _pitch(wav, len(frames))[sl]
    voiced = f0 > 0
    duration = len(level_s) * HOP_S

    # pitch
    st = 12.0 * np.log2(np.where(voiced, f0, SEMITONE_REF_HZ) / SEMITONE_REF_HZ)
    vst = st[voiced]
    pitch = _stats(vst)
    if voiced.sum() >= 3:
        t = np.flatnonzero(voiced) * HOP_S
        slope = float(np.polyfit(t, vst, 1)[0])
    else:
        slope = 0.0
    both = voiced[1:] & voiced[:-1]
    f0_delta = float(np.abs(np.diff(st))[both].mean()) if both.any() else 0.0
    pitch_feats = pitch + [slope, f0_delta]

    # loudness
    lv = _stats(level_s)
    level_delta = float(np.abs(np.diff(level_s)).mean()) if len(level_s) > 1 else 0.0
    uv = ~voiced & (level_s > level.max() - PAUSE_DB)
    vmu = float(level_s[voiced].mean() - level_s[uv].mean()) if voiced.any() and uv.any() else 0.0
    level_feats = lv + [level_delta, vmu]

    # timing
    pauses = level_s < level.max() - PAUSE_DB
    smooth = np.convolve(level_s, np.ones(5) / 5, mode="same")
    peaks = (
        (smooth[1:-1] > smooth[:-2])
        & (smooth[1:-1] >= smooth[2:])
        & (smooth[1:-1] > level.max() - PAUSE_DB)
    )
    timing_feats = [
        float(voiced.mean()),
        float(pauses.mean()),
        float(peaks.sum() / max(duration, HOP_S)),
        float(np.log(max(duration, HOP_S))),
    ]

    # voice quality
    period = np.where(voiced, 1.0 / np.maximum(f0, 1.0), 0.0)
    amp = np.sqrt(10.0 ** (level_s / 10.0))
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / FS)
    active = ~pauses if (~pauses).any() else np.ones(len(level_s), dtype=bool)
    pw = power[active]

    def band(lo, hi):
        return pw[:, (freqs >= lo) & (freqs < hi)]

    alpha = 10.0 * np.log10(band(50, 1000).sum() / max(band(1000, 5000).sum(), 1e-12) + 1e-12)
    hamm = 10.0 * np.log10(
        band(0, 2000).max(axis=1).mean() / max(band(2000, 5000).max(axis=1).mean(), 1e-12) + 1e-12
    )
    centroid = (pw * freqs).sum(axis=1) / np.maximum(pw.sum(axis=1), 1e-12) / 1000.0
    logspec = np.log(pw + 1e-10)
    flux = float(np.sqrt((np.diff(logspec, axis=0) ** 2).mean(axis=1)).mean()) if len(pw) > 1 else 0
    quality_feats = [
        _hnr(*harmonicity, (first * HOP_S, (last + 1) * HOP_S + WIN_S)),
        _rel_change(period, voiced),
        _rel_change(amp, voiced),
        float(alpha),
        float(hamm),
        float(centroid.mean()),
        float(centroid.std()),
        flux,
    ]

    # spectrum
    logmel = np.log(pw @ _mel_matrix(FS, N_FFT, NUM_BANDS).T + 1e-10)  # (A, bands)
    mfcc = logmel @ _dct_matrix(NUM_BANDS, NUM_MFCC).T
    spectral = np.concatenate([logmel.mean(0), logmel.std(0), mfcc.mean(0), mfcc.std(0)])

    out = np.concatenate([pitch_feats, level_feats, timing_feats, quality_feats, spectral]).astype(
        np.float64
    )
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
