"""The /stream WebSocket: every message type, every bad input, the limits, other clients unaffected."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
from serve_helpers import pcm16, speechlike
from starlette.testclient import TestClient

from espnet_cause.arkit import ARKIT_NAMES, arkit_frames
from espnet_cause.au import AU_NAMES
from espnet_cause.serve import protocol
from espnet_cause.serve.app import create_app

CHUNK = 640  # 40 ms at 16 kHz


@pytest.fixture(scope="module")
def client(speech2au):
    with TestClient(create_app(speech2au=speech2au, max_audio_seconds=5.0)) as c:
        yield c


def receive_all(ws) -> list[dict]:
    """Text messages up to and including the end or error message."""
    messages = []
    while True:
        msg = json.loads(ws.receive_text())
        messages.append(msg)
        if msg["type"] in ("end", "error"):
            return messages


def stream(ws, samples: np.ndarray, chunk: int = CHUNK, config: dict | None = None) -> list[dict]:
    if config is not None:
        ws.send_text(json.dumps(config))
    for start in range(0, samples.size, chunk):
        ws.send_bytes(pcm16(samples[start : start + chunk]))
    ws.send_text(json.dumps({"type": "end"}))
    return receive_all(ws)


def offline(speech2au, samples: np.ndarray) -> np.ndarray:
    """What Speech2AU gives for the same int16-quantised audio."""
    quantised = np.frombuffer(pcm16(samples), "<i2").astype(np.float32) / 32768.0
    return speech2au(quantised, 16000)


def as_array(frames: list[dict]) -> np.ndarray:
    return np.array([[f["au"][n] for n in AU_NAMES] for f in frames])


def test_frames_equal_offline(client, speech2au):
    x = speechlike(1.3)
    with client.websocket_connect("/stream") as ws:
        messages = stream(ws, x, config={"sample_rate": 16000})
    frames, end = messages[:-1], messages[-1]
    assert end == {"type": "end", "frames": len(frames)}
    assert len(frames) == int(np.ceil(1.3 * 25)) == 33
    assert all(f["type"] == "frame" and set(f["au"]) == set(AU_NAMES) for f in frames)
    np.testing.assert_allclose([f["time"] for f in frames], np.arange(33) / 25, atol=1e-9)
    expected = offline(speech2au, x)
    np.testing.assert_allclose(as_array(frames), expected, atol=2e-3)
    # the same frames as ARKit blendshapes, through the AU -> ARKit table
    assert all(list(f["arkit"]) == list(ARKIT_NAMES) for f in frames)
    shapes = np.array([[f["arkit"][n] for n in ARKIT_NAMES] for f in frames])
    table = [i for i, n in enumerate(ARKIT_NAMES) if not n.startswith("eyeLook")]  # gaze: live
    np.testing.assert_allclose(shapes[:, table], arkit_frames(expected)[:, table], atol=2e-3)
    assert all(len(f["head"]) == 3 for f in frames)  # the live head motion (yaw, pitch, roll)
    assert (
        shapes.min() >= 0
        and shapes.max() <= 1
        and shapes[:, ARKIT_NAMES.index("jawOpen")].max() > 0
    )


def test_torch_backend_streams_the_same(causal_model_zip, speech2au, tmp_path):
    """The service streams through either backend of Speech2AU (onnx by default for a zip)."""
    from espnet_cause.inference.speech2au import Speech2AU

    torch_s2au = Speech2AU(causal_model_zip, backend="torch", cache_dir=tmp_path)
    assert {torch_s2au.backend, speech2au.backend} == {"torch", "onnx"}
    x = speechlike(0.7, seed=7)
    frames = {}
    for s2au in (torch_s2au, speech2au):
        with TestClient(create_app(speech2au=s2au)) as c, c.websocket_connect("/stream") as ws:
            frames[s2au.backend] = as_array(stream(ws, x)[:-1])
    np.testing.assert_allclose(frames["torch"], frames["onnx"], atol=2e-3)
    np.testing.assert_allclose(frames["torch"], offline(torch_s2au, x), atol=2e-3)


def test_arkit_model_streams_both(arkit_speech2au):
    """A target: arkit model streams its blendshapes, and AUs through the table."""
    from espnet_cause.arkit import blendshapes_to_aus

    x = speechlike(0.8, seed=4)
    with (
        TestClient(create_app(speech2au=arkit_speech2au)) as c,
        c.websocket_connect("/stream") as ws,
    ):
        messages = stream(ws, x)
    frames = messages[:-1]
    blendshapes = offline(arkit_speech2au, x)  # (T, 51)
    assert len(frames) == 20 and blendshapes.shape == (20, 51)
    shapes = np.array([[f["arkit"][n] for n in ARKIT_NAMES] for f in frames])
    table = [i for i, n in enumerate(ARKIT_NAMES) if not n.startswith("eyeLook")]  # gaze: live
    np.testing.assert_allclose(shapes[:, table], arkit_frames(blendshapes)[:, table], atol=2e-3)
    np.testing.assert_allclose(as_array(frames), blendshapes_to_aus(blendshapes), atol=2e-3)


def test_any_chunk_size_and_no_config(client, speech2au):
    x = speechlike(0.9, seed=1)
    with client.websocket_connect("/stream") as ws:
        messages = stream(ws, x, chunk=333)  # odd sample counts per message are fine
    np.testing.assert_allclose(as_array(messages[:-1]), offline(speech2au, x), atol=2e-3)


def test_frames_arrive_while_streaming(client):
    """Each 40 ms chunk makes its frame available before the end message is sent."""
    x = speechlike(1.0)
    with client.websocket_connect("/stream") as ws:
        got = []
        for start in range(0, x.size, CHUNK):
            ws.send_bytes(pcm16(x[start : start + CHUNK]))
            got.append(json.loads(ws.receive_text()))  # one frame per chunk, without waiting
        ws.send_text('{"type": "end"}')
        rest = receive_all(ws)
    assert [f["time"] for f in got] == pytest.approx(np.arange(25) / 25)
    assert rest[-1] == {"type": "end", "frames": 25}


def test_other_sample_rate_is_resampled(client, speech2au):
    from scipy.signal import resample_poly

    x16 = speechlike(1.0, seed=2)
    x48 = resample_poly(x16, 3, 1).astype(np.float32)
    with client.websocket_connect("/stream") as ws:
        messages = stream(ws, x48, chunk=1920, config={"sample_rate": 48000})
    frames = as_array(messages[:-1])
    assert len(frames) == 25
    # the same speech at 16 kHz gives nearly the same AUs
    assert np.corrcoef(frames.ravel(), offline(speech2au, x16).ravel())[0, 1] > 0.99


def test_empty_stream(client):
    with client.websocket_connect("/stream") as ws:
        ws.send_text('{"type": "end"}')
        assert json.loads(ws.receive_text()) == {"type": "end", "frames": 0}


def expect_error(ws, match: str, code: int = protocol.CLOSE_PROTOCOL) -> None:
    """The error message (after any frames of the audio before it), then the close."""
    msg = receive_all(ws)[-1]
    assert msg["type"] == "error" and match in msg["message"], msg
    closed = ws.receive()
    assert closed["type"] == "websocket.close" and closed["code"] == code


@pytest.mark.parametrize(
    "first,second,match",
    [
        ("not json", None, "not JSON"),
        (b"\x00\x01\x02", None, "not whole int16 samples"),
        ('{"sample_rate": 12}', None, "out of range"),
        ('{"sample_rate": "fast"}', None, "integer"),
        ('{"bogus": 1}', None, "unknown key"),
        ('{"type": "pause"}', None, "unknown message type"),
        (b"\x00\x00" * 640, '{"sample_rate": 16000}', "before the first audio"),
        ('{"render": true}', None, "needs a photo"),
        ('{"render": true, "image": "nope"}', None, "unknown image id"),
        ('{"image": "x"}', None, "only used with"),
        (b"\x10\x00" * 100, '{"type": "end"}', "too short"),
    ],
)
def test_malformed_input_gets_an_error_and_close(client, first, second, match):
    with client.websocket_connect("/stream") as ws:
        for msg in (first, second):
            if isinstance(msg, bytes):
                ws.send_bytes(msg)
            elif msg is not None:
                ws.send_text(msg)
        expect_error(ws, match)


def test_stream_length_limit(client):
    with client.websocket_connect("/stream") as ws:
        for _ in range(6):
            ws.send_bytes(pcm16(speechlike(1.0)))
        messages = receive_all(ws)
    assert messages[-1]["type"] == "error" and "limit of 5 s" in messages[-1]["message"]
    assert len(messages) - 1 >= 24 * 5  # the frames before the limit were sent


def test_message_size_limit(speech2au):
    app = create_app(speech2au=speech2au, max_message_bytes=4000)
    with TestClient(app) as c, c.websocket_connect("/stream") as ws:
        ws.send_bytes(b"\x00\x00" * 2001)
        expect_error(ws, "over the 4000 byte limit", protocol.CLOSE_TOO_BIG)


def test_idle_stream_is_closed(speech2au):
    with TestClient(create_app(speech2au=speech2au, idle_seconds=0.2)) as c:
        with c.websocket_connect("/stream") as ws:
            expect_error(ws, "no message for 0.2 s")


def test_stream_cap_refuses_clearly_and_others_go_on(speech2au):
    app = create_app(speech2au=speech2au, max_streams=1)
    x = speechlike(0.5)
    with TestClient(app) as c, c.websocket_connect("/stream") as first:
        first.send_bytes(pcm16(x[:CHUNK]))
        assert json.loads(first.receive_text())["type"] == "frame"  # first is open and working
        assert c.get("/health").json()["streams"] == 1
        with c.websocket_connect("/stream") as second:
            expect_error(second, "server busy: all 1 streams are in use", protocol.CLOSE_BUSY)
        rest = stream(first, x[CHUNK:])
        assert rest[-1] == {"type": "end", "frames": 13}
    # the slot is free again afterwards
    with TestClient(app) as c, c.websocket_connect("/stream") as again:
        assert stream(again, x)[-1]["type"] == "end"


def test_a_bad_client_does_not_disturb_another(client, speech2au):
    x = speechlike(0.8, seed=3)
    with client.websocket_connect("/stream") as good, client.websocket_connect("/stream") as bad:
        good.send_bytes(pcm16(x[: x.size // 2]))
        bad.send_bytes(b"\x01")
        expect_error(bad, "not whole int16 samples")
        good.send_bytes(pcm16(x[x.size // 2 :]))
        good.send_text('{"type": "end"}')
        messages = receive_all(good)
    np.testing.assert_allclose(as_array(messages[:-1]), offline(speech2au, x), atol=2e-3)


class BlockedClient:
    """A WebSocket whose client sends 3 s of audio at once but reads nothing until released."""

    def __init__(self, samples: np.ndarray) -> None:
        self.inbox = [{"type": "websocket.receive", "bytes": pcm16(samples[i : i + CHUNK])}
                      for i in range(0, samples.size, CHUNK)]  # fmt: skip
        self.inbox.append({"type": "websocket.receive", "text": '{"type": "end"}'})
        self.received = 0
        self.sent: list[str] = []
        self.reading = asyncio.Event()
        self.closed = None

    async def receive(self):
        self.received += 1
        return self.inbox.pop(0)

    async def send_text(self, text: str) -> None:
        await self.reading.wait()
        self.sent.append(text)

    async def send_bytes(self, data: bytes) -> None:
        await self.send_text(data)

    async def close(self, code: int) -> None:
        self.closed = code


def test_slow_client_is_not_buffered_without_bound(speech2au):
    from concurrent.futures import ThreadPoolExecutor

    from espnet_cause.serve.session import StreamSession

    async def scenario():
        client = BlockedClient(speechlike(3.0))
        session = StreamSession(
            speech2au=speech2au, find_photo=lambda _: None, executor=ThreadPoolExecutor(1),
            max_seconds=60, queue_size=8, max_message_bytes=1 << 20,
        )  # fmt: skip
        task = asyncio.create_task(session.run(client))
        await asyncio.sleep(0.5)
        # the server stopped reading this client: queue full, the rest of its audio unread
        assert session.max_queued <= 8
        assert client.received < 20 < len(client.inbox)
        client.reading.set()
        await asyncio.wait_for(task, 10)
        return client, session

    client, session = asyncio.run(scenario())
    assert client.closed == 1000 and json.loads(client.sent[-1]) == {"type": "end", "frames": 75}
    assert len(client.sent) == 76 and session.max_queued <= 8
