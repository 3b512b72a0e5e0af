"""The torch-free backend: CLIs on it, no torch/espnet2 imported, damaged graphs refused."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml
from onnx_models import FS, packed, signals

from espnet_cause.bin import export_tts_features, infer
from espnet_cause.errors import CauseError
from espnet_cause.inference.onnx.runtime import OFFLINE, OnnxCAUSE
from espnet_cause.inference.speech2au import Speech2AU

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model_zip(tmp_path_factory):
    return packed(tmp_path_factory.mktemp("rt"), "cnn_c")


@pytest.fixture(scope="module")
def wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("wav") / "speech.wav"
    sf.write(str(path), signals()["loud"], FS)
    return path


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ESPNET_CAUSE_CACHE", str(tmp_path / "cache"))


def test_infer_without_torch(model_zip, wav, tmp_path):
    """``infer --backend onnx`` in a fresh interpreter imports neither torch nor espnet2."""
    out = tmp_path / "au.npy"
    script = (
        "import sys\n"
        "from espnet_cause.bin import infer\n"
        f"infer.main(['--model', {str(model_zip)!r}, '--wav', {str(wav)!r}, "
        f"'--output', {str(out)!r}, '--backend', sys.argv[1]])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'espnet2'))\n"
        "print(len(heavy), heavy[:5])\n"
    )
    env = {"PYTHONPATH": str(REPO), "ESPNET_CAUSE_CACHE": str(tmp_path / "cache"),
           "PATH": "/usr/bin:/bin"}  # fmt: skip
    for backend, heavy in (("onnx", "0 []"), ("auto", "0 []")):
        done = subprocess.run([sys.executable, "-c", script, backend], env=env,
                              capture_output=True, text=True, check=True)  # fmt: skip
        assert done.stdout.strip() == heavy, (backend, done.stdout, done.stderr)
    lite = np.load(out)
    # the torch backend (it does import torch) gives the same frames
    done = subprocess.run([sys.executable, "-c", script, "torch"], env=env,
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert not done.stdout.startswith("0 ")
    assert np.abs(np.load(out) - lite).max() < 1e-4 and lite.shape == (58, 17)


def test_infer_backend_option(model_zip, wav, tmp_path, capsys):
    outs = {}
    for backend in ("onnx", "torch"):
        outs[backend] = tmp_path / f"{backend}.csv"
        infer.main(["--model", str(model_zip), "--wav", str(wav), "--output",
                    str(outs[backend]), "--backend", backend, "--output_fps", "30"])  # fmt: skip
    a, b = (np.loadtxt(outs[k], delimiter=",", skiprows=1) for k in ("onnx", "torch"))
    assert a.shape == b.shape and np.abs(a - b).max() < 1e-4
    cfg = tmp_path / "c.yaml"
    cfg.write_text("encoder: cnn\n")
    with pytest.raises(SystemExit) as e:
        infer.main(["--train_config", str(cfg), "--model_file", str(cfg), "--wav", str(wav),
                    "--output", str(tmp_path / "x.csv"), "--backend", "onnx"])  # fmt: skip
    assert e.value.code == 2
    assert "--backend onnx needs a packed model.zip" in capsys.readouterr().err


def test_export_tts_features_onnx_equals_torch(model_zip, wav, tmp_path):
    scp = tmp_path / "wav.scp"
    scp.write_text(f"utt1 {wav}\n")
    dirs = {}
    for backend in ("onnx", "torch"):
        dirs[backend] = tmp_path / backend
        export_tts_features.main(["--model", str(model_zip), "--wav_scp", str(scp),
                                  "--output_dir", str(dirs[backend]), "--fs", str(FS),
                                  "--hop_length", "256", "--backend", backend])  # fmt: skip
    import kaldiio

    a = kaldiio.load_scp(str(dirs["onnx"] / "au.scp"))["utt1"]
    b = kaldiio.load_scp(str(dirs["torch"] / "au.scp"))["utt1"]
    assert a.shape == b.shape == (1 + len(signals()["loud"]) // 256, 17)
    assert np.abs(a - b).max() < 1e-4


def _rewrite(src: Path, dst: Path, member: str, data: bytes | None, fix_sha: bool = True) -> Path:
    """A copy of a model zip with ``member`` replaced (None: removed)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        meta = yaml.safe_load(zin.read("meta.yaml"))
        if fix_sha and data is not None:
            meta["sha256"][member] = hashlib.sha256(data).hexdigest()
        for name in zin.namelist():
            if name == "meta.yaml":
                zout.writestr(name, yaml.safe_dump(meta))
            elif name != member:
                zout.writestr(name, zin.read(name))
        if data is not None:
            zout.writestr(member, data)
    return dst


def _graph(inputs: list[tuple[str, list]], outputs: list[tuple[str, list]]) -> bytes:
    """A valid ONNX graph (Identity) with the given input/output names and shapes."""
    from onnx import TensorProto, helper

    ins = [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs]
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs]
    node = helper.make_node("Identity", [inputs[0][0]], [outputs[0][0]])
    model = helper.make_model(helper.make_graph([node], "g", ins, outs),
                              opset_imports=[helper.make_opsetid("", 17)])  # fmt: skip
    return model.SerializeToString()


def test_bad_graphs_refused(model_zip, tmp_path):
    cases = {
        "garbage": (_rewrite(model_zip, tmp_path / "a.zip", OFFLINE, b"\x08\x07 not onnx"),
                    "onnx/offline.onnx: not a usable ONNX graph"),
        "changed": (_rewrite(model_zip, tmp_path / "b.zip", OFFLINE, b"xx", fix_sha=False),
                    "member onnx/offline.onnx does not match its sha256"),
        "names": (_rewrite(model_zip, tmp_path / "c.zip", OFFLINE,
                           _graph([("x", [1, "T", 12])], [("y", [1, "T", 12])])),
                  r"graph has inputs \['x'\] and outputs \['y'\], expected \['feats'\]"),
        "dims": (_rewrite(model_zip, tmp_path / "d.zip", OFFLINE,
                          _graph([("feats", [1, "T", 99])], [("au", [1, "T", 99])])),
                 r"graph feats has shape \[1, 'T', 99\], expected \(1, frames, 12\)"),
        "no frontend": (_rewrite(model_zip, tmp_path / "e.zip", "onnx/frontend.json", None),
                        "member onnx/frontend.json listed in meta.yaml is missing"),
        "frontend": (_rewrite(model_zip, tmp_path / "f.zip", "onnx/frontend.json", b"{}"),
                     "frontend.json: unknown frontend format"),
    }  # fmt: skip
    for what, (path, message) in cases.items():
        with pytest.raises(CauseError, match=message) as e:
            Speech2AU(path, backend="onnx")
        assert str(path) in str(e.value), what
        assert "fix:" in str(e.value), what
    # auto does not silently fall back on a damaged graph
    with pytest.raises(CauseError, match="not a usable ONNX graph"):
        Speech2AU(cases["garbage"][0])
    # a state graph with the wrong inputs is refused when the stream starts
    bad_stream = _rewrite(model_zip, tmp_path / "g.zip", "onnx/stream.onnx",
                          _graph([("feats", [1, "T", 12])], [("au", [1, "T", 17])]))  # fmt: skip
    with pytest.raises(CauseError, match="stream.onnx: graph has inputs"):
        OnnxCAUSE.from_zip(bad_stream).streamer()
    with pytest.raises(CauseError, match="unknown backend 'tensorflow'"):
        Speech2AU(model_zip, backend="tensorflow")
    assert json.loads(zipfile.ZipFile(model_zip).read("onnx/frontend.json"))["format"] == 1
