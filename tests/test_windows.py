"""Long audio in windows: the same frames as one whole-file call, in bounded memory."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from espnet_cause.inference import windows
from espnet_cause.inference.windows import frame_quantum, windowed_inference

sys.path.insert(0, str(Path(__file__).resolve().parent / "bin"))
from test_infer import make_tiny_model  # noqa: E402

FS = 16000


def _speech(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * FS)) / FS
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 0.7 * t) * np.sin(2 * np.pi * 3.1 * t)
    return (envelope * (0.2 * np.sin(2 * np.pi * 140 * t) + 0.05 * rng.normal(size=t.size))).astype(
        np.float32
    )


def _local_energy(samples: np.ndarray) -> np.ndarray:
    """A model with a 5-frame receptive field: per-frame energy, smoothed over +-2 frames."""
    n = -(-len(samples) * 25 // FS)
    padded = np.pad(samples, (0, n * 640 - len(samples)))
    energy = (padded.reshape(n, 640) ** 2).mean(1)
    smooth = np.convolve(np.pad(energy, 2, mode="edge"), np.ones(5) / 5, mode="valid")
    return np.stack([smooth, np.arange(n) % 7], axis=1).astype(np.float32)


@pytest.mark.parametrize("seconds", [10.0, 10.02, 10.05, 7.99])
def test_windows_equal_whole_for_a_finite_receptive_field(seconds):
    wav = _speech(seconds)
    whole = _local_energy(wav)
    got = windowed_inference(_local_energy, wav, fs=FS, au_fps=25, window_s=1.0, context_s=0.2)
    assert got.shape == whole.shape
    np.testing.assert_allclose(got[:, 0], whole[:, 0], atol=1e-6)
    # the frame index column tells where each window's frames came from: offsets must be exact
    assert not np.array_equal(got[:, 1], whole[:, 1])  # windows restart the local index
    #   ... but the frame count per window lines up with the global grid
    assert got.shape[0] == -(-len(wav) * 25 // FS)


def test_frame_quantum_aligns_samples_and_hops():
    assert frame_quantum(16000, 25, 160) == (1, 640)
    q, samples = frame_quantum(16000, 30, 160)  # 533.3 samples per frame
    assert samples == q * 16000 // 30 and samples % 160 == 0 and (q * 16000) % 30 == 0
    assert frame_quantum(22050, 25, 256)[1] % 256 == 0


@pytest.mark.parametrize("encoder", ["cnn", "mlp"])
def test_speech2au_windows_match_whole_file_within_1e4(tmp_path, monkeypatch, encoder):
    """The documented promise for finite receptive fields: within 1e-4 everywhere."""
    from espnet_cause.inference.speech2au import Speech2AU

    conf = {"hidden_size": 16, "channels": [16, 8]} if encoder == "cnn" else {"units": [16, 8]}
    config, pth = make_tiny_model(tmp_path / encoder, encoder, conf)
    s2au = Speech2AU(train_config=config, model_file=pth, backend="torch")
    wav = _speech(40.3)
    whole = s2au.infer_whole(wav)
    monkeypatch.setattr(windows, "WINDOW_SECONDS", 6.0)
    monkeypatch.setattr(windows, "CONTEXT_SECONDS", 1.0)
    calls = []
    real = s2au.infer_whole
    monkeypatch.setattr(s2au, "infer_whole", lambda w: calls.append(len(w)) or real(w))
    got = s2au(wav, FS)
    assert len(calls) == 7 and max(calls) <= 8.0 * FS  # 6 s windows with 1 s each side
    assert got.shape == whole.shape
    assert float(np.abs(got - whole).max()) < 1e-4


def test_short_audio_is_one_call(tmp_path, monkeypatch):
    from espnet_cause.inference.speech2au import Speech2AU

    config, pth = make_tiny_model(tmp_path / "m")
    s2au = Speech2AU(train_config=config, model_file=pth, backend="torch")
    calls = []
    real = s2au.infer_whole
    monkeypatch.setattr(s2au, "infer_whole", lambda w: calls.append(len(w)) or real(w))
    s2au(_speech(3.0), FS)
    assert calls == [3 * FS]
