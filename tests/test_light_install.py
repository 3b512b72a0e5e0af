"""The light install: ``pip install espnet-cause[runtime]`` runs infer, livelink, render and
serve without the training stack (espnet, torch, torchaudio, tensorboard, onnx).

The dependency lists are read from setup.py; the runtime path is run in a fresh interpreter in
which importing any training-only module fails, as it would in a venv without them.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: Import names of the training-only packages (``[train]``).
TRAIN_MODULES = ("torch", "torchaudio", "espnet", "espnet2", "espnet3", "tensorboard", "onnx")
BLOCKER = f"""
import importlib.abc, sys
BLOCKED = {TRAIN_MODULES!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is not installed (light install)")
sys.meta_path.insert(0, Block())
"""


def _setup_kwargs(monkeypatch) -> dict:
    """The keyword arguments setup.py passes to ``setup()`` (run with ``setup`` replaced)."""
    import runpy

    import setuptools

    seen = {}
    monkeypatch.setattr(setuptools, "setup", lambda **kwargs: seen.update(kwargs))
    runpy.run_path(str(REPO / "setup.py"), run_name="setup")
    return seen


def _names(requirements) -> set[str]:
    return {re.split(r"[<>=\[ ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_the_light_dependency_set_has_no_training_stack(monkeypatch):
    kwargs = _setup_kwargs(monkeypatch)
    base, extras = _names(kwargs["install_requires"]), kwargs["extras_require"]
    heavy = {"espnet", "torch", "torchaudio", "tensorboard", "onnx"}
    assert not base & heavy and not _names(extras["runtime"]) & heavy
    assert "onnxruntime" in base
    assert _names(extras["runtime"]) == _names(extras["video"] + extras["face"] + extras["serve"])
    assert heavy <= _names(extras["train"]) and heavy <= _names(extras["all"])


def _free_udp_port() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(10)
    return sock


def test_runtime_clis_work_without_the_training_stack(tmp_path, demo_wav, demo_image):
    import soundfile as sf

    samples, sr = sf.read(str(demo_wav), dtype="float32")
    short = tmp_path / "short.wav"
    sf.write(str(short), samples[:sr], sr)
    receiver = _free_udp_port()
    port = receiver.getsockname()[1]
    out = tmp_path
    script = (
        BLOCKER
        + f"""
from espnet_cause.bin import infer, livelink, render
for fmt, name in (("csv", "au.csv"), ("livelink", "take.csv"), ("visemes", "v.json")):
    infer.main(["--wav", {str(short)!r}, "--output", {str(out)!r} + "/" + name,
                "--output_format", fmt])
livelink.main(["--wav", {str(short)!r}, "--port", "{port}", "--verbose", "0"])
render.main(["--image", {str(demo_image)!r}, "--wav", {str(short)!r},
             "--output", {str(out / "take.mp4")!r}, "--verbose", "0"])
from starlette.testclient import TestClient
from espnet_cause.inference import Speech2AU
from espnet_cause.serve.app import create_app
with TestClient(create_app(speech2au=Speech2AU())) as client:
    assert client.get("/health").json()["backend"] == "onnx"
    with open({str(short)!r}, "rb") as f:
        assert len(client.post("/infer", files={{"audio": f}}).json()["arkit"]) == 25
heavy = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
print("heavy", heavy)
"""
    )
    env = {"PYTHONPATH": str(REPO), "ESPNET_CAUSE_CACHE": str(tmp_path / "cache"),
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("heavy []"), done.stdout
    for name in ("au.csv", "take.csv", "v.json", "take.mp4"):
        assert (out / name).stat().st_size > 0, name
    assert len(receiver.recv(65536)) > 61 * 4  # the first Live Link packet arrived
    receiver.close()


@pytest.mark.parametrize("module", ["torch", "espnet2.tasks.abs_task", "onnx"])
def test_the_blocker_blocks(module):
    code = BLOCKER + f"import {module}\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode != 0 and "light install" in done.stderr


def test_the_base_install_runs_infer_and_livelink(tmp_path, demo_wav):
    """``pip install espnet-cause`` alone (no extras): no video, faces, server or plots either."""
    import soundfile as sf

    samples, sr = sf.read(str(demo_wav), dtype="float32")
    short = tmp_path / "short.wav"
    sf.write(str(short), samples[: sr // 2], sr)
    receiver = _free_udp_port()
    blocked = TRAIN_MODULES + ("av", "mediapipe", "cv2", "starlette", "uvicorn", "matplotlib")
    script = (
        BLOCKER.replace(repr(TRAIN_MODULES), repr(blocked))
        + f"""
from espnet_cause.bin import infer, livelink
infer.main(["--wav", {str(short)!r}, "--output", {str(tmp_path / "v.json")!r},
            "--output_format", "visemes", "--verbose", "0"])
livelink.main(["--wav", {str(short)!r}, "--port", "{receiver.getsockname()[1]}", "--verbose", "0"])
print("ok")
"""
    )
    env = {"PYTHONPATH": str(REPO), "ESPNET_CAUSE_CACHE": str(tmp_path / "cache"),
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]
    assert len(receiver.recv(65536)) > 61 * 4
    receiver.close()
