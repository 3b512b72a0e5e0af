"""Parsing client messages and building server messages of the /stream protocol."""

import json

import numpy as np
import pytest

from espnet_cause.au import AU_NAMES
from espnet_cause.serve import protocol
from espnet_cause.serve.protocol import EndOfStream, ProtocolError, StreamConfig


def test_config_and_end():
    assert protocol.parse_text('{"sample_rate": 48000}', False) == StreamConfig(sample_rate=48000)
    assert protocol.parse_text('{"sample_rate": 16000.0, "render": true, "image": "x"}', False) == (
        StreamConfig(sample_rate=16000, render=True, image="x")
    )
    assert isinstance(protocol.parse_text('{"type": "end"}', True), EndOfStream)


@pytest.mark.parametrize(
    "text,audio_started,match",
    [
        ("hello", False, "not JSON"),
        ("[1, 2]", False, "JSON object"),
        ('{"type": "start"}', False, "unknown message type"),
        ('{"type": "end", "x": 1}', True, "exactly"),
        ('{"rate": 16000}', False, "unknown key"),
        ('{"sample_rate": 16000}', True, "before the first audio"),
        ('{"sample_rate": "16k"}', False, "integer"),
        ('{"sample_rate": true}', False, "integer"),
        ('{"sample_rate": 16000.5}', False, "integer"),
        ('{"sample_rate": 100}', False, "out of range"),
        ('{"sample_rate": 1000000}', False, "out of range"),
        ('{"render": "yes"}', False, "true or false"),
        ('{"image": 3}', False, "POST /image"),
    ],
)
def test_bad_text(text, audio_started, match):
    with pytest.raises(ProtocolError, match=match) as info:
        protocol.parse_text(text, audio_started)
    assert info.value.close_code == protocol.CLOSE_PROTOCOL


def test_pcm():
    samples = protocol.pcm_samples(np.array([0, 16384, -32768], "<i2").tobytes())
    np.testing.assert_array_equal(samples, [0.0, 0.5, -1.0])
    assert samples.dtype == np.float32
    with pytest.raises(ProtocolError, match="3 bytes"):
        protocol.pcm_samples(b"\x00\x01\x02")


def test_server_messages():
    msg = json.loads(protocol.frame_message(3, 25.0, np.arange(17) / 3))
    assert msg["type"] == "frame" and msg["time"] == pytest.approx(0.12)
    assert list(msg["au"]) == list(AU_NAMES) and msg["au"]["AU02"] == pytest.approx(0.3333)
    assert "arkit" not in msg
    assert json.loads(protocol.frame_message(0, 25.0, np.zeros(17), {"jawOpen": 0.5}))["arkit"] == {
        "jawOpen": 0.5
    }
    assert json.loads(protocol.end_message(7)) == {"type": "end", "frames": 7}
    assert json.loads(protocol.error_message("bad")) == {"type": "error", "message": "bad"}
