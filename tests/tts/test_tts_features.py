"""Frame grid vs ESPnet's LogMelFbank, the AU embedding under L2 normalisation, AU tensor ops."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from espnet_cause.io.timegrid import num_frames_for_hop, to_hop_grid
from espnet_cause.tts.features import (
    AU_EMBED_DIM,
    au_embed,
    decode_au_embed,
)


@pytest.mark.parametrize(
    "fs,hop,n_fft",
    [
        (16000, 256, 1024),
        (22050, 256, 1024),
        (24000, 300, 2048),
        (44100, 512, 2048),
        (8000, 80, 256),
    ],
)
def test_frame_count_matches_logmelfbank(fs, hop, n_fft):
    from espnet2.tts.feats_extract.log_mel_fbank import LogMelFbank

    fbank = LogMelFbank(fs=fs, n_fft=n_fft, hop_length=hop, n_mels=10, fmax=fs // 2)
    lengths = [hop * 7, hop * 7 + 1, hop * 7 - 1, int(0.73 * fs), n_fft + 3]
    wav = torch.randn(len(lengths), max(lengths))
    feats, feats_lens = fbank(wav, torch.tensor(lengths))
    aus = np.random.default_rng(0).uniform(0, 5, (40, 17)).astype(np.float32)
    for n, espnet_len in zip(lengths, feats_lens.tolist()):
        assert num_frames_for_hop(n, fs, hop, center=True) == espnet_len
        grid = to_hop_grid(aus, 25.0, n, fs, hop)
        assert grid.shape == (espnet_len, 17)
    # unpadded single utterance: the tensor itself has that many frames
    one, _ = fbank(wav[:1, : lengths[1]], torch.tensor(lengths[1:2]))
    assert one.shape[1] == num_frames_for_hop(lengths[1], fs, hop, center=True)


def test_grid_follows_the_au_stream_in_time():
    aus = np.zeros((50, 17), np.float32)
    aus[25:, 8] = 4.0  # AU12 switches on at 1.0 s (frame 25 at 25 fps)
    grid = to_hop_grid(aus, 25.0, 32000, 16000, 160)  # 100 frames per second
    assert grid.shape == (201, 17)
    assert grid[:96, 8].max() == 0.0 and grid[100:, 8].min() == 4.0


def test_embedding_keeps_intensity_through_l2_normalisation():
    rng = np.random.default_rng(1)
    pattern = rng.uniform(0.1, 1.0, (60, 17)).astype(np.float32)
    weak, strong = au_embed(pattern), au_embed(pattern * 3)  # same pattern, 3x intensity
    assert weak.shape == (AU_EMBED_DIM,)
    # without the magnitude channel the two normalise to the same direction ...
    plain = [
        torch.from_numpy(np.concatenate([p.mean(0), p.std(0)])) for p in (pattern, pattern * 3)
    ]
    assert torch.allclose(F.normalize(plain[0], dim=0), F.normalize(plain[1], dim=0), atol=1e-6)
    # ... with it they do not, and the statistics come back from the normalised vector
    nw = F.normalize(torch.from_numpy(weak), dim=0)
    ns = F.normalize(torch.from_numpy(strong), dim=0)
    assert (nw - ns).abs().max() > 0.05
    means, stds = decode_au_embed(ns.numpy())
    np.testing.assert_allclose(means, (pattern * 3).mean(0), rtol=1e-4)
    np.testing.assert_allclose(stds, (pattern * 3).std(0), rtol=1e-4)


def test_embedding_ignores_missing_frames_and_rejects_bad_shapes():
    aus = np.ones((10, 17), np.float32)
    aus[3] = np.nan
    means, stds = decode_au_embed(au_embed(aus))
    np.testing.assert_allclose(means, 1.0, rtol=1e-6)
    np.testing.assert_allclose(stds, 0.0, atol=1e-6)
    with pytest.raises(ValueError):
        au_embed(np.ones((10, 16)))
    with pytest.raises(ValueError):
        au_embed(np.full((3, 17), np.nan))


def test_token_average_and_stretch():
    from espnet_cause.tts.au_ops import stretch, token_average

    au = torch.arange(12, dtype=torch.float32).view(1, 6, 2)  # frames (0,1),(2,3),...
    durations = torch.tensor([[2, 0, 3, 1]])
    out = token_average(au, durations)
    expected = torch.tensor([[[1.0, 2.0], [0.0, 0.0], [6.0, 7.0], [10.0, 11.0]]])
    assert torch.allclose(out, expected)
    with pytest.raises(ValueError):
        token_average(au, torch.tensor([[4, 4]]))
    s = stretch(torch.tensor([[0.0], [1.0]]), 5)
    assert torch.allclose(s[:, 0], torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0]))
    assert stretch(torch.tensor([[2.0, 3.0]]), 4).shape == (4, 2)
    assert torch.allclose(stretch(torch.tensor([[0.0], [2.0]]), 1), torch.tensor([[1.0]]))
