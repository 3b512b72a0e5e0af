"""The HTTP side: page, health, /infer, /image, /render, and the upload limits (real server too)."""

from __future__ import annotations

import io
import json
import socket

import numpy as np
import pytest
import soundfile as sf
from serve_helpers import LiveServer, changed_pixels, pcm16, speechlike
from starlette.testclient import TestClient

from espnet_cause.au import AU_NAMES
from espnet_cause.serve.app import create_app


def wav_bytes(samples: np.ndarray, fs: int = 16000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, fs, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.fixture(scope="module")
def client(speech2au):
    with TestClient(create_app(speech2au=speech2au, max_audio_seconds=3.0)) as c:
        yield c


@pytest.fixture(scope="module")
def face_jpeg(demo_image) -> bytes:
    return demo_image.read_bytes()


@pytest.fixture(scope="module")
def face_client(speech2au, face_model):
    with TestClient(create_app(speech2au=speech2au, face_landmarker_path=face_model)) as c:
        yield c


def test_page_and_static(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'src="static/main.js"' in page.text
    for name in ("main.js", "audio.js", "stream.js", "draw.js", "pcm-worklet.js"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert client.get("/static/setup.py").status_code == 404
    assert client.get("/static/..%2Fapp.py").status_code == 404


def test_health(client, speech2au):
    h = client.get("/health").json()
    assert h["status"] == "ok" and h["sample_rate"] == 16000 and h["au_fps"] == 25
    assert h["au_names"] == list(AU_NAMES) and h["au_facs_names"]["AU26"] == "Jaw drop"
    assert len(h["arkit_names"]) == 52 and h["target"] == "au" and h["backend"] == "onnx"
    assert h["lookahead_ms"] == pytest.approx(26.0) and h["streams"] == 0
    assert h["render"] is False and h["default_image"] is False
    assert [m["name"] for m in h["models"]] == [h["default_model"]] == [h["live_model"]]


def test_model_choice(speech2au, offline_model):
    """Two models: /health lists them with licence and live flag; ?model= chooses one."""
    from espnet_cause.serve.models import serve_model

    live, whole = serve_model(speech2au, "tiny_live"), serve_model(offline_model)
    models = {"whole": whole, "tiny_live": live}  # the offline one is the uploads' default
    with TestClient(create_app(speech2au=speech2au, models=models)) as c:
        h = c.get("/health").json()
        assert h["default_model"] == "whole" and h["live_model"] == "tiny_live"
        listed = {m["name"]: m for m in h["models"]}
        assert listed["tiny_live"]["live"] and listed["tiny_live"]["note"] == ""
        assert not listed["whole"]["live"] and "cannot stream" in listed["whole"]["note"]
        assert "not recorded" in listed["whole"]["licence"]
        x = speechlike(1.0)
        data = {"audio": ("a.wav", wav_bytes(x))}
        samples = sf.read(io.BytesIO(wav_bytes(x)), dtype="float32")[0]
        for query, model in (("", offline_model), ("?model=whole", offline_model),
                             ("?model=tiny_live", speech2au)):  # fmt: skip
            r = c.post("/infer" + query, files=data)
            assert r.status_code == 200, r.text
            np.testing.assert_allclose(r.json()["au"], model(samples, 16000), atol=1e-4)
        assert r.json()["model"] == "tiny_live"
        assert not np.allclose(offline_model(samples, 16000), speech2au(samples, 16000))
        r = c.post("/infer?model=nope", files=data)
        assert r.status_code == 400 and "this server has: whole, tiny_live" in r.json()["error"]
        page = c.get("/").text
        assert 'id="model"' in page and 'id="model-note"' in page
        assert "licence" in c.get("/static/main.js").text


def test_infer_json_and_csv(client, speech2au, tmp_path):
    x = speechlike(1.1, fs=22050)
    data = wav_bytes(x, 22050)
    r = client.post("/infer", files={"audio": ("a.wav", data, "audio/wav")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["au_fps"] == 25 and body["au_names"] == list(AU_NAMES)
    expected = speech2au(sf.read(io.BytesIO(data), dtype="float32")[0], 22050)
    assert body["num_frames"] == len(body["au"]) == len(expected) == 28
    np.testing.assert_allclose(body["au"], expected, atol=1e-4)
    from espnet_cause.arkit import ARKIT_NAMES, arkit_frames

    assert body["arkit_names"] == list(ARKIT_NAMES)
    np.testing.assert_allclose(body["arkit"], arkit_frames(expected), atol=1e-4)

    r = client.post("/infer?format=csv", files={"audio": ("a.wav", data)})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    from espnet_cause.io.openface import read_openface_csv

    (tmp_path / "au.csv").write_text(r.text)
    track = read_openface_csv(tmp_path / "au.csv")
    np.testing.assert_allclose(track.intensities, expected, atol=1e-4)


@pytest.mark.parametrize(
    "kwargs,status,match",
    [
        ({"data": {"audio": "text"}}, 400, "multipart/form-data"),
        ({"files": {"sound": ("a.wav", b"x")}}, 400, "field 'audio' is missing"),
        ({"files": {"audio": ("a.wav", b"")}}, 422, "audio is empty"),
        ({"files": {"audio": ("a.wav", b"RIFF nonsense" * 10)}}, 422, "not a sound file"),
        ({"files": {"audio": ("a.wav", wav_bytes(np.zeros(16000)))}}, 422, "digital silence"),
        (
            {"files": {"audio": ("a.wav", wav_bytes(speechlike(0.01)))}},
            422,
            "shorter than one frame",
        ),
        ({"files": {"audio": ("a.wav", wav_bytes(speechlike(3.5)))}}, 422, "limit of 3 s"),
    ],
)
def test_infer_bad_input(client, kwargs, status, match):
    r = client.post("/infer", **kwargs)
    assert r.status_code == status and match in r.json()["error"], r.text


def test_infer_bad_format(client):
    r = client.post("/infer?format=xml", files={"audio": ("a.wav", wav_bytes(speechlike(0.5)))})
    assert r.status_code == 400 and "format=csv" in r.json()["error"]


def test_upload_limit(speech2au):
    with TestClient(create_app(speech2au=speech2au, max_upload_bytes=10_000)) as c:
        r = c.post("/infer", files={"audio": ("a.wav", wav_bytes(speechlike(1.0)))})
        assert r.status_code == 413 and "upload limit of 10000 bytes" in r.json()["error"]

        def chunked():  # no Content-Length: counted while read
            for _ in range(20):
                yield b"x" * 1000

        r = c.post(
            "/infer", content=chunked(), headers={"content-type": "multipart/form-data; boundary=b"}
        )
        assert r.status_code == 413 and "upload limit" in r.json()["error"]


def test_413_before_the_body_is_sent(speech2au):
    """A real server answers an oversize Content-Length at once, without reading the body."""
    app = create_app(speech2au=speech2au, max_upload_bytes=1000)
    with LiveServer(app) as server, socket.create_connection(("127.0.0.1", server.port), 10) as s:
        s.sendall(
            b"POST /infer HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 100000000\r\n\r\n"
        )
        s.settimeout(10)
        head = b""  # no body byte is sent: the answer comes anyway, then the server closes
        while chunk := s.recv(4096):
            head += chunk
        head = head.decode()
    assert head.startswith("HTTP/1.1 413"), head
    assert "upload limit of 1000 bytes" in head


def test_real_server_stream(speech2au):
    """/stream over a real socket (uvicorn + websockets), as clients and the bench use it."""
    from websockets.sync.client import connect

    x = speechlike(0.6)
    with LiveServer(create_app(speech2au=speech2au)) as server:
        with connect(f"ws://127.0.0.1:{server.port}/stream") as ws:
            ws.send(json.dumps({"sample_rate": 16000}))
            ws.send(pcm16(x))
            ws.send('{"type": "end"}')
            messages = [json.loads(ws.recv(timeout=10)) for _ in range(16)]
    assert [m["type"] for m in messages] == ["frame"] * 15 + ["end"]


def test_no_face_landmarker_means_503(client, face_jpeg):
    r = client.post("/image", files={"image": ("f.jpg", face_jpeg)})
    assert r.status_code == 503 and "face landmarker" in r.json()["error"]
    assert client.get("/image/default").status_code == 404


def test_image_upload_and_rendered_stream(face_client, face_jpeg, demo_wav):
    import time

    import cv2

    r = face_client.post("/image", files={"image": ("f.jpg", face_jpeg, "image/jpeg")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert max(body["width"], body["height"]) <= 480
    x = sf.read(demo_wav, dtype="float32")[0][:24000]  # 1.5 s of real speech
    texts, images = [], []
    with face_client.websocket_connect("/stream") as ws:
        ws.send_text(json.dumps({"render": True, "image": body["image"]}))
        for start in range(0, x.size, 640):
            ws.send_bytes(pcm16(x[start : start + 640]))
            time.sleep(0.04)  # real-time pace, as a microphone sends
        ws.send_text('{"type": "end"}')
        while not texts or texts[-1]["type"] != "end":
            msg = ws.receive()
            if msg.get("bytes") is not None:
                images.append(msg["bytes"])
            else:
                texts.append(json.loads(msg["text"]))
    assert texts[-1] == {"type": "end", "frames": 38} and len(texts) == 39
    assert 5 <= len(images) <= 38 and all(i[:2] == b"\xff\xd8" for i in images)  # JPEG
    decoded = [cv2.imdecode(np.frombuffer(i, np.uint8), cv2.IMREAD_COLOR) for i in images]
    assert decoded[0].shape[:2] == (body["height"], body["width"])
    # the face moves with the speech
    assert max(changed_pixels(d, decoded[0]) for d in decoded[1:]) >= 20


@pytest.mark.parametrize(
    "data,match",
    [
        (b"", "image is empty"),
        (b"GIF89a not really", "not an image"),
        ("gray", "no face found"),
    ],
)
def test_image_bad_input(face_client, data, match):
    if data == "gray":
        import cv2

        data = cv2.imencode(".png", np.full((64, 64, 3), 128, np.uint8))[1].tobytes()
    r = face_client.post("/image", files={"image": ("f.png", data)})
    assert r.status_code == 422 and match in r.json()["error"], r.text


def test_render_mp4(face_client, face_jpeg, tmp_path):
    import av

    audio = wav_bytes(speechlike(1.2))
    r = face_client.post(
        "/render", files={"image": ("f.jpg", face_jpeg), "audio": ("a.wav", audio)}
    )
    assert r.status_code == 200, r.text
    assert (
        r.headers["content-type"] == "video/mp4"
        and "attachment" in r.headers["content-disposition"]
    )
    (tmp_path / "take.mp4").write_bytes(r.content)
    with av.open(str(tmp_path / "take.mp4")) as c:
        video, sound = c.streams.video[0], c.streams.audio[0]
        assert sum(1 for _ in c.decode(video)) == 30
        assert abs(float(sound.duration * sound.time_base) - 1.2) < 0.1


def test_render_mp4_has_infers_frame_count(face_client, face_jpeg, speech2au, tmp_path):
    """1.21 s at 25 fps is 30.25 frames: round gives 30, infer and render's ceil 31."""
    import av

    samples = speechlike(1.21)
    duration = len(samples) / 16000
    assert round(duration * 25) != int(np.ceil(duration * 25))
    infer_frames = len(speech2au(samples, 16000))
    r = face_client.post(
        "/render", files={"image": ("f.jpg", face_jpeg), "audio": ("a.wav", wav_bytes(samples))}
    )
    assert r.status_code == 200, r.text
    (tmp_path / "take.mp4").write_bytes(r.content)
    with av.open(str(tmp_path / "take.mp4")) as c:
        assert sum(1 for _ in c.decode(c.streams.video[0])) == infer_frames == 31


def test_render_bad_input(face_client, face_jpeg):
    import cv2

    gray = cv2.imencode(".png", np.full((64, 64, 3), 128, np.uint8))[1].tobytes()
    audio = wav_bytes(speechlike(0.5))
    r = face_client.post("/render", files={"image": ("g.png", gray), "audio": ("a.wav", audio)})
    assert r.status_code == 422 and "no face found" in r.json()["error"]
    r = face_client.post("/render", files={"image": ("f.jpg", face_jpeg)})
    assert r.status_code == 400 and "'audio' is missing" in r.json()["error"]
    r = face_client.post(
        "/render", files={"image": ("f.jpg", face_jpeg), "audio": ("a.wav", b"no")}
    )
    assert r.status_code == 422 and "not a sound file" in r.json()["error"]
