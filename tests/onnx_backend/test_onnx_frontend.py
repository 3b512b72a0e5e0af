"""The numpy log-mel frontend equals ESPnet's torch frontend + global MVN within 1e-4."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from onnx_models import FS, signals, write_model

from espnet_cause.errors import CauseError
from espnet_cause.inference.onnx.export import frontend_params
from espnet_cause.inference.onnx.frontend import FrontendParams, LogMelFrontend, avg_pool, interp
from espnet_cause.inference.speech2au import Speech2AU
from espnet_cause.models.frame_rate import avg_pool_frames, interp_frames


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    config, pth = write_model(tmp_path_factory.mktemp("fe"), "cnn")
    return Speech2AU(train_config=config, model_file=pth, backend="torch").model


def torch_features(net, wav: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(wav)[None]
    with torch.no_grad():
        feats, lengths = net.frontend(x, torch.tensor([x.size(1)]))
        feats, _ = net.normalize(feats, lengths)
    return feats[0].numpy()


@pytest.mark.parametrize("name", sorted(signals()))
def test_logmel_matches_torch(net, name):
    wav = signals()[name]
    params = frontend_params(net)
    fe = LogMelFrontend(params)
    got = fe.features(wav)
    want = torch_features(net, wav)
    assert got.shape == want.shape == (1 + len(wav) // 160, params.n_mels)
    assert np.abs(got - want).max() < 1e-4
    # the JSON round trip keeps every number
    again = LogMelFrontend(FrontendParams.from_json(params.to_json())).features(wav)
    np.testing.assert_array_equal(again, got)


@pytest.mark.parametrize("num_feats,num_out", [(1, 1), (5, 2), (101, 26), (400, 100), (13, 9)])
def test_frame_rate_conversion_matches_torch(num_feats, num_out):
    feats = np.random.default_rng(0).normal(size=(num_feats, 3)).astype(np.float32)
    f, fl, ol = torch.from_numpy(feats)[None], torch.tensor([num_feats]), torch.tensor([num_out])
    np.testing.assert_allclose(avg_pool(feats, num_out, 4), avg_pool_frames(f, fl, ol, 4)[0],
                               atol=1e-6)  # fmt: skip
    np.testing.assert_allclose(interp(feats, num_out, 100.0, 30.0),
                               interp_frames(f, fl, ol, 100.0, 30.0)[0], atol=1e-6)  # fmt: skip


def test_frontend_description_refused(net):
    text = frontend_params(net).to_json()
    with pytest.raises(CauseError, match="not valid JSON"):
        FrontendParams.from_json(text[:-10], name="m.zip:onnx/frontend.json")
    bad = text.replace('"format":1', '"format":7')
    with pytest.raises(CauseError, match="unknown frontend format 7"):
        FrontendParams.from_json(bad)
    short = text.replace('"window":{"shape":[512]', '"window":{"shape":[256,2]')
    with pytest.raises(CauseError, match=r"window has shape \(256, 2\)"):
        FrontendParams.from_json(short)
    with pytest.raises(CauseError, match="shorter than the STFT padding"):
        LogMelFrontend(frontend_params(net)).features(np.zeros(100, np.float32))
    assert FS == 16000
