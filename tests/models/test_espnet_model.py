"""ESPnetCAUSEModel: forward with masks, collect_feats, inference on the 0-5 scale."""

import numpy as np
import pytest
import torch
from espnet2.asr.frontend.default import DefaultFrontend
from espnet2.layers.global_mvn import GlobalMVN

from espnet_cause.au import NUM_AUS
from espnet_cause.io.timegrid import num_frames_for_samples
from espnet_cause.models.encoders.cnn import CNNEncoder
from espnet_cause.models.espnet_model import ESPnetCAUSEModel
from espnet_cause.models.frame_rate import avg_pool_frames, interp_frames
from espnet_cause.models.frontend import ProsodyFrontend

FS = 16000


def frontend(n_mels: int = 8) -> DefaultFrontend:
    return DefaultFrontend(
        fs=FS, n_fft=512, win_length=400, hop_length=160, n_mels=n_mels, frontend_conf=None
    )


def au_stats(tmp_path, mean: float = 2.0, std: float = 0.5):
    path = tmp_path / "au_stats.npz"
    count = 100
    np.savez(
        path,
        count=count,
        sum=np.full(NUM_AUS, mean * count),
        sum_square=np.full(NUM_AUS, (std**2 + mean**2) * count),
    )
    return GlobalMVN(path, eps=1e-2)


def model(tmp_path=None, **kw) -> ESPnetCAUSEModel:
    fe = kw.pop("frontend", None) or frontend()
    enc = CNNEncoder(input_size=fe.output_size(), hidden_size=8, channels=[8, 4], causal=True)
    au_norm = au_stats(tmp_path) if tmp_path is not None else None
    return ESPnetCAUSEModel(frontend=fe, normalize=None, au_normalize=au_norm, encoder=enc, **kw)


@pytest.mark.parametrize(
    "weights",
    [dict(), dict(mse_weight=0.0, l1_weight=1.0), dict(mse_weight=0.5, ccc_weight=0.5)],
)
def test_forward_backward_masked(tmp_path, weights):
    torch.manual_seed(0)
    m = model(tmp_path, **weights)
    speech = torch.randn(2, 16000) * 0.1
    speech_lengths = torch.tensor([16000, 9000])
    au = torch.rand(2, 25, NUM_AUS) * 5
    au_lengths = torch.tensor([25, 15])
    loss, stats, weight = m(speech, speech_lengths, au, au_lengths)
    assert torch.isfinite(loss) and int(weight) == 2
    assert {"loss", "mse", "l1", "ccc", "pcc"} <= set(stats)
    assert -1.0 <= float(stats["pcc"]) <= 1.0
    loss.backward()
    # padded target frames do not change the loss
    au2 = au.clone()
    au2[1, 15:] = 99.0
    m.eval()
    l1, _, _ = m(speech, speech_lengths, au, au_lengths)
    l2, _, _ = m(speech, speech_lengths, au2, au_lengths)
    assert torch.allclose(l1, l2)
    assert torch.equal(au, au.clone())  # the batch was not normalised in place


def test_collect_feats_and_inference(tmp_path):
    torch.manual_seed(0)
    m = model(tmp_path).eval()
    speech = torch.randn(1, 12345) * 0.1
    feats = m.collect_feats(
        speech, torch.tensor([12345]), torch.rand(1, 20, 17), torch.tensor([20])
    )
    assert feats["feats"].shape == (1, 12345 // 160 + 1, 8)
    assert feats["au"].shape == (1, 20, 17)
    out = m.inference(speech[0])
    assert out.shape == (num_frames_for_samples(12345, FS, 25.0), NUM_AUS) == (20, NUM_AUS)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 5.0
    assert m.inference(speech[0], num_frames=31).shape == (31, NUM_AUS)
    # 4 s at 25 fps: 100 frames
    assert m.inference(torch.zeros(64000) + 0.01).shape == (100, NUM_AUS)


def test_frame_rate_conversion():
    feats = torch.arange(10, dtype=torch.float32).reshape(1, 10, 1)
    out = avg_pool_frames(feats, torch.tensor([10]), torch.tensor([4]), 4)
    # frame k averages feature frames 4k-2 .. 4k+1 that exist; past the end: edge
    assert out[0, :, 0].tolist() == [0.5, 3.5, 7.5, 7.5]
    out = interp_frames(feats, torch.tensor([10]), torch.tensor([3]), 100.0, 25.0)
    assert out[0, :, 0].tolist() == [0.0, 4.0, 8.0]
    assert (
        num_frames_for_samples(64000, FS, 25.0) == 100
        and num_frames_for_samples(64001, FS, 25.0) == 101
    )


def test_prosody_frontend():
    fe = ProsodyFrontend(n_mels=8)
    t = np.arange(16000) / FS
    tone = torch.tensor(0.3 * np.sin(2 * np.pi * 150.0 * t), dtype=torch.float32)
    feats, lens = fe(torch.stack([tone, tone * 0.1]), torch.tensor([16000, 16000]))
    assert feats.shape == (2, 101, 11) and fe.output_size() == 11
    voiced = feats[0, 20:80]
    assert torch.allclose(voiced[:, 8], torch.full((60,), float(np.log(150.0))), atol=0.02)
    assert float(voiced[:, 9].mean()) > 0.9
    # 20 dB quieter
    assert float((feats[0, 20:80, 10] - feats[1, 20:80, 10]).mean()) == pytest.approx(20, abs=1)


@pytest.mark.parametrize("lookahead", [0, 2])
def test_lookahead_frames_bound_what_a_causal_model_sees(lookahead):
    """Output frame k depends on speech up to frame k + lookahead_frames, not later."""
    torch.manual_seed(0)
    m = model(lookahead_frames=lookahead).eval()
    speech = torch.randn(16000) * 0.1
    base = m.inference(speech)
    assert base.shape == (25, NUM_AUS)
    k = 10
    later = speech.clone()
    # change the audio from AU frame k + lookahead + 2 on (clear of the STFT window and pooling)
    later[(k + lookahead + 2) * 640 :] += torch.randn(16000 - (k + lookahead + 2) * 640)
    changed = m.inference(later)
    assert torch.allclose(base[: k + 1], changed[: k + 1], atol=1e-6)
    assert not torch.allclose(base, changed, atol=1e-3)
    # in a batch, a shorter utterance sees zeros after its end, as alone (the last frames differ
    # anyway: the batch's STFT sees zero padding where the single one reflects)
    batch, lengths = m.predict(torch.stack([speech, later]), torch.tensor([16000, 9000]))
    alone = m.inference(later[:9000])
    n = int(lengths[1]) - 2 - lookahead
    assert torch.allclose(batch[1, :n], alone[:n], atol=1e-5)
    with pytest.raises(ValueError, match="lookahead_frames"):
        model(lookahead_frames=-1)


def test_loss_au_weights_weigh_the_named_outputs(tmp_path):
    from espnet_cause.au import AU_NAMES
    from espnet_cause.models.espnet_model import output_weights

    w = output_weights(AU_NAMES, {"AU25": 3.0, "AU26": 3.0})
    assert w.mean().item() == pytest.approx(1.0)
    w25 = float(w[AU_NAMES.index("AU25")])
    assert w25 == pytest.approx(3 * float(w[0]))
    torch.manual_seed(0)
    speech = torch.randn(1, 16000) * 0.1
    au, au_lengths = torch.rand(1, 25, NUM_AUS) * 5, torch.tensor([25])
    plain = model(tmp_path).eval()
    weighted = model(tmp_path, loss_au_weights={"AU25": 3.0, "AU26": 3.0}).eval()
    weighted.load_state_dict(plain.state_dict())  # the weights are not saved in a model
    loss_plain = plain(speech, torch.tensor([16000]), au, au_lengths)[0]
    au_wrong_mouth = au.clone()
    au_wrong_mouth[..., AU_NAMES.index("AU25")] += 2.0  # an error on AU25 alone
    d_plain = plain(speech, torch.tensor([16000]), au_wrong_mouth, au_lengths)[0] - loss_plain
    d_weighted = (
        weighted(speech, torch.tensor([16000]), au_wrong_mouth, au_lengths)[0]
        - weighted(speech, torch.tensor([16000]), au, au_lengths)[0]
    )
    assert float(d_weighted) == pytest.approx(float(d_plain) * w25, rel=1e-3)
    with pytest.raises(ValueError, match="AU99 not among the outputs"):
        model(tmp_path, loss_au_weights={"AU99": 2.0})
    with pytest.raises(ValueError, match="must be > 0"):
        model(tmp_path, loss_au_weights={"AU25": 0.0})


def test_au_weight_batch_masks_outputs_per_utterance(tmp_path):
    """An utterance's au_weight 0 on an AU: its label there does not change loss or gradient."""
    from espnet_cause.au import AU_NAMES

    torch.manual_seed(0)
    m = model(tmp_path).eval()  # no dropout: two calls compare
    speech, lengths = torch.randn(2, 16000) * 0.1, torch.tensor([16000, 16000])
    au, au_lengths = torch.rand(2, 25, NUM_AUS) * 5, torch.tensor([25, 25])
    w = torch.ones(2, NUM_AUS)
    w[1, AU_NAMES.index("AU45")] = 0.0  # utterance 1's blinks do not teach
    other = au.clone()
    other[1, :, AU_NAMES.index("AU45")] = 5.0 - other[1, :, AU_NAMES.index("AU45")]
    loss, stats, _ = m(speech, lengths, au, au_lengths, au_weight=w)
    loss2, stats2, _ = m(speech, lengths, other, au_lengths, au_weight=w)
    assert float(loss) == pytest.approx(float(loss2), rel=1e-6)
    assert float(stats["pcc"]) == pytest.approx(float(stats2["pcc"]), rel=1e-6)
    assert float(m(speech, lengths, other, au_lengths)[0]) != pytest.approx(float(loss), rel=1e-6)
    with pytest.raises(ValueError, match="au_weight vectors have 5 values"):
        m(speech, lengths, au, au_lengths, au_weight=torch.ones(2, 5))
    with pytest.raises(ValueError, match=">= 0"):
        m(speech, lengths, au, au_lengths, au_weight=-w)


def test_au_weight_of_17_aus_weighs_an_arkit_model(tmp_path):
    from espnet_cause.arkit import BLENDSHAPE_NAMES, NUM_BLENDSHAPES
    from espnet_cause.au import AU_NAMES

    torch.manual_seed(0)
    m = model(None, target="arkit").eval()
    speech, lengths = torch.randn(1, 16000) * 0.1, torch.tensor([16000])
    bs, bs_lengths = torch.rand(1, 25, NUM_BLENDSHAPES), torch.tensor([25])
    w = torch.ones(1, NUM_AUS)
    w[0, AU_NAMES.index("AU45")] = 0.0
    other = bs.clone()
    for name in ("eyeBlinkLeft", "eyeBlinkRight"):
        other[..., BLENDSHAPE_NAMES.index(name)] = 1.0
    a = m(speech, lengths, bs, bs_lengths, au_weight=w)[0]
    b = m(speech, lengths, other, bs_lengths, au_weight=w)[0]
    assert float(a) == pytest.approx(float(b), rel=1e-6)


def test_emotion_head_adds_a_cross_entropy(tmp_path):
    """emotion_weight: the expressive encoder's head is trained on labelled utterances only."""
    from espnet_cause.models.encoders.expressive import ExpressiveCNNEncoder

    torch.manual_seed(0)
    fe = frontend()
    enc = ExpressiveCNNEncoder(
        input_size=fe.output_size(), hidden_size=8, channels=[8, 4], expression_size=3,
        expression_channels=[6], num_emotions=8,
    )  # fmt: skip
    m = ESPnetCAUSEModel(
        frontend=fe, normalize=None, au_normalize=None, encoder=enc, emotion_weight=1.0
    ).eval()
    speech = torch.randn(2, 8000) * 0.1
    lengths = torch.tensor([8000, 6000])
    au = torch.rand(2, 13, NUM_AUS)
    au_lengths = torch.tensor([13, 10])
    plain, stats, _ = m(speech, lengths, au, au_lengths)
    assert "emotion_ce" not in stats
    labelled, stats, _ = m(speech, lengths, au, au_lengths, emotion=torch.tensor([[3], [-1]]))
    assert float(labelled - plain) == pytest.approx(float(stats["emotion_ce"]), rel=1e-5)
    assert float(stats["emotion_acc"]) in (0.0, 1.0)  # one labelled utterance
    unlabelled, _, _ = m(speech, lengths, au, au_lengths, emotion=torch.tensor([[-1], [-1]]))
    assert torch.allclose(unlabelled, plain)
    with pytest.raises(ValueError, match="emotion_logits"):
        model(tmp_path, emotion_weight=1.0)


def test_emotion_probabilities_start_as_the_prototype_faces(tmp_path):
    """expression_output: emotions: probability 1 of an emotion adds its prototype (AU units)."""
    from espnet_cause.emotion import EMOTIONS, prototype
    from espnet_cause.models.encoders.expressive import ExpressiveCNNEncoder

    fe = frontend()
    enc = ExpressiveCNNEncoder(
        input_size=fe.output_size(), hidden_size=8, channels=[8, 4], expression_size=3,
        expression_channels=[6], num_emotions=8, expression_output="emotions",
    )  # fmt: skip
    assert enc.output_size() == 4 + 8 and enc.emotion_columns == (4, 12)
    m = ESPnetCAUSEModel(frontend=fe, normalize=None, au_normalize=au_stats(tmp_path), encoder=enc)
    surprised = torch.zeros(1, 1, 12)
    surprised[0, 0, 4 + EMOTIONS.index("surprised")] = 1.0
    zero = torch.zeros(1, 1, 12)
    change = m.denormalize(m.output_layer(surprised), torch.tensor([1])) - m.denormalize(
        m.output_layer(zero), torch.tensor([1])
    )
    want = prototype("surprised", "strong")
    np.testing.assert_allclose(change[0, 0].detach().numpy(), want, atol=1e-5)
    with pytest.raises(ValueError, match="num_emotions"):
        ExpressiveCNNEncoder(input_size=5, expression_output="emotions")


def test_emotion_only_aus_ignore_the_frame_path(tmp_path):
    """emotion_only_aus: those outputs move only with the emotion columns, whatever the weights."""
    from espnet_cause.au import au_index
    from espnet_cause.models.encoders.expressive import ExpressiveCNNEncoder

    fe = frontend()
    enc = ExpressiveCNNEncoder(
        input_size=fe.output_size(), hidden_size=8, channels=[8, 4], expression_size=3,
        expression_channels=[6], num_emotions=8, expression_output="emotions",
    )  # fmt: skip
    m = ESPnetCAUSEModel(
        frontend=fe, normalize=None, au_normalize=None, encoder=enc, emotion_only_aus=["AU12"]
    )
    with torch.no_grad():
        m.output_layer.weight.normal_()  # e.g. weights loaded from a checkpoint
    hs = torch.zeros(1, 2, 12)
    hs[0, 1, :4] = 5.0  # only the frame-level (cnn) part differs between the two frames
    out = m.output_layer(hs)[0]
    assert out[0, au_index("AU12")] == out[1, au_index("AU12")]
    assert out[0, au_index("AU25")] != out[1, au_index("AU25")]
    assert set(m.state_dict()) >= {"output_layer.weight", "output_layer.bias"}
    assert "output_layer.mask" not in m.state_dict()
    with pytest.raises(ValueError, match="emotion columns"):
        model(tmp_path, emotion_only_aus=["AU12"])
