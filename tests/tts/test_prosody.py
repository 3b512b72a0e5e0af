"""Prosody measurement and the WORLD vocoder on synthetic signals with known F0, level and length."""

from __future__ import annotations

import math

import numpy as np
import pytest

from espnet_cause.tts.prosody import hz_to_semitones, measure
from espnet_cause.tts.world_vocoder import WorldVocoder, frame_f0

FS = 16000


def harmonic(f0_hz: np.ndarray, amplitude: float = 0.1, fs: int = FS) -> np.ndarray:
    """A voiced-like tone: 5 harmonics of a (possibly gliding) F0, peak-normalised to amplitude."""
    phase = 2 * np.pi * np.cumsum(f0_hz) / fs
    x = sum(np.sin(k * phase) / k for k in range(1, 6))
    return (amplitude * x / np.abs(x).max()).astype(np.float32)


def with_silence(x: np.ndarray, seconds: float = 0.3) -> np.ndarray:
    pad = np.zeros(int(seconds * FS), np.float32)
    return np.concatenate([pad, x, pad])


@pytest.mark.parametrize("f0", [80.0, 120.0, 220.0])
def test_f0_median_of_a_steady_tone(f0):
    x = with_silence(harmonic(np.full(FS, f0)))
    p = measure(x, FS, num_phonemes=12)
    assert p.f0_median == pytest.approx(hz_to_semitones(f0), abs=0.1)
    assert p.f0_range < 0.2
    assert p.active_s == pytest.approx(1.0, abs=0.03)  # the silence around it is not counted
    assert p.rate == pytest.approx(12 / p.active_s)
    assert p.voiced_fraction > 0.9


def test_f0_range_of_a_glide_and_semitone_differences():
    glide = np.geomspace(100.0, 200.0, 2 * FS)  # one octave, evenly in semitones
    p = measure(harmonic(glide), FS)
    assert p.f0_range == pytest.approx(0.9 * 12.0, abs=0.5)  # 5th..95th percentile of 12 st
    assert p.f0_median == pytest.approx(6.0, abs=0.3)  # half way: 141 Hz
    assert math.isnan(p.rate)  # no phoneme count given
    lo, hi = (measure(harmonic(np.full(FS, f)), FS).f0_median for f in (100.0, 100 * 2 ** (3 / 12)))
    assert hi - lo == pytest.approx(3.0, abs=0.1)


def test_energy_and_silence():
    loud, soft = harmonic(np.full(FS, 150.0), 0.2), harmonic(np.full(FS, 150.0), 0.1)
    d = measure(loud, FS).energy_db - measure(soft, FS).energy_db
    assert d == pytest.approx(20 * math.log10(2), abs=0.05)  # twice the amplitude: +6.02 dB
    noise = np.random.default_rng(0).normal(0, 0.05, FS).astype(np.float32)
    p = measure(noise, FS)
    assert math.isnan(p.f0_median) or p.voiced_fraction < 0.2  # noise has no pitch to speak of
    with pytest.raises(ValueError, match="shorter"):
        measure(np.zeros(10, np.float32), FS)


def test_frame_f0_follows_tokens_and_voicing():
    f0 = frame_f0(
        np.log([100.0, 200.0, 150.0]), np.array([20, 0, 20]), np.array([1, 1, 0], bool), 45
    )
    assert len(f0) == 45
    assert f0[:15] == pytest.approx(100.0) and (f0[20:] == 0).all()  # the last token is unvoiced
    assert frame_f0(np.log([100.0]), np.array([0]), np.array([True]), 5).tolist() == [0.0] * 5


def test_world_vocoder_speaks_the_f0_it_is_given():
    import torch
    from espnet2.tts.feats_extract.log_mel_fbank import LogMelFbank

    fbank = LogMelFbank(fs=FS, n_fft=1024, hop_length=256, n_mels=80, fmin=0, fmax=8000)
    src = with_silence(harmonic(np.full(FS, 130.0), 0.3), 0.1)
    logmel, _ = fbank(torch.from_numpy(src)[None], torch.tensor([len(src)]))
    logmel = logmel[0].numpy()
    vocoder = WorldVocoder(fs=FS, n_fft=1024, n_shift=256, n_mels=80, fmin=0, fmax=8000)
    assert vocoder.voiced(["'a", "s", "_", ",n", "tS"]).tolist() == [
        True,
        False,
        False,
        True,
        False,
    ]
    for target in (110.0, 180.0):
        wav = vocoder(logmel, np.full(len(logmel), target))
        assert abs(len(wav) - len(src)) <= 256 * 2
        assert measure(wav, FS).f0_median == pytest.approx(hz_to_semitones(target), abs=0.3)
