"""pack_model's ONNX graphs: torch vs ONNX Runtime, offline and streaming, every encoder."""

from __future__ import annotations

import logging
import zipfile

import numpy as np
import pytest
import torch
import yaml
from onnx_models import ENCODERS, FS, packed, signals, write_model

from espnet_cause.errors import CauseError
from espnet_cause.inference.onnx.export import NotExportable
from espnet_cause.inference.onnx.runtime import OnnxStreamingSpeech2AU
from espnet_cause.inference.packing import pack_model
from espnet_cause.inference.speech2au import Speech2AU

CHUNKS = (640, 333, 4000)


@pytest.fixture(scope="module")
def zips(tmp_path_factory):
    root = tmp_path_factory.mktemp("onnx_models")
    return {name: packed(root, name) for name in ENCODERS}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ESPNET_CAUSE_CACHE", str(tmp_path / "cache"))


def both(zip_path):
    return Speech2AU(zip_path, backend="torch"), Speech2AU(zip_path, backend="onnx")


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_offline_equals_torch(zips, name):
    ref, lite = both(zips[name])
    assert (ref.backend, lite.backend) == ("torch", "onnx")
    assert Speech2AU(zips[name]).backend == "onnx"  # the default when the zip has a graph
    assert (lite.fs, lite.au_fps, lite.hop_length) == (ref.fs, ref.au_fps, ref.hop_length)
    outputs = {}
    for what, wav in signals().items():
        want, got = ref(wav, FS), lite(wav, FS)
        assert got.dtype == np.float32 and got.shape == want.shape, what
        assert np.abs(got - want).max() < 1e-4, what
        outputs[what] = got
    assert outputs["loud"].std(axis=0).max() > 2e-3  # the random model responds to the speech
    # other rates go through the same resampling
    wav = signals()["loud"][:20000]
    np.testing.assert_allclose(lite(wav, 22050), ref(wav, 22050), atol=1e-4)


@pytest.mark.parametrize("name", [n for n in sorted(ENCODERS) if ENCODERS[n][1].get("causal")]
                         + ["mlp"])  # fmt: skip
def test_streaming_equals_torch_and_offline(zips, name):
    ref, lite = both(zips[name])
    wav = np.concatenate([signals()["zeros_then_speech"], signals()["loud"]])
    offline = lite(wav, FS)
    for chunk in CHUNKS:
        stream = lite.streamer()
        assert isinstance(stream, OnnxStreamingSpeech2AU)
        outs = [stream.accept(wav[i : i + chunk]) for i in range(0, len(wav), chunk)]
        outs.append(stream.finish())
        online = np.concatenate(outs)
        tstream = ref.streamer()
        tonline = torch.cat([tstream.accept(wav[i : i + chunk])
                             for i in range(0, len(wav), chunk)] + [tstream.finish()])  # fmt: skip
        assert online.shape == offline.shape == tuple(tonline.shape)
        assert np.abs(online - tonline.numpy()).max() < 1e-4
        assert np.abs(online - offline).max() < 1e-4
        if chunk == 640:  # about one frame per 40 ms chunk once past the start
            assert all(len(o) <= 2 for o in outs[:-1])
    assert lite.algorithmic_latency == pytest.approx(ref.algorithmic_latency)
    assert ref.algorithmic_latency == pytest.approx((160 + 256) / 16000)
    stream.reset()
    again = np.concatenate([stream.accept(wav), stream.finish()])
    np.testing.assert_allclose(again, offline, atol=1e-4)
    with pytest.raises(CauseError, match="finished"):
        stream.accept(wav[:10])
    short = lite.streamer()
    short.accept(wav[:100])
    with pytest.raises(CauseError, match="too short to stream"):
        short.finish()


def test_zip_layout_and_non_causal_models_do_not_stream(zips):
    with zipfile.ZipFile(zips["cnn_c"]) as zf:
        names = set(zf.namelist())
        meta = yaml.safe_load(zf.read("meta.yaml"))
    onnx_members = {"onnx/offline.onnx", "onnx/stream_first.onnx", "onnx/stream.onnx",
                    "onnx/frontend.json"}  # fmt: skip
    assert onnx_members <= names
    assert meta["onnx"]["opset"] >= 17 and meta["onnx"]["streaming"] is True
    assert all(m in meta["sha256"] for m in onnx_members)
    with zipfile.ZipFile(zips["cnn"]) as zf:
        assert "onnx/offline.onnx" in zf.namelist()
        assert "onnx/stream.onnx" not in zf.namelist()
    with pytest.raises(CauseError, match="not causal, it cannot stream"):
        Speech2AU(zips["cnn"], backend="onnx").streamer()


def test_arkit_target_model(tmp_path):
    z = packed(tmp_path, "cnn_c", target="arkit")
    ref, lite = both(z)
    assert lite.target == "arkit" and lite.names == ref.names and len(lite.names) == 51
    wav = signals()["loud"]
    got, want = lite(wav, FS), ref(wav, FS)
    assert got.shape == want.shape == (58, 51) and 0 <= got.min() and got.max() <= 1
    assert np.abs(got - want).max() < 1e-4
    stream, tstream = lite.streamer(), ref.streamer()
    assert stream.target == tstream.target == "arkit"
    a = np.concatenate([stream.accept_arkit(wav), stream.finish_arkit()])
    b = np.concatenate([tstream.accept_arkit(wav), tstream.finish_arkit()])
    assert a.shape == b.shape == (58, 52) and np.abs(a - b).max() < 1e-4


def test_interp_model(tmp_path):
    z = packed(tmp_path, "cnn_c", feats_resample="interp")
    ref, lite = both(z)
    wav = signals()["loud"]
    np.testing.assert_allclose(lite(wav, FS), ref(wav, FS), atol=1e-4)
    with pytest.raises(CauseError, match="streaming needs feats_resample: avg"):
        lite.streamer()


def test_prosody_model_is_packed_without_graph(tmp_path, caplog):
    config, pth = write_model(tmp_path / "p", "cnn", frontend="prosody")
    with caplog.at_level(logging.WARNING):
        z = pack_model(config, pth, tmp_path / "p.zip")
    assert "Praat prosody features are not ported" in caplog.text
    with zipfile.ZipFile(z) as zf:
        assert not any(n.startswith("onnx/") for n in zf.namelist())
        assert "prosody" in yaml.safe_load(zf.read("meta.yaml"))["onnx"]["skipped"]
    assert Speech2AU(z).backend == "torch"  # auto falls back
    with pytest.raises(CauseError, match="no ONNX graph: cannot export the ProsodyFrontend"):
        Speech2AU(z, backend="onnx")
    with pytest.raises(NotExportable, match="ProsodyFrontend"):
        pack_model(config, pth, tmp_path / "p2.zip", onnx=True)
    assert not (tmp_path / "p2.zip").exists()
    z3 = pack_model(config, pth, tmp_path / "p3.zip", onnx=False)
    assert "onnx" not in yaml.safe_load(zipfile.ZipFile(z3).read("meta.yaml"))
