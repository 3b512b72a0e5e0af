"""model.zip: packing with stats, unpacking into the cache, bad zips."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import yaml

from espnet_cause.errors import CauseError
from espnet_cause.inference.model_zip import unpack_model
from espnet_cause.inference.packing import pack_model


def _exp(tmp_path):
    exp = tmp_path / "exp" / "run"
    stats = tmp_path / "exp" / "stats"
    stats.mkdir(parents=True)
    exp.mkdir(parents=True)
    np.savez(stats / "feats_stats.npz", count=np.array(3.0), sum=np.ones(4))
    np.savez(exp / "au_stats.npz", count=np.array(3.0), sum=np.ones(17))
    config = {
        "encoder": "cnn",
        "normalize_conf": {"stats_file": "exp/stats/feats_stats.npz"},  # relative to the recipe
        "au_normalize_conf": {"stats_file": str(exp / "au_stats.npz")},  # absolute
        "train_shape_file": ["exp/stats/train/speech_shape"],
    }
    (exp / "config.yaml").write_text(yaml.safe_dump(config))
    (exp / "valid.loss.best.pth").write_bytes(b"weights")
    return exp


def test_pack_unpack_roundtrip(tmp_path, monkeypatch):
    exp = _exp(tmp_path)
    monkeypatch.chdir(tmp_path)
    # stand-in weights: no model to export (tests/onnx_backend packs real ones with graphs)
    out = pack_model(
        exp / "config.yaml", exp / "valid.loss.best.pth", exp / "model.zip", onnx=False
    )
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        inner = yaml.safe_load(zf.read("config.yaml"))
    assert names == {"meta.yaml", "config.yaml", "model.pth", "stats/feats_stats.npz",
                     "stats/au_stats.npz"}  # fmt: skip
    assert inner["normalize_conf"]["stats_file"] == "stats/feats_stats.npz"
    assert inner["train_shape_file"] == ["exp/stats/train/speech_shape"]  # untouched
    config, model = unpack_model(out, cache_dir=tmp_path / "cache")
    assert model.read_bytes() == b"weights"
    conf = yaml.safe_load(config.read_text())
    stats = conf["au_normalize_conf"]["stats_file"]
    assert stats.startswith(str(tmp_path / "cache")) and np.load(stats)["sum"].shape == (17,)
    # a second unpack reuses the extraction
    mtime = config.stat().st_mtime_ns
    assert unpack_model(out, cache_dir=tmp_path / "cache") == (config, model)
    assert config.stat().st_mtime_ns == mtime


def test_pack_missing_stats(tmp_path, monkeypatch):
    exp = _exp(tmp_path)
    monkeypatch.chdir(exp)  # relative stats path does not resolve from here
    with pytest.raises(CauseError, match="normalize_conf.stats_file"):
        pack_model(exp / "config.yaml", exp / "valid.loss.best.pth", exp / "model.zip", onnx=False)
    assert not (exp / "model.zip").exists()


def test_unpack_bad_zips(tmp_path, monkeypatch):
    exp = _exp(tmp_path)
    monkeypatch.chdir(tmp_path)
    good = pack_model(
        exp / "config.yaml", exp / "valid.loss.best.pth", tmp_path / "m.zip", onnx=False
    )
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(good.read_bytes()[:-30])
    with pytest.raises(CauseError, match="truncated.zip"):
        unpack_model(truncated, cache_dir=tmp_path / "cache")
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(CauseError, match="other.zip.*missing"):
        unpack_model(other, cache_dir=tmp_path / "cache")
    with pytest.raises(CauseError, match="nope.zip"):
        unpack_model(tmp_path / "nope.zip", cache_dir=tmp_path / "cache")


def test_pack_model_cli(tmp_path, monkeypatch, capsys):
    from espnet_cause.bin import pack_model as cli

    exp = _exp(tmp_path)
    monkeypatch.chdir(tmp_path)
    cli.main(["--train_config", str(exp / "config.yaml"), "--model_file",
              str(exp / "valid.loss.best.pth"), "--output", str(exp / "model.zip"),
              "--onnx", "no"])  # fmt: skip
    assert zipfile.is_zipfile(exp / "model.zip")
    # the ONNX export builds the model: stand-in weights/config are refused, nothing written
    with pytest.raises(SystemExit) as e:
        cli.main(["--train_config", str(exp / "config.yaml"), "--model_file",
                  str(exp / "valid.loss.best.pth"), "--output", str(exp / "m1.zip")])  # fmt: skip
    assert e.value.code == 2 and "valid.loss.best.pth" in capsys.readouterr().err
    assert not (exp / "m1.zip").exists()
    with pytest.raises(SystemExit) as e:
        cli.main(["--train_config", str(exp / "config.yaml"), "--model_file",
                  str(exp / "missing.pth"), "--output", str(exp / "m2.zip")])  # fmt: skip
    assert e.value.code == 2 and "missing.pth" in capsys.readouterr().err
