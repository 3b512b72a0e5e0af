"""The live stream with a model choice: the expressive model streams as its live variant (a
causal mouth + the recogniser over the stream), a stream names its model, bad names are refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
from serve_helpers import pcm16
from starlette.testclient import TestClient

from espnet_cause.au import AU_NAMES
from espnet_cause.serve import protocol
from espnet_cause.serve.app import create_app
from espnet_cause.serve.models import serve_model

FS = 16000


def voiced(seconds: float) -> np.ndarray:
    """Voiced syllables (a buzz at a wandering f0, 2 per second)."""
    t = np.arange(int(seconds * FS)) / FS
    phase = 2 * np.pi * np.cumsum(150 * (1 + 0.1 * np.sin(2 * np.pi * 0.7 * t))) / FS
    buzz = sum(np.sin(k * phase) / k for k in range(1, 10))
    return (0.3 * np.clip(np.sin(2 * np.pi * 2 * t), 0, None) ** 0.5 * buzz).astype(np.float32)


@pytest.fixture(scope="module")
def client(speech2au, offline_model):
    from espnet_cause.inference.speech2au import Speech2AU

    expressive = serve_model(Speech2AU("expressive"), "expressive", lambda: speech2au)
    models = {
        "tiny_live": serve_model(speech2au, "tiny_live"),
        "expressive": expressive,
        "whole": serve_model(offline_model, "whole"),
    }
    with TestClient(create_app(speech2au=speech2au, models=models)) as c:
        yield c


def stream(ws, samples: np.ndarray, config: dict) -> list[dict]:
    ws.send_text(json.dumps(config))
    for start in range(0, samples.size, 640):
        ws.send_bytes(pcm16(samples[start : start + 640]))
    ws.send_text(json.dumps({"type": "end"}))
    messages = []
    while not messages or messages[-1]["type"] not in ("end", "error"):
        messages.append(json.loads(ws.receive_text()))
    return messages


def test_health_lists_the_expressive_model_as_live_with_its_licence(client):
    h = client.get("/health").json()
    listed = {m["name"]: m for m in h["models"]}
    assert h["live_model"] == "tiny_live" and listed["expressive"]["live"]
    assert "CC BY-NC-SA 4.0" in listed["expressive"]["licence"]
    assert (
        "causal mouth" in listed["expressive"]["note"]
        and "recogniser" in listed["expressive"]["note"]
    )
    assert not listed["whole"]["live"]


def test_a_stream_chooses_the_expressive_model(client):
    x = voiced(4.0)
    with client.websocket_connect("/stream") as ws:
        plain = stream(ws, x, {"model": "tiny_live"})
    with client.websocket_connect("/stream") as ws:
        expressive = stream(ws, x, {"model": "expressive", "sample_rate": FS})
    assert plain[-1] == expressive[-1] == {"type": "end", "frames": 100}
    a = np.array([[f["au"][n] for n in AU_NAMES] for f in plain[:-1]])
    b = np.array([[f["au"][n] for n in AU_NAMES] for f in expressive[:-1]])
    assert a.shape == b.shape == (100, 17)
    # the same mouth, with the heard emotion's prototypes raised on top once it was heard
    assert (b - a).min() >= -2e-4 and (b - a).max() > 0.01
    assert np.abs(b - a)[:10].max() < 2e-4  # nothing heard yet: no expression


@pytest.mark.parametrize(
    "config,match",
    [
        (
            {"model": "nope"},
            "unknown model 'nope'; this server streams with: tiny_live, expressive",
        ),
        ({"model": "whole"}, "offline-only model 'whole'"),
        ({"model": 3}, "model must be a model's name"),
    ],
)
def test_bad_model_choices_get_an_error_and_close(client, config, match):
    with client.websocket_connect("/stream") as ws:
        ws.send_text(json.dumps(config))
        msg = json.loads(ws.receive_text())
        assert msg["type"] == "error" and match in msg["message"], msg
        closed = ws.receive()
        assert closed["type"] == "websocket.close" and closed["code"] == protocol.CLOSE_PROTOCOL


def test_uploads_with_the_expressive_choice(client):
    import io

    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, voiced(1.5), FS, format="WAV")
    r = client.post("/infer?model=expressive", files={"audio": ("a.wav", buf.getvalue())})
    assert r.status_code == 200 and r.json()["model"] == "expressive"
    r = client.post("/infer?model=nope", files={"audio": ("a.wav", buf.getvalue())})
    assert r.status_code == 400 and "unknown model 'nope'" in r.json()["error"]
