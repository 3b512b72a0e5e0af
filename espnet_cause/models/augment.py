"""Acoustic augmentation of training speech, so that a model trained on clean synthetic speech
transfers to microphones: additive noise, room reverberation, EQ and spectral tilt, gain, speed.

Every function takes its randomness from a ``numpy.random.Generator``: the same seed gives the
same output. :class:`SpeechAugmenter` chains them with per-effect probabilities and is what
:class:`espnet_cause.tasks.cause.CAUSETask` applies to each training utterance (``--augment_conf``),
drawing its generator from NumPy's global state, which ESPnet seeds at every epoch (the
trainer with ``seed + epoch``, each data-loader worker with ``seed + epoch + worker id``): a run
is reproducible.

Effects (all on (N,) float32 speech at ``fs``):

- **Noise** at a random SNR (dB, over the whole utterance): coloured Gaussian noise with a
  spectrum ``1 / f**beta``, ``beta`` uniform in [0, 2] (white .. brown), or *babble* (the same
  utterance reversed and circularly shifted, which has speech's spectrum but no alignment).
- **Reverberation**: a synthetic room impulse response -- a direct path, then Gaussian noise
  decaying by 60 dB over a random RT60 -- convolved causally (the direct path stays at lag 0,
  so the AU labels stay aligned).
- **EQ and tilt**: a zero-phase gain curve over log-frequency: a random tilt (dB per decade
  around 1 kHz) plus a few random peaking bands, as microphones, rooms and codecs colour speech.
- **Gain**: a random overall level in dB (then clipped to [-1, 1]).
- **Speed perturbation**: resampling by a factor (0.9 = 10 % slower and lower, linear
  interpolation), as Kaldi's speed perturbation; the AU label track is stretched by the same factor so it stays aligned.
"""

from __future__ import annotations

import math

import numpy as np

from espnet_cause.io.timegrid import num_frames_for_fps


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def colored_noise(num_samples: int, beta: float, rng: np.random.Generator) -> np.ndarray:
    """(N,) Gaussian noise with power spectrum ``1 / f**beta``, unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(num_samples))
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = 1.0
    noise = np.fft.irfft(spec / f ** (beta / 2.0), n=num_samples)
    return noise / max(_rms(noise), 1e-12)


def add_noise(
    speech: np.ndarray, snr_db: float, rng: np.random.Generator, *, babble_prob: float = 0.3
) -> np.ndarray:
    """Add coloured or babble noise at ``snr_db`` (speech power / noise power, whole utterance).

    Args:
        speech: (N,) samples.
        snr_db: Signal-to-noise ratio in dB.
        rng: Random generator.
        babble_prob: Probability of babble (reversed, shifted speech) instead of coloured noise.

    Returns:
        (N,) float32 noisy speech (not clipped).
    """
    x = np.asarray(speech, np.float64)
    if rng.random() < babble_prob:
        noise = np.roll(x[::-1], int(rng.integers(len(x))))
        noise = noise / max(_rms(noise), 1e-12)
    else:
        noise = colored_noise(len(x), float(rng.uniform(0.0, 2.0)), rng)
    scale = _rms(x) / (10.0 ** (snr_db / 20.0))
    return (x + scale * noise).astype(np.float32)


def synthetic_rir(fs: int, rt60_s: float, rng: np.random.Generator) -> np.ndarray:
    """A room impulse response: 1 at lag 0, then noise decaying 60 dB over ``rt60_s``.

    The reverberant tail starts after 2.5 ms (a first reflection) and carries about as much
    energy as the direct path for a 0.5 s RT60, less for shorter ones.

    Returns:
        (L,) float64, L = 1.2 * rt60 * fs, peak-normalised to the direct path 1.
    """
    length = max(int(1.2 * rt60_s * fs), 2)
    t = np.arange(length) / fs
    tail = rng.standard_normal(length) * np.exp(-6.9078 * t / rt60_s)  # ln(1000) = 60 dB
    tail[: int(0.0025 * fs) + 1] = 0.0
    tail *= math.sqrt(rt60_s / 0.5) / max(float(np.sqrt(np.sum(tail**2))), 1e-12)
    rir = tail
    rir[0] = 1.0
    return rir


def reverberate(speech: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """Causal convolution with ``rir``, cut to the input length, at the input's RMS."""
    from scipy.signal import fftconvolve

    x = np.asarray(speech, np.float64)
    y = fftconvolve(x, rir)[: len(x)]
    return (y * (_rms(x) / max(_rms(y), 1e-12))).astype(np.float32)


def eq_tilt(
    speech: np.ndarray,
    fs: int,
    tilt_db_per_decade: float,
    rng: np.random.Generator,
    *,
    num_bands: int = 3,
    band_gain_db: float = 6.0,
) -> np.ndarray:
    """Zero-phase EQ: a spectral tilt around 1 kHz plus ``num_bands`` random peaking bands.

    Args:
        speech: (N,) samples.
        fs: Sample rate.
        tilt_db_per_decade: Gain slope over log10-frequency (positive: brighter).
        rng: Random generator (band centres, widths and gains).
        num_bands: Peaking bands, centres log-uniform in 150 Hz .. 0.45 fs.
        band_gain_db: Band gains are uniform in +-this.

    Returns:
        (N,) float32 at the input's RMS.
    """
    x = np.asarray(speech, np.float64)
    spec = np.fft.rfft(x)
    f = np.maximum(np.fft.rfftfreq(len(x), 1.0 / fs), 20.0)
    octaves = np.log2(f)
    gain_db = tilt_db_per_decade * np.log10(f / 1000.0)
    for _ in range(num_bands):
        centre = rng.uniform(np.log2(150.0), np.log2(0.45 * fs))
        width = rng.uniform(0.3, 1.5)  # octaves (Gaussian sigma)
        gain_db += rng.uniform(-band_gain_db, band_gain_db) * np.exp(
            -0.5 * ((octaves - centre) / width) ** 2
        )
    y = np.fft.irfft(spec * 10.0 ** (gain_db / 20.0), n=len(x))
    return (y * (_rms(x) / max(_rms(y), 1e-12))).astype(np.float32)


def speed_perturb(
    speech: np.ndarray, au: np.ndarray | None, factor: float, fs: int, au_fps: float
) -> tuple[np.ndarray, np.ndarray | None]:
    """Play ``speech`` ``factor`` times faster (pitch moves too) and stretch ``au`` to match.

    Args:
        speech: (N,) samples.
        au: (T, D) label track at ``au_fps`` (frame k at k / au_fps), or None.
        factor: Speed factor (> 1: faster, shorter).
        fs: Sample rate.
        au_fps: Label frame rate.

    Returns:
        (round(N / factor),) float32 speech and its (ceil(N' / fs * au_fps), D) labels
        (linear interpolation at ``k / au_fps * factor`` of the original time axis).
    """
    x = np.asarray(speech, np.float64)
    num_out = max(int(round(len(x) / factor)), 1)
    # linear interpolation: cheap enough to run per utterance in the data loader; at speeds of
    # 0.9-1.1 the little aliasing it adds is far below the augmentation noise
    y = np.interp(np.arange(num_out) * factor, np.arange(len(x)), x).astype(np.float32)
    if au is None:
        return y, None

    au = np.asarray(au)
    num = num_frames_for_fps(len(y) / fs, au_fps)
    src_t = np.arange(len(au)) / au_fps
    t = np.arange(num) / au_fps * factor
    out = np.stack([np.interp(t, src_t, au[:, j]) for j in range(au.shape[1])], axis=1)
    return y, out.astype(au.dtype)


class SpeechAugmenter:
    """Random chain of the effects above for one training utterance (module docstring).

    Order: speed, EQ/tilt, reverberation, noise, gain. Each is applied with its probability.

    Args:
        fs: Sample rate of the speech.
        au_fps: Frame rate of the AU labels (for speed perturbation).
        noise_prob: Probability of additive noise.
        snr_db: SNR range in dB (uniform).
        reverb_prob: Probability of reverberation.
        rt60_s: RT60 range in seconds (uniform).
        eq_prob: Probability of EQ and tilt.
        tilt_db_per_decade: Tilt range (uniform in +-this).
        gain_db: Gain range in dB (uniform), always applied; (0, 0) for none.
        speed_prob: Probability of speed perturbation.
        speeds: Speed factors to choose from (uniformly).
    """

    def __init__(
        self,
        *,
        fs: int = 16000,
        au_fps: float = 25.0,
        noise_prob: float = 0.5,
        snr_db: tuple[float, float] = (5.0, 30.0),
        reverb_prob: float = 0.4,
        rt60_s: tuple[float, float] = (0.15, 0.7),
        eq_prob: float = 0.6,
        tilt_db_per_decade: float = 8.0,
        gain_db: tuple[float, float] = (-20.0, 6.0),
        speed_prob: float = 0.4,
        speeds: tuple[float, ...] = (0.9, 0.95, 1.05, 1.1),
    ) -> None:
        for name, p in (
            ("noise_prob", noise_prob),
            ("reverb_prob", reverb_prob),
            ("eq_prob", eq_prob),
            ("speed_prob", speed_prob),
        ):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {p}")
        if any(s <= 0 for s in speeds):
            raise ValueError(f"speeds must be positive, got {speeds}")
        self.fs = int(fs)
        self.au_fps = float(au_fps)
        self.noise_prob = noise_prob
        self.snr_db = tuple(snr_db)
        self.reverb_prob = reverb_prob
        self.rt60_s = tuple(rt60_s)
        self.eq_prob = eq_prob
        self.tilt_db_per_decade = tilt_db_per_decade
        self.gain_db = tuple(gain_db)
        self.speed_prob = speed_prob
        self.speeds = tuple(speeds)

    def __call__(
        self, speech: np.ndarray, au: np.ndarray | None, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Augment one utterance.

        Args:
            speech: (N,) float speech at :attr:`fs`.
            au: (T, D) labels at :attr:`au_fps`, or None.
            rng: Random generator (the same seed gives the same result).

        Returns:
            Augmented (N',) float32 speech in [-1, 1] and its (T', D) labels (the input labels
            unless the speed changed).
        """
        x = np.asarray(speech, np.float32)
        if self.speeds and rng.random() < self.speed_prob:
            factor = float(self.speeds[int(rng.integers(len(self.speeds)))])
            x, au = speed_perturb(x, au, factor, self.fs, self.au_fps)
        if rng.random() < self.eq_prob:
            tilt = rng.uniform(-self.tilt_db_per_decade, self.tilt_db_per_decade)
            x = eq_tilt(x, self.fs, tilt, rng)
        if rng.random() < self.reverb_prob:
            x = reverberate(x, synthetic_rir(self.fs, rng.uniform(*self.rt60_s), rng))
        if rng.random() < self.noise_prob:
            x = add_noise(x, rng.uniform(*self.snr_db), rng)
        x = x * np.float32(10.0 ** (rng.uniform(*self.gain_db) / 20.0))
        return np.clip(x, -1.0, 1.0).astype(np.float32), au
