"""Acoustic frontends: ESPnet's log-mel frontend, optionally with Praat prosody appended.

The prosody features (computed per utterance on the CPU with praat-parselmouth, aligned with
the centred STFT frames ``j * hop_length / fs``):

- log-F0 (natural log of Hz), linearly interpolated through unvoiced frames,
- voicing (1 voiced, 0 unvoiced; fractional between Praat's pitch frames),
- intensity in dB (Praat's ``To Intensity``), floored at ``INTENSITY_FLOOR_DB``.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import torch
from espnet2.asr.frontend.abs_frontend import AbsFrontend
from espnet2.asr.frontend.default import DefaultFrontend

logger = logging.getLogger(__name__)

#: Number of prosody features appended to the log-mel features.
NUM_PROSODY_FEATS = 3
#: Lowest intensity reported (dB); Praat reports about -300 dB for digital silence.
INTENSITY_FLOOR_DB = 0.0


def frontend_fs_hop(frontend: AbsFrontend) -> tuple[int, int]:
    """Sampling rate and hop length (samples) of a frontend.

    Works for :class:`DefaultFrontend` (``fs`` read from its mel filterbank) and for
    :class:`ProsodyFrontend`.
    """
    hop = int(frontend.hop_length)
    fs = getattr(frontend, "fs", None)
    if fs is None:
        fs = frontend.logmel.mel_options["sr"]
    return int(fs), hop


def prosody_features(
    samples: np.ndarray,
    fs: int,
    hop_length: int,
    num_frames: int,
    pitch_floor: float = 75.0,
    pitch_ceiling: float = 600.0,
) -> np.ndarray:
    """Log-F0, voicing and intensity on the centred frame grid.

    Args:
        samples: (N,) float waveform.
        fs: Its sampling rate.
        hop_length: Frame hop in samples; frame ``j`` is at ``j * hop_length / fs`` seconds.
        num_frames: Frames to return.
        pitch_floor: Lowest F0 searched (Hz); also the intensity analysis' minimum pitch.
        pitch_ceiling: Highest F0 searched (Hz).

    Returns:
        (num_frames, 3) float32: log-F0, voicing, intensity (dB). A signal too short for Praat
        gives log(pitch_floor), 0 and the floor.
    """
    import parselmouth

    times = np.arange(num_frames) * hop_length / fs
    out = np.empty((num_frames, NUM_PROSODY_FEATS), dtype=np.float32)
    out[:, 0] = math.log(pitch_floor)
    out[:, 1] = 0.0
    out[:, 2] = INTENSITY_FLOOR_DB
    if num_frames == 0:
        return out
    snd = parselmouth.Sound(np.asarray(samples, dtype=np.float64), sampling_frequency=fs)
    step = hop_length / fs
    try:
        pitch = snd.to_pitch(time_step=step, pitch_floor=pitch_floor, pitch_ceiling=pitch_ceiling)
        f0 = pitch.selected_array["frequency"]
        pt = pitch.xs()
        voiced = f0 > 0
        if voiced.any():
            out[:, 0] = np.interp(times, pt[voiced], np.log(f0[voiced]))
            out[:, 1] = np.interp(times, pt, voiced.astype(np.float64))
    except parselmouth.PraatError as exc:
        logger.debug("no pitch for a %d-sample signal: %s", len(samples), exc)
    try:
        intensity = snd.to_intensity(minimum_pitch=pitch_floor, time_step=step)
        values = np.maximum(intensity.values[0], INTENSITY_FLOOR_DB)
        out[:, 2] = np.interp(times, intensity.xs(), values)
    except parselmouth.PraatError as exc:
        logger.debug("no intensity for a %d-sample signal: %s", len(samples), exc)
    return out


class ProsodyFrontend(AbsFrontend):
    """Log-mel features (ESPnet's :class:`DefaultFrontend`) with log-F0, voicing and intensity.

    Not differentiable in the prosody part and not streamable (Praat's pitch tracker chooses
    its path over the whole utterance).

    Args:
        fs: Sampling rate.
        n_fft: FFT size.
        win_length: Window length in samples (None: n_fft).
        hop_length: Hop in samples (160 at 16 kHz = 100 fps).
        n_mels: Mel bands.
        fmin: Lowest mel frequency (None: 0).
        fmax: Highest mel frequency (None: fs / 2).
        pitch_floor: Lowest F0 (Hz).
        pitch_ceiling: Highest F0 (Hz).
    """

    def __init__(
        self,
        fs: int = 16000,
        n_fft: int = 512,
        win_length: int | None = 400,
        hop_length: int = 160,
        n_mels: int = 80,
        fmin: int | None = None,
        fmax: int | None = None,
        pitch_floor: float = 75.0,
        pitch_ceiling: float = 600.0,
    ) -> None:
        super().__init__()
        self.fs = fs
        self.hop_length = hop_length
        self.pitch_floor = pitch_floor
        self.pitch_ceiling = pitch_ceiling
        self.logmel_frontend = DefaultFrontend(
            fs=fs,
            n_fft=n_fft,
            win_length=win_length,
            hop_length=hop_length,
            n_mels=n_mels,
            fmin=fmin,
            fmax=fmax,
            frontend_conf=None,
        )
        self.n_mels = n_mels

    def output_size(self) -> int:
        return self.n_mels + NUM_PROSODY_FEATS

    def forward(
        self, input: torch.Tensor, input_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, N) waveforms -> (B, F, n_mels + 3) features and (B,) frame counts."""
        feats, feats_lengths = self.logmel_frontend(input, input_lengths)
        pros = torch.zeros(feats.size(0), feats.size(1), NUM_PROSODY_FEATS, dtype=feats.dtype)
        wav = input.detach().float().cpu().numpy()
        for b in range(input.size(0)):
            n = int(input_lengths[b])
            nf = int(feats_lengths[b])
            p = prosody_features(
                wav[b, :n], self.fs, self.hop_length, nf, self.pitch_floor, self.pitch_ceiling
            )
            pros[b, :nf] = torch.from_numpy(p)
        return torch.cat([feats, pros.to(feats.device)], dim=-1), feats_lengths
