"""The packaged expressive model: found by name everywhere a model is taken, licence stated."""

from __future__ import annotations

import numpy as np

from espnet_cause import assets
from espnet_cause.bin.infer import main as infer_main
from espnet_cause.inference import Speech2AU
from espnet_cause.io.audio import load_audio


def test_expressive_is_a_builtin_name():
    path = assets.resolve_model("expressive")
    assert path == assets.asset_path("cause_expressive.zip") and path.is_file()
    assert assets.resolve_model(None) == assets.cause_model()


def test_expressive_model_runs_and_differs_from_the_default():
    wav, fs = load_audio(assets.demo_wav())
    expressive = Speech2AU("expressive")
    default = Speech2AU()
    a, b = expressive(wav, fs), default(wav, fs)
    assert a.shape == b.shape == (100, 17)
    assert np.isfinite(a).all() and a.min() >= 0.0 and a.max() <= 5.0
    assert not np.allclose(a, b)


def test_infer_takes_the_name(tmp_path):
    out = tmp_path / "aus.npy"
    infer_main(["--model", "expressive", "--wav", str(assets.demo_wav()), "--output", str(out)])
    assert np.load(out).shape == (100, 17)


def test_licence_is_stated():
    notice = assets.asset_path(assets.NOTICE).read_text()
    entry = notice[notice.index("cause_expressive.zip") :]
    assert "CC BY-NC-SA 4.0" in entry and "RAVDESS" in entry
    assert "CC BY-NC-SA 4.0" in assets.BUILTIN_LICENCES["expressive"]
    assert assets.BUILTIN_LICENCES["builtin"] == "Apache-2.0"
    assert set(assets.BUILTIN_LICENCES) == set(assets.BUILTIN_MODELS)
