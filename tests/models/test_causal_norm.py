"""CausalMeanNorm: the windowed causal mean, streaming, and a microphone's gain/EQ removed."""

import numpy as np
import pytest
import torch
from espnet2.asr.frontend.default import DefaultFrontend
from espnet2.layers.global_mvn import GlobalMVN

from espnet_cause.models.encoders.causal_norm import CausalMeanNorm
from espnet_cause.models.encoders.cnn import CNNEncoder
from espnet_cause.models.espnet_model import ESPnetCAUSEModel
from espnet_cause.models.streaming import StreamingSpeech2AU


def test_is_the_causal_windowed_mean():
    xs = torch.randn(2, 15, 3, generator=torch.Generator().manual_seed(0))
    out = CausalMeanNorm(4)(xs)
    want = torch.stack([xs[:, t] - xs[:, max(0, t - 3) : t + 1].mean(1) for t in range(15)], 1)
    assert torch.allclose(out, want, atol=1e-6)
    assert torch.all(out[:, 0] == 0)  # the first frame is its own mean


def test_a_per_band_offset_is_removed_and_the_future_is_not_seen():
    xs = torch.randn(1, 20, 4, generator=torch.Generator().manual_seed(1))
    norm = CausalMeanNorm(6)
    offset = torch.tensor([3.0, -2.0, 0.5, 7.0])  # gain + EQ in the log-mel domain
    assert torch.allclose(norm(xs + offset), norm(xs), atol=1e-5)
    later = xs.clone()
    later[:, 12:] += 5.0
    assert torch.allclose(norm(later)[:, :12], norm(xs)[:, :12])
    assert not torch.allclose(norm(later)[:, 12:], norm(xs)[:, 12:])


def test_chunks_equal_offline():
    xs = torch.randn(2, 17, 3, generator=torch.Generator().manual_seed(2))
    norm = CausalMeanNorm(5)
    state, outs = norm.init_state(2, 3), []
    for a, b in [(0, 1), (1, 3), (3, 4), (4, 17)]:
        out, state = norm.forward_chunk(xs[:, a:b], state)
        outs.append(out)
    assert state.shape == (2, 4, 3)
    assert torch.allclose(torch.cat(outs, 1), norm(xs), atol=1e-6)


def test_bad_window():
    with pytest.raises(ValueError, match="window"):
        CausalMeanNorm(1)
    with pytest.raises(ValueError, match="input_norm_frames"):
        CNNEncoder(input_size=3, input_norm_frames=-1)


def _model(tmp_path, input_norm_frames: int) -> ESPnetCAUSEModel:
    torch.manual_seed(0)
    fe = DefaultFrontend(
        fs=16000, n_fft=512, win_length=400, hop_length=160, n_mels=8, frontend_conf=None
    )
    stats = tmp_path / "feats_stats.npz"
    rng = np.random.default_rng(0)
    np.savez(stats, count=10, sum=rng.normal(size=8) * 10 - 50, sum_square=np.full(8, 10 * 30.0))
    enc = CNNEncoder(
        input_size=8, hidden_size=8, channels=[8, 4], causal=True,
        input_norm_frames=input_norm_frames,
    )  # fmt: skip
    return ESPnetCAUSEModel(
        frontend=fe, normalize=GlobalMVN(stats), au_normalize=None, encoder=enc,
        lookahead_frames=2,
    ).eval()  # fmt: skip


@pytest.mark.parametrize("input_norm_frames", [0, 10])
def test_the_model_ignores_the_microphone_gain_only_with_the_norm(tmp_path, input_norm_frames):
    """20 dB quieter speech is the same log-mel plus a constant: the norm makes it the same AUs."""
    m = _model(tmp_path, input_norm_frames)
    t = torch.arange(24000) / 16000
    speech = 0.3 * torch.sin(2 * np.pi * 220 * t) * (1 + torch.sin(2 * np.pi * 3 * t))
    speech = speech + 0.05 * torch.randn(24000, generator=torch.Generator().manual_seed(3))
    loud, quiet = m.inference(speech), m.inference(0.1 * speech)
    diff = (loud - quiet).abs().max().item()
    if input_norm_frames:
        assert diff < 1e-3
        stream = StreamingSpeech2AU(m)
        outs = [stream.accept(speech[i : i + 640]) for i in range(0, len(speech), 640)]
        assert torch.allclose(torch.cat([*outs, stream.finish()]), loud, atol=1e-4)
    else:
        assert diff > 1e-2  # without it the gain shows in the output
