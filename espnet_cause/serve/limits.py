"""Limits of the service: request body size, concurrent streams, and their defaults.

:class:`BodySizeLimit` is ASGI middleware: a request whose ``Content-Length`` is over the limit
gets HTTP 413 before any of its body is read; one without a length (chunked) is counted while it
is read and stopped with :class:`BodyTooLarge` (turned into 413 by the app) as soon as it passes
the limit, so an upload never costs more than the limit in memory or disk.
"""

from __future__ import annotations

import json

#: Largest request body (bytes) by default: 50 MB.
DEFAULT_MAX_UPLOAD_BYTES = 50_000_000
#: Longest audio (seconds) of an upload or a stream by default.
DEFAULT_MAX_AUDIO_SECONDS = 600.0
#: Concurrent ``/stream`` connections by default.
DEFAULT_MAX_STREAMS = 16
#: Outgoing messages buffered per stream; when full the server stops reading that client.
DEFAULT_QUEUE_SIZE = 64
#: Largest WebSocket message (bytes) by default: 1 MiB is 32 s of 16 kHz int16 audio.
DEFAULT_MAX_MESSAGE_BYTES = 1 << 20
#: Concurrent ``POST /render`` jobs (each takes a CPU core for a while).
DEFAULT_RENDER_JOBS = 1
#: Least audio a stream must send per second of connection (seconds of audio per second, on
#: average since it opened), checked after :data:`DEFAULT_STREAM_GRACE_SECONDS`: a live
#: microphone sends 1.0, so only clients that trickle bytes to hold a stream slot are closed.
DEFAULT_MIN_AUDIO_RATE = 0.5
#: Seconds a stream may run before its data rate is checked (connection set-up, first audio).
DEFAULT_STREAM_GRACE_SECONDS = 10.0


class BodyTooLarge(Exception):
    """A request body passed the upload limit while it was being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body is larger than the {limit} byte limit")
        self.limit = limit


def too_large_message(limit: int, size: int | None = None) -> str:
    what = f"request body of {size} bytes" if size is not None else "request body"
    return f"{what} is over the upload limit of {limit} bytes (the server's --max_upload_mb)"


class BodySizeLimit:
    """ASGI middleware that refuses request bodies over ``max_bytes`` with 413.

    Args:
        app: The wrapped ASGI app.
        max_bytes: Largest body accepted.
    """

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                size = int(length)
            except ValueError:
                await _json(send, 400, {"error": f"bad Content-Length {length.decode()!r}"})
                return
            if size > self.max_bytes:
                await _json(send, 413, {"error": too_large_message(self.max_bytes, size)})
                return
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted, send)


async def _json(send, status: int, body: dict) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class StreamSlots:
    """Counts open streams against a cap (one event loop, so no lock is needed).

    Args:
        max_streams: Most streams at once.
    """

    def __init__(self, max_streams: int) -> None:
        self.max_streams = max_streams
        self.active = 0

    def acquire(self) -> bool:
        """Take a slot; False when all are taken."""
        if self.active >= self.max_streams:
            return False
        self.active += 1
        return True

    def release(self) -> None:
        self.active -= 1
