"""Each CAUSE encoder: forward, backward, causality, masking (tiny sizes)."""

import pytest
import torch

from espnet_cause.models.encoders.cnn import CNNEncoder, DilatedCNNEncoder
from espnet_cause.models.encoders.conformer import ConformerCAUSEEncoder
from espnet_cause.models.encoders.expressive import ExpressiveCNNEncoder
from espnet_cause.models.encoders.mlp import MLPEncoder
from espnet_cause.models.encoders.rnn import RNNEncoder

TINY = {
    "cnn": (CNNEncoder, dict(hidden_size=8, channels=[8, 6, 4])),
    "cnn_causal": (CNNEncoder, dict(hidden_size=8, channels=[8, 6, 4], causal=True)),
    "cnn_causal_norm": (
        CNNEncoder,
        dict(hidden_size=8, channels=[8, 6, 4], causal=True, input_norm_frames=4),
    ),
    "dcnn": (DilatedCNNEncoder, dict(hidden_size=8, channels=[8, 4], dilations=[1, 3])),
    "dcnn_causal": (
        DilatedCNNEncoder,
        dict(hidden_size=8, channels=[8, 4], dilations=[1, 3], causal=True),
    ),
    "rnn": (RNNEncoder, dict(hidden_size=8, rnn_units=4, num_layers=2)),
    "rnn_causal": (RNNEncoder, dict(hidden_size=8, rnn_units=4, num_layers=2, causal=True)),
    "mlp": (MLPEncoder, dict(units=[8, 4])),
    "expressive": (
        ExpressiveCNNEncoder,
        dict(hidden_size=8, channels=[8, 4], expression_size=3, expression_channels=[6, 6]),
    ),
    "conformer": (
        ConformerCAUSEEncoder,
        dict(output_size=8, attention_heads=2, linear_units=8, num_blocks=1, cnn_module_kernel=3),
    ),
}


def build(name: str, input_size: int = 5):
    cls, conf = TINY[name]
    return cls(input_size=input_size, **conf)


@pytest.mark.parametrize("name", sorted(TINY))
def test_forward_backward(name):
    torch.manual_seed(0)
    enc = build(name)
    xs = torch.randn(2, 11, 5)
    ilens = torch.tensor([11, 7])
    xs[1, 7:] = 0.0
    hs, olens = enc(xs, ilens)
    assert hs.shape == (2, 11, enc.output_size())
    assert torch.equal(olens, ilens)
    assert torch.all(hs[1, 7:] == 0)
    hs.sum().backward()
    grads = [p.grad for p in enc.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("name", sorted(TINY))
def test_batch_equals_single(name):
    """Padding never leaks into a shorter utterance's output."""
    torch.manual_seed(0)
    enc = build(name).eval()
    xs = torch.randn(2, 9, 5)
    xs[1, 6:] = 0.0
    hs, _ = enc(xs, torch.tensor([9, 6]))
    single, _ = enc(xs[1:, :6], torch.tensor([6]))
    assert torch.allclose(hs[1, :6], single[0], atol=1e-5)


@pytest.mark.parametrize(
    "name", ["cnn_causal", "cnn_causal_norm", "dcnn_causal", "rnn_causal", "mlp"]
)
def test_causal_and_chunks(name):
    torch.manual_seed(0)
    enc = build(name).eval()
    assert enc.is_causal
    xs = torch.randn(1, 13, 5)
    full, _ = enc(xs, torch.tensor([13]))
    # changing the future leaves the past unchanged
    xs2 = xs.clone()
    xs2[:, 8:] += 1.0
    full2, _ = enc(xs2, torch.tensor([13]))
    assert torch.allclose(full[:, :8], full2[:, :8], atol=1e-6)
    # chunk by chunk equals offline
    state = enc.init_state(1)
    outs = []
    for a, b in [(0, 1), (1, 5), (5, 6), (6, 13)]:
        out, state = enc.forward_chunk(xs[:, a:b], state)
        outs.append(out)
    assert torch.allclose(torch.cat(outs, 1), full, atol=1e-5)


@pytest.mark.parametrize("name", ["cnn", "cnn_causal", "cnn_causal_norm", "dcnn", "dcnn_causal"])
def test_silence_stays_silence_at_the_edges(name):
    """A constant input (steady silence) gives the same output at every frame, edges included.

    The features are z-scored, so zero padding would put "average speech" next to the silence and
    make the first and last frames differ (by 0.007 for this random encoder before the edges were
    replicated; a trained model's edge error is larger, see tests/bin/test_infer_silence.py).
    """
    torch.manual_seed(0)
    enc = build(name).eval()
    silence = torch.randn(1, 1, 5).expand(1, 12, 5).contiguous()
    with torch.no_grad():
        out, _ = enc(silence, torch.tensor([12]))
        assert torch.allclose(out, out[:, 6:7].expand_as(out), atol=1e-6)
        # a shorter utterance in a batch: its right edge is its own last frame, not the padding
        batch = torch.cat([torch.randn(1, 12, 5), silence])
        batch[1, 8:] = 0.0
        short, _ = enc(batch, torch.tensor([12, 8]))
        assert torch.allclose(short[1, :8], out[0, :8], atol=1e-6)
        if enc.is_causal:  # a stream starts from the same edge
            state = enc.init_state(1)
            chunks = []
            for a, b in [(0, 1), (1, 4), (4, 12)]:
                chunk, state = enc.forward_chunk(silence[:, a:b], state)
                chunks.append(chunk)
            assert torch.allclose(torch.cat(chunks, 1), out, atol=1e-6)


@pytest.mark.parametrize("name", ["cnn", "dcnn", "rnn", "conformer"])
def test_non_causal_refuses_streaming(name):
    enc = build(name)
    assert not enc.is_causal
    with pytest.raises(NotImplementedError):
        enc.init_state(1)


def test_paper_cnn_sizes():
    enc = CNNEncoder(input_size=80)
    assert len(enc.blocks) == 8
    assert enc.output_size() == 8
    assert enc.receptive_field() == 17
    assert DilatedCNNEncoder(input_size=80).receptive_field() == 1 + 2 * 2 * (1 + 3 + 9 + 27)


def test_expressive_branch_sees_the_whole_utterance():
    """Mean pooling: changing the last frames changes the first frames' expression part; the
    cumulative (causal) pooling does not look ahead."""
    torch.manual_seed(0)
    for pooling, causal in (("mean", False), ("cumulative", True)):
        enc = ExpressiveCNNEncoder(
            input_size=5, hidden_size=8, channels=[8, 4], expression_size=3,
            expression_channels=[6], causal=causal, pooling=pooling,
        ).eval()  # fmt: skip
        xs = torch.randn(1, 20, 5)
        later = xs.clone()
        later[:, 15:] += 3.0
        a, _ = enc(xs, torch.tensor([20]))
        b, _ = enc(later, torch.tensor([20]))
        assert a.shape == (1, 20, 4 + 3) and enc.output_size() == 7
        moved = not torch.allclose(a[0, :5, 4:], b[0, :5, 4:])
        assert moved == (pooling == "mean")
        assert torch.allclose(a[0, :5, :4], b[0, :5, :4])  # the cnn part keeps its field


def test_expressive_utterance_norm_ignores_level_and_timbre():
    """expression_norm: utterance: a per-band offset and scale of the whole utterance (level,
    tilt, timbre) leaves the expression part unchanged; the cnn part still hears it; padding
    frames do not count."""
    torch.manual_seed(0)
    enc = ExpressiveCNNEncoder(
        input_size=5, hidden_size=8, channels=[8, 4], expression_size=3,
        expression_channels=[6], expression_norm="utterance",
    ).eval()  # fmt: skip
    xs = torch.randn(2, 20, 5)
    louder = xs * torch.linspace(0.5, 2.0, 5) + torch.linspace(-3.0, 3.0, 5)
    louder[1, 12:] = 7.0  # padding of the shorter utterance: ignored
    lens = torch.tensor([20, 12])
    a, _ = enc(xs, lens)
    b, _ = enc(louder, lens)
    assert torch.allclose(a[0, :, 4:], b[0, :, 4:], atol=1e-4)
    assert torch.allclose(a[1, :12, 4:], b[1, :12, 4:], atol=1e-4)
    assert not torch.allclose(a[0, :, :4], b[0, :, :4])
    plain = ExpressiveCNNEncoder(
        input_size=5, hidden_size=8, channels=[8, 4], expression_size=3, expression_channels=[6]
    ).eval()
    plain.load_state_dict(enc.state_dict())  # the option adds no parameters
    assert not torch.allclose(plain(xs, lens)[0][0, :, 4:], plain(louder, lens)[0][0, :, 4:])
    with pytest.raises(ValueError, match="expression_norm"):
        ExpressiveCNNEncoder(input_size=5, expression_norm="speaker")


def test_expressive_rejects_mean_pooling_when_causal():
    with pytest.raises(ValueError, match="cumulative"):
        ExpressiveCNNEncoder(input_size=5, causal=True, pooling="mean")
    with pytest.raises(ValueError, match="pooling"):
        ExpressiveCNNEncoder(input_size=5, pooling="max")
