"""Frame grids: counts match ESPnet's feature extractors; resampling is linear by timestamp."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from espnet_cause.au import NUM_AUS
from espnet_cause.errors import CauseError
from espnet_cause.io import timegrid

FS_HOP = [(16000, 160, 512), (16000, 256, 1024), (22050, 256, 1024), (24000, 300, 2048),
          (44100, 512, 2048), (8000, 128, 511)]  # fmt: skip
LENGTHS = [1, 255, 256, 257, 4000, 16001]


@pytest.mark.parametrize(("fs", "hop", "n_fft"), FS_HOP)
def test_num_frames_matches_log_mel_fbank(fs, hop, n_fft):
    from espnet2.tts.feats_extract.log_mel_fbank import LogMelFbank

    fe = LogMelFbank(fs=fs, n_fft=n_fft, hop_length=hop, n_mels=8, fmax=fs // 2)
    for n in LENGTHS:
        if n < n_fft // 2 + 1:  # reflect padding needs at least n_fft // 2 + 1 samples
            continue
        wav = torch.randn(1, n)
        feats, lens = fe(wav, torch.tensor([n]))
        expected = timegrid.num_frames_for_hop(n, fs, hop, n_fft=n_fft)
        assert feats.shape[1] == expected == int(lens[0]), (fs, hop, n)


@pytest.mark.parametrize(("fs", "hop"), [(16000, 128), (16000, 160), (8000, 80)])
def test_num_frames_matches_default_frontend(fs, hop):
    from espnet2.asr.frontend.default import DefaultFrontend

    fe = DefaultFrontend(fs=fs, n_fft=512, hop_length=hop, n_mels=8)
    fe.eval()
    for n in (300, 4000, 16000 + 77):
        feats, lens = fe(torch.randn(2, n), torch.tensor([n, n - 100]))
        assert int(lens[0]) == timegrid.num_frames_for_hop(n, fs, hop)
        assert int(lens[1]) == timegrid.num_frames_for_hop(n - 100, fs, hop)


def test_num_frames_uncentred_and_fps():
    assert timegrid.num_frames_for_hop(1000, 16000, 100, center=False, n_fft=400) == 7
    assert timegrid.num_frames_for_fps(4.0, 25) == 100
    assert timegrid.num_frames_for_fps(4.01, 25) == 101  # a frame at 4.00 s lies inside
    assert timegrid.num_frames_for_fps(0.0, 25) == 0
    assert timegrid.num_frames_for_fps(0.001, 25) == 1
    with pytest.raises(CauseError, match="fps"):
        timegrid.num_frames_for_fps(1.0, 0)


def test_resample_linear_by_timestamp():
    aus = np.zeros((5, NUM_AUS), np.float32)
    aus[:, 3] = [0, 1, 2, 3, 4]  # frame k at k / 10 s
    out = timegrid.resample_au(aus, 10.0, np.array([0.0, 0.05, 0.125, 0.4, 0.9, -1.0]))
    np.testing.assert_allclose(out[:, 3], [0.0, 0.5, 1.25, 4.0, 4.0, 0.0], atol=1e-6)
    assert out.dtype == np.float32 and out.shape == (6, NUM_AUS)


def test_to_fps_and_hop_grid_shapes():
    rng = np.random.default_rng(0)
    aus = rng.uniform(0, 5, (100, NUM_AUS)).astype(np.float32)
    same = timegrid.to_fps(aus, 25, 25, 4.0)
    np.testing.assert_allclose(same, aus, atol=1e-6)
    assert timegrid.to_fps(aus, 25, 100, 4.0).shape == (400, NUM_AUS)
    grid = timegrid.to_hop_grid(aus, 25, 4 * 22050, 22050, 256)
    assert grid.shape == (1 + 4 * 22050 // 256, NUM_AUS)
