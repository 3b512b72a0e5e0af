"""Acoustic augmentation: deterministic with a seed, and each effect does what it says."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_cause.models.augment import (
    SpeechAugmenter,
    add_noise,
    eq_tilt,
    reverberate,
    speed_perturb,
    synthetic_rir,
)

FS = 16000


def _speech(seconds=1.0):
    t = np.arange(int(seconds * FS)) / FS
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)
    return (0.3 * env * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_deterministic_with_a_seed():
    x = _speech()
    au = np.random.default_rng(0).random((25, 17)).astype(np.float32)
    aug = SpeechAugmenter(noise_prob=1, reverb_prob=1, eq_prob=1, speed_prob=1)
    a1, l1 = aug(x, au, np.random.default_rng(7))
    a2, l2 = aug(x, au, np.random.default_rng(7))
    a3, _ = aug(x, au, np.random.default_rng(8))
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(l1, l2)
    assert a1.shape != a3.shape or not np.array_equal(a1, a3)
    assert a1.dtype == np.float32 and np.abs(a1).max() <= 1.0


@pytest.mark.parametrize("snr", [0.0, 10.0, 20.0])
def test_noise_at_the_snr(snr):
    x = _speech()
    y = add_noise(x, snr, np.random.default_rng(1), babble_prob=0.0)
    noise = y - x
    measured = 10 * np.log10(np.mean(x.astype(np.float64) ** 2) / np.mean(noise**2))
    assert measured == pytest.approx(snr, abs=0.1)


def test_reverb_keeps_alignment_and_length():
    rir = synthetic_rir(FS, 0.4, np.random.default_rng(0))
    assert rir[0] == 1.0 and np.argmax(np.abs(rir)) == 0
    impulse = np.zeros(FS, np.float32)
    impulse[1000] = 1.0
    y = reverberate(impulse, rir)
    assert len(y) == FS and np.argmax(np.abs(y)) == 1000  # direct path stays at lag 0
    reverberant = np.sum(y[1001:] ** 2) / np.sum(y**2)  # energy after the direct path
    assert 0.2 < reverberant < 0.8
    late = np.sum(y[1000 + int(0.2 * FS) :] ** 2) / np.sum(y[1001:] ** 2)
    assert 1e-4 < late < 0.05  # 60 dB over 0.4 s: about -30 dB after 0.2 s


def test_tilt_moves_energy_to_the_highs():
    noise = np.random.default_rng(0).standard_normal(FS).astype(np.float32)
    y = eq_tilt(noise, FS, 12.0, np.random.default_rng(0), num_bands=0)
    spec = np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(FS, 1 / FS)
    assert spec[f > 4000].mean() > 10 * spec[(f > 100) & (f < 300)].mean()


def test_speed_stretches_labels():
    x = _speech(2.0)
    au = np.zeros((50, 17), np.float32)
    au[25, 0] = 1.0  # an event at 1.0 s
    y, out = speed_perturb(x, au, 1.25, FS, 25.0)
    assert len(y) == pytest.approx(len(x) / 1.25, abs=2)
    assert len(out) == 40
    assert np.argmax(out[:, 0]) == 20  # now at 0.8 s


def test_bad_settings():
    with pytest.raises(ValueError, match="noise_prob"):
        SpeechAugmenter(noise_prob=1.5)
