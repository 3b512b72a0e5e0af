"""A WORLD vocoder for FastSpeech2 output: the mel spectrogram as envelope, the predicted F0 as source.

Griffin-Lim has to find the harmonics in the mel spectrogram itself; a small FastSpeech2 trained
for a few hundred steps on CPU produces spectra too smooth for that (its Griffin-Lim speech has
no pitch Praat can find). FastSpeech2 also predicts the pitch of every token, so this vocoder
takes the source from there, as a parametric (WORLD, Morise et al. 2016) synthesiser does:

- **spectral envelope**: the log-mel frames inverted to a linear magnitude spectrum (ESPnet's
  ``logmel2linear``, the pseudo-inverse of the mel filter bank Griffin-Lim uses), squared;
- **F0**: the token log-F0 that the model predicts (denormalised), repeated over each token's
  frames, smoothed over :data:`SMOOTH_FRAMES` frames and kept within
  :data:`MIN_F0_HZ`..:data:`MAX_F0_HZ`;
- **voicing**: by token: silent for pauses and the unvoiced consonants in ``unvoiced_tokens``
  (by default eSpeak's mnemonics, stress marks ignored), voiced otherwise;
- **aperiodicity**: rising linearly from :data:`APERIODIC_FLOOR` at :data:`APERIODIC_START_HZ` to
  :data:`APERIODIC_CEIL` at :data:`APERIODIC_END_HZ`.

``pyworld`` (the ``tts`` extra) does the synthesis.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: eSpeak NG's unvoiced phoneme mnemonics (pauses are ``_``); stress marks are stripped first.
ESPEAK_UNVOICED = frozenset("_ p t k f T s S h x tS C ? kh ph th".split())
SMOOTH_FRAMES = 5
#: Voiced F0 is kept within these limits (Hz): an untrained or stray prediction stays speakable.
MIN_F0_HZ, MAX_F0_HZ = 40.0, 800.0
APERIODIC_FLOOR, APERIODIC_CEIL = 0.05, 0.95
APERIODIC_START_HZ, APERIODIC_END_HZ = 3000.0, 7000.0


def frame_f0(
    token_log_f0: np.ndarray,
    durations: np.ndarray,
    voiced_tokens: np.ndarray,
    num_frames: int,
) -> np.ndarray:
    """(num_frames,) F0 in Hz from token log-F0 and durations, 0 in unvoiced frames.

    Args:
        token_log_f0: (T_text,) natural-log F0 per token.
        durations: (T_text,) frames per token.
        voiced_tokens: (T_text,) bool.
        num_frames: Frames to produce (the spectrogram's); the last token's value fills up.
    """
    durations = np.maximum(np.asarray(durations, dtype=np.int64), 0)
    lf0 = np.repeat(np.asarray(token_log_f0, dtype=np.float64), durations)
    voiced = np.repeat(np.asarray(voiced_tokens, dtype=bool), durations)
    if len(lf0) == 0:
        return np.zeros(num_frames)
    lf0 = np.pad(lf0, (0, max(0, num_frames - len(lf0))), mode="edge")[:num_frames]
    voiced = np.pad(voiced, (0, max(0, num_frames - len(voiced))))[:num_frames]
    k = SMOOTH_FRAMES
    lf0 = np.convolve(np.pad(lf0, (k // 2, k - 1 - k // 2), mode="edge"), np.ones(k) / k, "valid")
    return np.where(voiced, np.exp(np.clip(lf0, np.log(MIN_F0_HZ), np.log(MAX_F0_HZ))), 0.0)


class WorldVocoder:
    """Log-mel envelope + frame F0 -> speech with WORLD.

    Args:
        fs: Sample rate.
        n_fft: FFT size of the features (the envelope has ``n_fft // 2 + 1`` bins).
        n_shift: Hop in samples.
        n_mels: Mel bins.
        fmin: Lowest mel frequency (None: 0).
        fmax: Highest mel frequency (None: fs / 2).
        unvoiced_tokens: Tokens spoken without voicing (stress marks ``'`` ``,`` are stripped).
    """

    def __init__(
        self,
        fs: int,
        n_fft: int,
        n_shift: int,
        n_mels: int,
        fmin: int | None = None,
        fmax: int | None = None,
        unvoiced_tokens: frozenset[str] = ESPEAK_UNVOICED,
    ) -> None:
        self.fs, self.n_fft, self.n_shift, self.n_mels = int(fs), int(n_fft), int(n_shift), n_mels
        self.fmin = None if fmin is None else int(fmin)
        self.fmax = None if fmax is None else int(fmax)
        self.unvoiced_tokens = unvoiced_tokens

    def voiced(self, tokens: Sequence[str]) -> np.ndarray:
        """(T,) whether each token is voiced."""
        return np.array([t.lstrip("',") not in self.unvoiced_tokens for t in tokens], dtype=bool)

    def __call__(self, logmel: np.ndarray, f0: np.ndarray) -> np.ndarray:
        """Synthesise speech.

        Args:
            logmel: (T, n_mels) log10-mel magnitudes (denormalised model output).
            f0: (T,) F0 in Hz, 0 where unvoiced.

        Returns:
            (N,) float32 speech at ``fs``.
        """
        import pyworld
        from espnet2.utils.griffin_lim import logmel2linear

        logmel = np.asarray(logmel, dtype=np.float64)
        mag = logmel2linear(logmel, self.fs, self.n_fft, self.n_mels, self.fmin, self.fmax)
        sp = np.ascontiguousarray(np.maximum(mag, 1e-6) ** 2, dtype=np.float64)
        freqs = np.arange(self.n_fft // 2 + 1) * self.fs / self.n_fft
        ramp = (freqs - APERIODIC_START_HZ) / (APERIODIC_END_HZ - APERIODIC_START_HZ)
        ap = np.clip(ramp, APERIODIC_FLOOR, APERIODIC_CEIL)
        ap = np.ascontiguousarray(np.broadcast_to(ap, sp.shape), dtype=np.float64)
        f0 = np.ascontiguousarray(f0, dtype=np.float64)
        wav = pyworld.synthesize(f0, sp, ap, self.fs, frame_period=1000.0 * self.n_shift / self.fs)
        return wav.astype(np.float32)
