"""One ``/stream`` connection: PCM in, AU frames (and rendered JPEGs) out, with bounded buffers.

Three tasks per connection, all on the event loop:

- the receiver reads client messages (:mod:`~espnet_cause.serve.protocol`), resamples, runs the
  streaming model in slices of at most :data:`MAX_SLICE_SECONDS` (one model step per 40 ms chunk
  at real-time pace, about a millisecond) and puts each AU frame on the outgoing queue;
- the sender sends what is on the queue. The queue holds ``queue_size`` messages: when a client
  does not read, the queue fills, the receiver waits, and the server stops reading that client
  (TCP back-pressure) instead of buffering without bound;
- with ``render``, the renderer warps the photo for the newest AU frame in a worker thread (off
  the event loop) and queues the JPEG; frames that arrive while it is busy are skipped, so
  rendering never delays the AU frames.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor

import numpy as np

from espnet_cause.arkit import ARKIT_NAMES, arkit_frames, blendshapes_to_aus
from espnet_cause.avatar.head import LiveHead
from espnet_cause.avatar.livelink_udp import LiveLinkSender, packet_values
from espnet_cause.errors import CauseError
from espnet_cause.serve import limits, protocol
from espnet_cause.serve.protocol import EndOfStream, ProtocolError, StreamConfig
from espnet_cause.serve.resample import StreamResampler

logger = logging.getLogger(__name__)

#: Longest stretch of audio given to the model in one step (bounds the time one big message
#: holds the event loop).
MAX_SLICE_SECONDS = 0.5
#: Seconds a client may stay silent (no message) before the server closes the stream.
DEFAULT_IDLE_SECONDS = 30.0

_DONE = object()  # queue sentinel: nothing more to send


def au_and_arkit(values: np.ndarray, target: str = "au") -> tuple[np.ndarray, np.ndarray]:
    """A model's output frames as both AUs and ARKit blendshapes.

    Args:
        values: (T, 17) AUs (``target: au``) or (T, 51) MediaPipe blendshapes (``target: arkit``).
        target: The model's target space.

    Returns:
        (T, 17) AUs on 0-5 (OpenFace order) and (T, 52) ARKit weights on 0-1
        (:data:`espnet_cause.arkit.ARKIT_NAMES` order), one through the project's AU <-> ARKit
        table from the other.
    """

    values = np.asarray(values, np.float32)
    aus = blendshapes_to_aus(values) if target == "arkit" else values
    return aus, arkit_frames(values)


class _Gone(Exception):
    """The client disconnected."""


class LiveRenderer:
    """Renders the newest AU frame of a stream as JPEG, skipping frames while busy.

    Args:
        photo: A :class:`~espnet_cause.serve.photos.Photo`.
        executor: Where the warp and JPEG encoding run.
        out: The stream's outgoing queue.
    """

    def __init__(self, photo, executor: Executor, out: asyncio.Queue) -> None:
        self.photo = photo
        self.executor = executor
        self.out = out
        self.rendered = 0
        self.skipped = 0
        self._pending: np.ndarray | None = None
        self._wake = asyncio.Event()
        self._closing = False
        self._task = asyncio.create_task(self._run())

    def submit(self, aus: np.ndarray) -> None:
        """Ask for a frame; replaces a request the renderer has not started yet."""
        if self._pending is not None:
            self.skipped += 1
        self._pending = aus
        self._wake.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            aus, self._pending = self._pending, None
            if aus is not None:
                jpeg = await loop.run_in_executor(self.executor, self.photo.jpeg, aus)
                await self.out.put(jpeg)
                self.rendered += 1
            if self._closing and self._pending is None:
                return

    async def drain(self) -> None:
        """Render what is pending, then stop."""
        self._closing = True
        self._wake.set()
        await self._task

    def cancel(self) -> None:
        self._task.cancel()


class StreamSession:
    """The work of one ``/stream`` connection.

    Args:
        speech2au: A :class:`~espnet_cause.inference.speech2au.Speech2AU` with a causal model (shared by
            all connections; each gets its own streaming state): the stream's model unless the
            client names another.
        choose_model: A name a client sends (``{"model": NAME}``) -> the model that streams
            for it; raises :class:`ProtocolError` naming the choices (None: no choice).
        find_photo: Photo id (None: the server's default photo) -> Photo, or None if unknown.
        executor: Thread pool for rendering.
        max_seconds: Longest audio a stream may send.
        queue_size: Outgoing messages buffered before the server stops reading the client.
        max_message_bytes: Largest client message.
        idle_seconds: Longest wait for the next client message.
        min_audio_rate: Least seconds of audio per second of connection (average since the
            stream opened), enforced after ``grace_seconds``; 0 turns the check off.
        grace_seconds: Seconds before the data rate is checked.
        livelink: ``(host, port, subject)`` of the server's Live Link target (streams that ask
            for ``"livelink": true`` are forwarded there), or None.
        head_motion: Scale of the live head motion and gaze (:class:`~espnet_cause.avatar.head.LiveHead`).
    """

    def __init__(
        self,
        *,
        speech2au,
        choose_model: Callable[[str], object] | None = None,
        find_photo: Callable[[str | None], object | None],
        executor: Executor,
        max_seconds: float,
        queue_size: int,
        max_message_bytes: int,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        min_audio_rate: float = limits.DEFAULT_MIN_AUDIO_RATE,
        grace_seconds: float = limits.DEFAULT_STREAM_GRACE_SECONDS,
        livelink: tuple[str, int, str] | None = None,
        head_motion: float = 1.0,
    ) -> None:
        self.choose_model = choose_model
        self.min_audio_rate = min_audio_rate
        self.grace_seconds = grace_seconds
        self.livelink = livelink
        self.sender = None  # a LiveLinkSender while the stream forwards to Live Link
        self.head = None  # the stream's LiveHead, made on the first frames
        self.find_photo = find_photo
        self.executor = executor
        self.max_seconds = max_seconds
        self.queue_size = queue_size
        self.max_message_bytes = max_message_bytes
        self.idle_seconds = idle_seconds
        self._use(speech2au)
        self.head_motion = head_motion
        self.frames = 0
        self.max_queued = 0  # the most messages that waited in the queue (for tests)

    def _use(self, speech2au) -> None:
        """Stream with this model."""
        self.speech2au = speech2au
        self.fs = int(speech2au.fs)
        self.au_fps = float(speech2au.au_fps)
        self.target = getattr(speech2au, "target", "au")

    async def run(self, websocket) -> None:
        """Serve the connection until the end message, an error, or the client leaving.

        Args:
            websocket: An accepted Starlette ``WebSocket``.
        """
        out: asyncio.Queue = asyncio.Queue(self.queue_size)
        receiver = asyncio.create_task(self._receive(websocket, out))
        sender = asyncio.create_task(self._send(websocket, out))
        try:
            done, _ = await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
            if sender in done and not receiver.done():  # the client went away while we sent
                receiver.cancel()
                return
            close_code = await receiver
            if close_code is None:  # the client disconnected
                sender.cancel()
                return
            await sender
            await websocket.close(close_code)
        except (_Gone, OSError, RuntimeError):
            return
        finally:
            for task in (receiver, sender):
                task.cancel()

    async def _send(self, websocket, out: asyncio.Queue) -> None:
        while True:
            item = await out.get()
            if item is _DONE:
                return
            try:
                if isinstance(item, bytes):
                    await websocket.send_bytes(item)
                else:
                    await websocket.send_text(item)
            except Exception as e:  # noqa: BLE001 - any transport failure means the client left
                raise _Gone() from e

    async def _put(self, out: asyncio.Queue, item) -> None:
        await out.put(item)
        self.max_queued = max(self.max_queued, out.qsize())

    async def _receive(self, websocket, out: asyncio.Queue) -> int | None:
        """Read and answer client messages; the close code to end with (None: client left)."""
        renderer: LiveRenderer | None = None
        stream = None  # made at the first audio, with the model the configuration chose
        resampler = None
        rate = self.fs
        received = 0  # input samples at the client's rate
        audio_started = False
        loop = asyncio.get_running_loop()
        opened = loop.time()
        try:
            while True:
                deadline = self._rate_deadline(opened, received / rate)
                wait = min(self.idle_seconds, deadline - loop.time())
                if wait <= 0:
                    raise ProtocolError(self._too_slow(received / rate, loop.time() - opened))
                try:
                    message = await asyncio.wait_for(websocket.receive(), wait)
                except TimeoutError:
                    if loop.time() >= deadline:
                        too_slow = self._too_slow(received / rate, loop.time() - opened)
                        raise ProtocolError(too_slow) from None
                    raise ProtocolError(
                        f"no message for {self.idle_seconds:g} s; send audio continuously and "
                        'end with {"type": "end"}'
                    ) from None
                if message["type"] == "websocket.disconnect":
                    return None
                text, data = message.get("text"), message.get("bytes")
                size = len(text.encode()) if text is not None else len(data or b"")
                if size > self.max_message_bytes:
                    raise ProtocolError(
                        f"message of {size} bytes is over the {self.max_message_bytes} byte "
                        "limit; send audio in smaller chunks (40 ms is 1280 bytes at 16 kHz)",
                        protocol.CLOSE_TOO_BIG,
                    )
                if text is not None:
                    parsed = protocol.parse_text(text, audio_started)
                    if isinstance(parsed, EndOfStream):
                        await self._finish(stream, resampler, received, out, renderer)
                        if renderer is not None:
                            await renderer.drain()
                            renderer = None
                        await self._put(out, protocol.end_message(self.frames))
                        return 1000
                    if parsed.model is not None:
                        if self.choose_model is None:
                            raise ProtocolError("this server offers no choice of live model")
                        self._use(self.choose_model(parsed.model))
                    renderer = self._configure(parsed, out)
                    if parsed.sample_rate is not None and parsed.sample_rate != self.fs:
                        rate = parsed.sample_rate
                        resampler = StreamResampler(rate, self.fs)
                    continue
                samples = protocol.pcm_samples(data or b"")
                audio_started = True
                received += samples.size
                if received > self.max_seconds * rate:
                    raise ProtocolError(
                        f"stream is longer than the server's limit of {self.max_seconds:g} s of "
                        'audio; end it with {"type": "end"} and start a new one'
                    )
                if resampler is not None:
                    samples = resampler.accept(samples)
                if stream is None:
                    stream = self.speech2au.streamer()
                await self._feed(stream, samples, out, renderer)
        except ProtocolError as e:
            logger.info("stream refused: %s", e.message)
            await self._put(out, protocol.error_message(e.message))
            return e.close_code
        finally:
            if renderer is not None:
                renderer.cancel()
            if self.sender is not None:
                self.sender.close()
            await out.put(_DONE)

    def _rate_deadline(self, opened: float, audio_seconds: float) -> float:
        """Loop time by which a stream that has sent ``audio_seconds`` must send more."""
        if self.min_audio_rate <= 0:
            return float("inf")
        return opened + max(self.grace_seconds, audio_seconds / self.min_audio_rate)

    def _too_slow(self, audio_seconds: float, elapsed: float) -> str:
        return (
            f"stream too slow: {audio_seconds:.2f} s of audio in {elapsed:.1f} s; the server "
            f"needs at least {self.min_audio_rate:g} s of audio per second after the first "
            f"{self.grace_seconds:g} s (send audio as it is recorded), so that slow clients do "
            "not hold the stream slots"
        )

    def _configure(self, config: StreamConfig, out: asyncio.Queue) -> LiveRenderer | None:
        if config.livelink:
            if self.livelink is None:
                raise ProtocolError(
                    '"livelink": true needs a Live Link target: start the server with '
                    "--livelink HOST:PORT"
                )
            host, port, subject = self.livelink
            self.sender = LiveLinkSender(host, port, subject=subject, fps=round(self.au_fps))
        if not config.render:
            if config.image is not None:
                raise ProtocolError('"image" is only used with "render": true')
            return None
        photo = self.find_photo(config.image)
        if photo is None:
            if config.image is None:
                raise ProtocolError(
                    '"render": true needs a photo: upload one with POST /image and send its id '
                    'as "image", or start the server with --image'
                )
            raise ProtocolError(
                f"unknown image id {config.image!r} (expired or never uploaded); "
                "upload the photo again with POST /image"
            )
        return LiveRenderer(photo, self.executor, out)

    async def _feed(self, stream, samples: np.ndarray, out, renderer) -> None:
        step = max(1, int(MAX_SLICE_SECONDS * self.fs))
        for start in range(0, samples.size, step):
            if start:
                await asyncio.sleep(0)  # let other connections run between slices
            await self._emit(stream.accept(samples[start : start + step]), out, renderer)

    async def _finish(self, stream, resampler, received: int, out, renderer) -> None:
        if received == 0:
            return
        if resampler is not None:
            await self._feed(stream, resampler.finish(), out, renderer)
        try:
            rows = stream.finish()
        except CauseError as e:
            raise ProtocolError(f"{e.message}; send more audio before the end message") from None
        await self._emit(rows, out, renderer)

    async def _emit(self, rows, out: asyncio.Queue, renderer: LiveRenderer | None) -> None:
        rows = rows.detach().cpu().numpy() if hasattr(rows, "detach") else np.asarray(rows)
        if len(rows) == 0:
            return
        aus, arkit = au_and_arkit(rows, self.target)
        if self.head is None:
            max_frames = int(np.ceil(self.max_seconds * self.au_fps)) + 2
            self.head = LiveHead(self.au_fps, max_frames, self.head_motion)
        for au_row, arkit_row in zip(aus, arkit, strict=True):
            rotations, looks = self.head.frame(self.frames)
            shapes = dict(zip(ARKIT_NAMES, np.round(arkit_row.astype(np.float64), 4).tolist()))
            shapes.update((name, round(v, 4)) for name, v in looks.items())
            message = protocol.frame_message(
                self.frames, self.au_fps, au_row, shapes, head=rotations[:3]
            )
            await self._put(out, message)
            if self.sender is not None:
                row = np.array([shapes[name] for name in ARKIT_NAMES], np.float32)
                self.sender.send(packet_values(row[None], rotations[None])[0])
            self.frames += 1
            if renderer is not None:
                renderer.submit(au_row)
