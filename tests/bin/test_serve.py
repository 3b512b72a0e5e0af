"""The serve CLI: refuses what cannot work with exit 2, and serves the page, health and stream."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from espnet_cause.bin import serve

REPO = Path(__file__).resolve().parents[2]


def test_get_parser_defaults():
    args = serve.get_parser().parse_args(["--model", "m.zip"])
    assert args.model == ["m.zip"]
    assert (args.host, args.port, args.max_upload_mb) == ("127.0.0.1", 8000, 50.0)
    assert args.image is None and args.max_streams > 0


def test_non_causal_model_serves_uploads_and_the_stream_falls_back(tmp_path, monkeypatch):
    """An offline model is offered for uploads and builtin_live streams; expressive streams as
    its live variant on builtin_live's mouth."""
    from test_infer import make_tiny_model  # same directory (pytest prepends it to sys.path)

    from espnet_cause.inference.packing import pack_model
    from espnet_cause.inference.speech2au import Speech2AU
    from espnet_cause.serve.models import load_models

    monkeypatch.setenv("ESPNET_CAUSE_CACHE", str(tmp_path / "cache"))
    config, pth = make_tiny_model(tmp_path / "offline")  # cnn with causal: false
    model = pack_model(config, pth, tmp_path / "offline.zip")
    models, live = load_models([str(model)], Speech2AU)
    assert list(models) == ["offline"] and not models["offline"].live
    note = models["offline"].note
    assert "offline only" in note and "not causal, it cannot stream" in note
    assert "not recorded" in models["offline"].licence
    assert live.name == "builtin_live" and live.live and live.licence == "Apache-2.0"
    models, live = load_models(["expressive", str(model)], Speech2AU)
    assert "CC BY-NC-SA 4.0" in models["expressive"].licence and models["expressive"].live
    assert "builtin_live's causal mouth" in models["expressive"].note
    assert live.name == "expressive" and live.stream_model.mouth.source.endswith("live.zip")


def test_two_models_of_one_name_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        serve.main(["--model", str(tmp_path / "a" / "m.zip"), "--model", str(tmp_path / "m.zip")])
    assert info.value.code == 2 and "two --model values are named 'm'" in capsys.readouterr().err


def test_help_names_the_expressive_licence():
    text = serve.get_parser().format_help()
    assert "CC BY-NC-SA 4.0" in text and "builtin_live" in text


@pytest.mark.parametrize(
    "argv,match",
    [
        (["--port", "0"], "--port must be 1..65535"),
        (["--max_streams", "0"], "--max_streams must be positive"),
        (["--max_upload_mb", "-1"], "--max_upload_mb must be positive"),
    ],
)
def test_bad_options(argv, match, capsys):
    with pytest.raises(SystemExit) as info:
        serve.main(["--model", "m.zip", *argv])
    assert info.value.code == 2 and match in capsys.readouterr().err


def test_serves_page_health_and_stream(tmp_path):
    """python -m espnet_cause.bin.serve with a model: the page, the demo photo and a stream."""
    from test_infer import make_tiny_model
    from websockets.sync.client import connect

    from espnet_cause.inference.packing import pack_model

    config, pth = make_tiny_model(
        tmp_path / "causal", encoder_conf={"hidden_size": 16, "channels": [16, 8], "causal": True}
    )
    model = pack_model(config, pth, tmp_path / "model.zip")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(REPO), "ESPNET_CAUSE_CACHE": str(tmp_path / "cache")}
    cmd = [
        sys.executable,
        "-m",
        "espnet_cause.bin.serve",
        "--model",
        str(model),
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=5) as r:
                    health = json.loads(r.read())
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.3)
        assert health["status"] == "ok" and health["default_image"] and health["render"]
        with urllib.request.urlopen(base + "/", timeout=10) as r:
            assert b"espnet-cause live" in r.read()
        with urllib.request.urlopen(base + "/image/default", timeout=10) as r:
            assert r.read(2) == b"\xff\xd8"
        with connect(f"ws://127.0.0.1:{port}/stream") as ws:
            ws.send(np.zeros(1600, "<i2").tobytes() + np.full(1600, 300, "<i2").tobytes())
            ws.send('{"type": "end"}')
            messages = [json.loads(ws.recv(timeout=20)) for _ in range(6)]
        assert [m["type"] for m in messages] == ["frame"] * 5 + ["end"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
