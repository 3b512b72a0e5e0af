"""The ``/stream`` WebSocket protocol: what a client may send and what the server answers.

Client -> server, in this order:

1. optionally one text message, a JSON object with any of ``"sample_rate"`` (int, Hz, default the
   model's 16000; other rates are resampled), ``"render"`` (bool: also send each frame as a JPEG
   rendered from a photo) and ``"image"`` (the id ``POST /image`` returned; default the server's
   ``--image``) and ``"livelink"`` (bool: also forward each frame to the server's Live Link
   target, ``serve --livelink HOST:PORT``, as a Live Link Face UDP packet);
2. binary messages of little-endian int16 mono PCM, any number of samples each;
3. the text message ``{"type": "end"}``.

Server -> client: one text message per AU frame (one per 40 ms of audio at 25 fps) as soon as the
model can produce it, ``{"type": "frame", "time": T, "au": {"AU01": v, ...}, "arkit": {"eyeBlinkLeft": w, ...}}`` (T in
seconds; the 17 AUs on the 0-5 scale, the 52 ARKit blendshapes on 0-1, one derived from the other
through the table of :mod:`espnet_cause.arkit`, whichever the model learned, the eyeLook* ones
and ``"head": [yaw, pitch, roll]`` (radians) from the live head motion of
:class:`espnet_cause.avatar.head.LiveHead`), with ``"render"`` a binary JPEG message per rendered frame (frames are
skipped when the renderer falls behind; AU frames never are), and at the end
``{"type": "end", "frames": N}``. Anything malformed is answered with
``{"type": "error", "message": ...}`` and the connection is closed with a WebSocket close code
(:data:`CLOSE_PROTOCOL` for bad input, :data:`CLOSE_TOO_BIG` for an oversize message,
:data:`CLOSE_BUSY` when the server has no free stream).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from espnet_cause.au import AU_NAMES
from espnet_cause.io.audio import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE  # the project's one range

#: Keys of the optional first (configuration) message.
CONFIG_KEYS = ("sample_rate", "render", "image", "livelink", "model")
#: Decimals of the AU values in frame messages (1e-4 on a 0-5 scale).
DECIMALS = 4
#: WebSocket close codes (RFC 6455): policy violation, message too big, try again later.
CLOSE_PROTOCOL = 1008
CLOSE_TOO_BIG = 1009
CLOSE_BUSY = 1013


class ProtocolError(Exception):
    """A client message the protocol does not allow; ``message`` is sent back to the client.

    Args:
        message: What is wrong and what to send instead.
        close_code: The WebSocket close code that follows the error message.
    """

    def __init__(self, message: str, close_code: int = CLOSE_PROTOCOL) -> None:
        super().__init__(message)
        self.message = message
        self.close_code = close_code


@dataclass
class StreamConfig:
    """What the first text message asked for."""

    sample_rate: int | None = None
    render: bool = False
    image: str | None = None
    livelink: bool = False
    model: str | None = None


@dataclass
class EndOfStream:
    """The client's ``{"type": "end"}``."""


def parse_text(text: str, audio_started: bool) -> StreamConfig | EndOfStream:
    """Parse a client text message.

    Args:
        text: The message.
        audio_started: Whether PCM has been received already (configuration must come first).

    Raises:
        ProtocolError: for anything but a configuration object (first) or the end message.
    """
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise ProtocolError(
            f"text message is not JSON: {text[:60]!r}; send a JSON object such as "
            '{"sample_rate": 16000} or {"type": "end"}, and audio as binary messages'
        ) from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"text message must be a JSON object, got {type(obj).__name__}")
    kind = obj.get("type")
    if kind == "end":
        if set(obj) != {"type"}:
            raise ProtocolError(f'the end message is exactly {{"type": "end"}}, got {text[:80]}')
        return EndOfStream()
    if kind is not None:
        raise ProtocolError(
            f'unknown message type {kind!r}; the client sends only {{"type": "end"}}'
        )
    unknown = sorted(set(obj) - set(CONFIG_KEYS))
    if unknown:
        raise ProtocolError(
            f"unknown key(s) {unknown}; the first message may have {list(CONFIG_KEYS)}"
        )
    if audio_started:
        raise ProtocolError("the configuration message must come before the first audio")
    config = StreamConfig()
    if "sample_rate" in obj:
        rate = obj["sample_rate"]
        if isinstance(rate, float) and rate.is_integer():
            rate = int(rate)
        if isinstance(rate, bool) or not isinstance(rate, int):
            raise ProtocolError(f"sample_rate must be an integer number of Hz, got {rate!r}")
        if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
            raise ProtocolError(
                f"sample_rate {rate} Hz is out of range; send {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE}"
            )
        config.sample_rate = rate
    if "render" in obj:
        if not isinstance(obj["render"], bool):
            raise ProtocolError(f"render must be true or false, got {obj['render']!r}")
        config.render = obj["render"]
    if "livelink" in obj:
        if not isinstance(obj["livelink"], bool):
            raise ProtocolError(f"livelink must be true or false, got {obj['livelink']!r}")
        config.livelink = obj["livelink"]
    if "image" in obj:
        if not isinstance(obj["image"], str) or not obj["image"]:
            raise ProtocolError(f"image must be the id POST /image returned, got {obj['image']!r}")
        config.image = obj["image"]
    if "model" in obj:
        if not isinstance(obj["model"], str) or not obj["model"]:
            raise ProtocolError(f"model must be a model's name (see /health), got {obj['model']!r}")
        config.model = obj["model"]
    return config


def pcm_samples(data: bytes) -> np.ndarray:
    """Little-endian int16 mono PCM -> (N,) float32 in [-1, 1).

    Raises:
        ProtocolError: for an odd number of bytes (not whole int16 samples).
    """
    if len(data) % 2:
        raise ProtocolError(
            f"binary message of {len(data)} bytes is not whole int16 samples; "
            "send little-endian 16-bit mono PCM (2 bytes per sample)"
        )
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def frame_message(
    index: int,
    au_fps: float,
    aus: np.ndarray,
    arkit: dict[str, float] | None = None,
    head: np.ndarray | None = None,
) -> str:
    """The text message of AU frame ``index`` (at ``index / au_fps`` seconds).

    Args:
        index: Frame number from 0.
        au_fps: AU frame rate.
        aus: (17,) AU intensities, OpenFace order, 0-5 scale.
        arkit: ARKit blendshape weights of the frame, when the model gives them.
        head: (3,) head yaw, pitch, roll (radians), sent as ``"head": [yaw, pitch, roll]``.
    """
    values = np.round(np.asarray(aus, dtype=np.float64), DECIMALS).tolist()
    msg = {
        "type": "frame",
        "time": round(index / au_fps, 6),
        "au": dict(zip(AU_NAMES, values, strict=True)),
    }
    if arkit is not None:
        msg["arkit"] = arkit
    if head is not None:
        msg["head"] = np.round(np.asarray(head, np.float64), DECIMALS).tolist()
    return json.dumps(msg, separators=(",", ":"))


def end_message(frames: int) -> str:
    """The last message of a stream."""
    return json.dumps({"type": "end", "frames": int(frames)})


def error_message(message: str) -> str:
    """An error message (the connection closes after it)."""
    return json.dumps({"type": "error", "message": message})
