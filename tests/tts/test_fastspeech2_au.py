"""FastSpeech2AU: forward/backward, AU-driven inference, ESPnet model wrapper with AU stats."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from espnet_cause.tts.espnet_model import ESPnetAUTTSModel
from espnet_cause.tts.fastspeech2_au import FastSpeech2AU

TINY = dict(
    adim=16, aheads=2, elayers=1, eunits=16, dlayers=1, dunits=16, postnet_layers=1,
    postnet_chans=8, duration_predictor_layers=1, duration_predictor_chans=8,
    pitch_predictor_layers=1, pitch_predictor_chans=8, energy_predictor_layers=1,
    energy_predictor_chans=8, au_predictor_layers=1, au_predictor_chans=8,
    transformer_enc_dropout_rate=0.0, transformer_dec_dropout_rate=0.0,
    au_embed_dropout=0.0, pitch_embed_dropout=0.0, energy_embed_dropout=0.0,
)  # fmt: skip


def _batch(odim=10, spk=None):
    torch.manual_seed(0)
    durations = torch.tensor([[2, 3, 1, 2], [4, 1, 3, 0]])  # 3 tokens + eos; row 2: 2 tokens + eos
    feats_lengths = durations.sum(1)
    T = int(feats_lengths.max())
    batch = dict(
        text=torch.tensor([[2, 3, 4], [5, 6, 0]]),
        text_lengths=torch.tensor([3, 2]),
        feats=torch.randn(2, T, odim),
        feats_lengths=feats_lengths,
        durations=durations,
        durations_lengths=torch.tensor([4, 3]),
        pitch=torch.randn(2, 4, 1),
        pitch_lengths=torch.tensor([4, 3]),
        energy=torch.randn(2, 4, 1),
        energy_lengths=torch.tensor([4, 3]),
        au=torch.rand(2, T, 17) * 5,
        au_lengths=feats_lengths.clone(),
    )
    if spk:
        batch["spembs"] = torch.randn(2, spk)
    return batch


@pytest.mark.parametrize("reduction_factor,spk", [(1, None), (1, 35), (2, None)])
def test_forward_backward_inference(reduction_factor, spk):
    model = FastSpeech2AU(
        idim=8, odim=10, reduction_factor=reduction_factor, spk_embed_dim=spk, **TINY
    )
    batch = _batch(spk=spk)
    if reduction_factor > 1:
        batch["durations"] = torch.tensor([[1, 2, 1, 0], [1, 1, 1, 0]])
        batch["feats_lengths"] = batch["au_lengths"] = batch["durations"].sum(1) * reduction_factor
    loss, stats, _ = model(**batch)
    loss.backward()
    assert torch.isfinite(loss) and stats["au_loss"] > 0
    assert model.au_embed[0].weight.grad.abs().sum() > 0
    assert model.au_predictor.out.weight.grad.abs().sum() > 0

    model.eval()
    spembs = None if spk is None else torch.randn(spk)
    with torch.no_grad():
        free = model.inference(torch.tensor([2, 3, 4]), spembs=spembs)
        assert free["au"].shape == (4, 17)
        outs = [
            model.inference(torch.tensor([2, 3, 4]), au=torch.full((n, 17), v), spembs=spembs)
            for n, v in ((5, 0.0), (40, 3.0))
        ]
    # the AU conditions the durations, pitch and energy as well as the decoder
    for key in ("pitch", "energy"):
        assert (outs[0][key] - outs[1][key]).abs().max() > 1e-4, key
    if outs[0]["feat_gen"].shape == outs[1]["feat_gen"].shape:
        assert (outs[0]["feat_gen"] - outs[1]["feat_gen"]).abs().max() > 1e-3
    assert torch.allclose(outs[1]["au"][outs[1]["duration"] > 0], torch.tensor(3.0))


def test_training_rejects_au_on_another_grid():
    model = FastSpeech2AU(idim=8, odim=10, **TINY)
    batch = _batch()
    batch["au_lengths"] = batch["au_lengths"] + 1
    with pytest.raises(ValueError, match="feats_extract_conf"):
        model(**batch)
    batch.pop("au"), batch.pop("au_lengths")
    with pytest.raises(ValueError, match="au.scp"):
        model(**batch)


def test_espnet_model_normalises_au_and_collects_its_stats(tmp_path):
    from espnet2.layers.global_mvn import GlobalMVN
    from espnet2.tts.feats_extract.log_mel_fbank import LogMelFbank

    n = 100.0
    mean = np.full(17, 2.0)
    np.savez(
        tmp_path / "au_stats.npz", count=np.array(n), sum=mean * n, sum_square=(mean**2 + 1.0) * n
    )
    fbank = LogMelFbank(fs=16000, n_fft=512, hop_length=128, n_mels=10)
    tts = FastSpeech2AU(idim=8, odim=10, **TINY)
    model = ESPnetAUTTSModel(
        feats_extract=fbank, pitch_extract=None, energy_extract=None, normalize=None,
        pitch_normalize=None, energy_normalize=None, tts=tts,
        au_normalize=GlobalMVN(str(tmp_path / "au_stats.npz")),
    )  # fmt: skip
    b = _batch()
    speech_lengths = (b["feats_lengths"] - 1) * 128
    speech = torch.randn(2, int(speech_lengths.max()))
    loss, stats, _ = model(
        text=b["text"], text_lengths=b["text_lengths"], speech=speech, speech_lengths=speech_lengths,
        durations=b["durations"], durations_lengths=b["durations_lengths"], pitch=b["pitch"],
        pitch_lengths=b["pitch_lengths"], energy=b["energy"], energy_lengths=b["energy_lengths"],
        au=b["au"], au_lengths=b["au_lengths"],
    )  # fmt: skip
    assert torch.isfinite(loss)
    feats = model.collect_feats(
        text=b["text"], text_lengths=b["text_lengths"], speech=speech,
        speech_lengths=speech_lengths, au=b["au"], au_lengths=b["au_lengths"],
    )  # fmt: skip
    assert torch.equal(feats["au"], b["au"]) and torch.equal(
        feats["feats_lengths"], b["au_lengths"]
    )

    model.eval()
    with torch.no_grad():
        # the AU mean maps to 0 after normalisation: token AU reported on the normalised scale
        out = model.inference(
            torch.tensor([2, 3]), au=torch.full((3, 17), 2.0), use_teacher_forcing=False
        )
    assert torch.allclose(out["au"], torch.tensor(0.0), atol=1e-5)


def test_inference_with_a_stream_reports_the_durations_it_used():
    # with an AU stream the durations are fitted to it; the returned ones must be those the
    # features were made with (the WORLD vocoder places the pitch by them), not a new prediction
    for seed in range(20):  # untrained models: some give 0-1 frame durations that differ
        torch.manual_seed(seed)
        model = FastSpeech2AU(idim=8, odim=10, **TINY).eval()
        with torch.no_grad():
            out = model.inference(torch.tensor([2, 3, 4]), au=torch.full((40, 17), 3.0))
        used = out["duration"] > 0
        assert out["feat_gen"].shape[0] == max(int(out["duration"].sum()), 1), seed
        assert torch.allclose(out["au"][used], torch.tensor(3.0)), seed
