"""serve --livelink HOST:PORT: a stream that asks for it is forwarded frame by frame as Live Link
Face UDP packets (read back with the independent decoder PyPI ``pylivelinkface``)."""

from __future__ import annotations

import json
import socket

import numpy as np
from pylivelinkface import FaceBlendShape, PyLiveLinkFace
from serve_helpers import pcm16, speechlike
from starlette.testclient import TestClient

from espnet_cause.serve.app import create_app


def test_a_stream_is_forwarded_to_the_live_link_target(speech2au):
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    target = f"127.0.0.1:{receiver.getsockname()[1]}"
    app = create_app(speech2au=speech2au, livelink=target, livelink_subject="Live")
    x = speechlike(1.0)
    with TestClient(app) as client:
        assert client.get("/health").json()["livelink"] == target
        with client.websocket_connect("/stream") as ws:
            ws.send_text(json.dumps({"livelink": True}))
            for start in range(0, x.size, 640):
                ws.send_bytes(pcm16(x[start : start + 640]))
            ws.send_text(json.dumps({"type": "end"}))
            messages = []
            while not messages or messages[-1]["type"] != "end":
                messages.append(json.loads(ws.receive_text()))
        # a stream that does not ask is not forwarded
        with client.websocket_connect("/stream") as ws:
            ws.send_bytes(pcm16(x[:1600]))
            ws.send_text(json.dumps({"type": "end"}))
            while json.loads(ws.receive_text())["type"] != "end":
                pass
    frames = messages[:-1]
    faces = [PyLiveLinkFace.decode(receiver.recv(65536))[1] for _ in frames]
    receiver.settimeout(0.5)
    try:
        extra = receiver.recv(65536)
    except TimeoutError:
        extra = None
    receiver.close()
    assert extra is None and len(frames) == 25
    assert {f.name for f in faces} == {"Live"} and {f.fps for f in faces} == {25}
    assert (np.diff([f._frames for f in faces]) == 1).all()
    jaw = [f._blend_shapes[FaceBlendShape.JawOpen.value] for f in faces]
    np.testing.assert_allclose(jaw, [m["arkit"]["jawOpen"] for m in frames], atol=1e-4)
    yaw = [f._blend_shapes[FaceBlendShape.HeadYaw.value] for f in faces]
    np.testing.assert_allclose(yaw, [m["head"][0] for m in frames], atol=1e-4)


def test_forwarding_without_a_target_is_refused(speech2au):
    with TestClient(create_app(speech2au=speech2au)) as client:
        assert client.get("/health").json()["livelink"] is None
        with client.websocket_connect("/stream") as ws:
            ws.send_text(json.dumps({"livelink": True}))
            msg = json.loads(ws.receive_text())
    assert msg["type"] == "error" and "--livelink HOST:PORT" in msg["message"]
