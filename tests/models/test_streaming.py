"""Streaming equals offline for the causal encoders."""

import numpy as np
import pytest
import torch
from espnet2.asr.frontend.default import DefaultFrontend
from espnet2.layers.global_mvn import GlobalMVN

from espnet_cause.errors import CauseError
from espnet_cause.models.encoders.cnn import CNNEncoder, DilatedCNNEncoder
from espnet_cause.models.encoders.mlp import MLPEncoder
from espnet_cause.models.encoders.rnn import RNNEncoder
from espnet_cause.models.espnet_model import ESPnetCAUSEModel
from espnet_cause.models.streaming import StreamingSpeech2AU, algorithmic_latency

ENCODERS = {
    "cnn": lambda d: CNNEncoder(input_size=d, hidden_size=8, channels=[8, 4], causal=True),
    "cnn_norm": lambda d: CNNEncoder(
        input_size=d, hidden_size=8, channels=[8, 4], causal=True, input_norm_frames=5
    ),
    "dcnn": lambda d: DilatedCNNEncoder(
        input_size=d, hidden_size=8, channels=[8, 8, 4], dilations=[1, 3, 9], causal=True
    ),
    "rnn": lambda d: RNNEncoder(
        input_size=d, hidden_size=8, rnn_units=4, num_layers=2, causal=True
    ),
    "mlp": lambda d: MLPEncoder(input_size=d, units=[8, 4]),
}


def build(tmp_path, encoder: str, lookahead_frames: int = 0) -> ESPnetCAUSEModel:
    torch.manual_seed(0)
    fe = DefaultFrontend(
        fs=16000, n_fft=512, win_length=400, hop_length=160, n_mels=8, frontend_conf=None
    )
    stats = tmp_path / "feats_stats.npz"
    rng = np.random.default_rng(0)
    np.savez(stats, count=10, sum=rng.normal(size=8) * 10 - 50, sum_square=np.full(8, 10 * 30.0))
    au = tmp_path / "au_stats.npz"
    np.savez(au, count=10, sum=np.full(17, 25.0), sum_square=np.full(17, 10 * 7.25))
    return ESPnetCAUSEModel(
        frontend=fe,
        normalize=GlobalMVN(stats),
        au_normalize=GlobalMVN(au),
        encoder=ENCODERS[encoder](8),
        lookahead_frames=lookahead_frames,
    ).eval()


@pytest.mark.parametrize(
    "encoder,num_samples,chunk,lookahead",
    [
        ("cnn", 16000, 640, 0),
        ("dcnn", 9000, 640, 0),
        ("rnn", 9000, 640, 0),
        ("mlp", 5003, 333, 0),
        ("cnn", 5003, 333, 0),
        ("cnn", 16000, 640, 2),
        ("cnn_norm", 16000, 640, 2),
        ("cnn_norm", 5003, 333, 0),
        ("rnn", 5003, 333, 3),
    ],
)
def test_streaming_equals_offline(tmp_path, encoder, num_samples, chunk, lookahead):
    torch.set_num_threads(1)
    m = build(tmp_path, encoder, lookahead)
    speech = torch.randn(num_samples, generator=torch.Generator().manual_seed(1)) * 0.1
    offline = m.inference(speech)
    stream = StreamingSpeech2AU(m)
    outs = [stream.accept(speech[i : i + chunk]) for i in range(0, num_samples, chunk)]
    outs.append(stream.finish())
    online = torch.cat(outs)
    assert online.shape == offline.shape
    assert torch.allclose(online, offline, atol=1e-4)
    # bounded latency: once past the start, every 40 ms chunk yields about one 40 ms frame
    if chunk == 640:
        assert all(len(o) <= 2 for o in outs[:-1])
        assert sum(len(o) for o in outs[:-1]) >= len(offline) - 2 - lookahead
    # a second stream after reset gives the same frames
    stream.reset()
    again = torch.cat([stream.accept(speech), stream.finish()])
    assert torch.allclose(again, offline, atol=1e-4)


def test_latency_and_refusals(tmp_path):
    m = build(tmp_path, "cnn")
    assert algorithmic_latency(m) == pytest.approx((160 + 256) / 16000)
    ahead = build(tmp_path, "cnn", lookahead_frames=2)
    assert algorithmic_latency(ahead) == pytest.approx((160 + 256) / 16000 + 2 / 25)
    m.encoder = CNNEncoder(input_size=8, hidden_size=8, channels=[4], causal=False)
    with pytest.raises(CauseError, match="not causal"):
        StreamingSpeech2AU(m)
    stream = StreamingSpeech2AU(build(tmp_path, "mlp"))
    stream.accept(np.zeros(100, np.float32))
    with pytest.raises(CauseError, match="too short"):
        stream.finish()


@pytest.mark.parametrize("target", ["au", "arkit"])
def test_streaming_arkit_frames_for_avatars(tmp_path, target):
    from espnet_cause.arkit import ARKIT_NAMES, BLENDSHAPE_NAMES, arkit_frames

    torch.set_num_threads(1)
    m = build(tmp_path, "cnn")
    if target == "arkit":  # same pipeline, 51 blendshape outputs on 0..1
        stats = tmp_path / "bs_stats.npz"
        np.savez(stats, count=10, sum=np.full(51, 2.0), sum_square=np.full(51, 10 * 0.05))
        m = ESPnetCAUSEModel(
            frontend=m.frontend,
            normalize=m.normalize,
            au_normalize=GlobalMVN(stats),
            encoder=ENCODERS["cnn"](8),
            target="arkit",
        ).eval()
    speech = torch.randn(9000, generator=torch.Generator().manual_seed(2)) * 0.1
    offline = m.inference(speech).numpy()
    stream = StreamingSpeech2AU(m)
    assert stream.target == target and stream.arkit_names == ARKIT_NAMES
    rows = [stream.accept_arkit(c) for c in speech.split(640)] + [stream.finish_arkit()]
    shapes = np.concatenate(rows)
    assert shapes.shape == (len(offline), 52) and shapes.dtype == np.float32
    np.testing.assert_allclose(shapes, arkit_frames(offline), atol=1e-4)
    assert shapes.min() >= 0 and shapes.max() <= 1
    if target == "arkit":
        j = BLENDSHAPE_NAMES.index("jawOpen")
        np.testing.assert_allclose(
            shapes[:, ARKIT_NAMES.index("jawOpen")], offline[:, j], atol=1e-4
        )
