"""The Starlette app: the page, ``/health``, ``/stream``, ``/image``, ``/infer`` and ``/render``.

Routes:
    ``GET /``: the web page (package data, plain HTML and JavaScript).
    ``GET /static/NAME``: the page's scripts (a fixed set read at start-up; a URL never becomes
    a file path).
    ``GET /health``: JSON status (model, rates, limits, open streams, ``page_model``: whether
    the page can run the model itself; ``models``: every model offered, its licence and whether
    it streams, ``default_model``, ``live_model``).
    ``GET /model/NAME``: the model's streaming ONNX graphs and frontend numbers for the page's
    in-browser mode (:mod:`espnet_cause.serve.page_model`); ``GET /static/ort/NAME``: the
    onnxruntime-web files it runs them with (package data).
    ``GET /image/default``: the server's ``--image`` photo as JPEG (404 without one).
    ``POST /image`` (multipart ``image``): check the photo for a face and keep it for streams;
    answers ``{"image": ID, "width": W, "height": H}``.
    ``WebSocket /stream``: the live protocol of :mod:`espnet_cause.serve.protocol`.
    ``POST /infer`` (multipart ``audio``): the AU stream (and its ARKit blendshapes) as JSON, or as OpenFace-style CSV with
    ``?format=csv``; ``?model=NAME`` chooses one of the server's models (default: the first).
    ``POST /render`` (multipart ``image``, ``audio``): an mp4 of the photo moved by the speech's
    AUs, with the speech, as the ``render`` CLI makes it (warp renderer); ``?model=NAME`` too.

Errors are JSON ``{"error": message}`` with a 4xx status: 400 malformed request (the multipart
errors name the fields received), 404 unknown, 405 wrong method, 413 over the upload limit (before
the body is read when ``Content-Length`` says so), 422 unusable content (not audio, too long,
silent, no face, a photo over :data:`~espnet_cause.render.photo.MAX_IMAGE_PIXELS` pixels, read from its
header before it is decoded, ...), 503 busy or not available.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from espnet_cause.arkit import ARKIT_NAMES
from espnet_cause.au import AU_FACS_NAMES, AU_NAMES
from espnet_cause.avatar.livelink_udp import DEFAULT_SUBJECT, parse_target
from espnet_cause.errors import CauseError
from espnet_cause.io.au_files import align_aus
from espnet_cause.io.mp4 import write_mp4
from espnet_cause.io.openface import openface_csv_text
from espnet_cause.io.timegrid import num_frames_for_samples
from espnet_cause.io.track import AUTrack
from espnet_cause.render.warp import WarpRenderer
from espnet_cause.serve import limits, protocol
from espnet_cause.serve.models import ServedModel, serve_model
from espnet_cause.serve.page_model import ort_files, page_model_files
from espnet_cause.serve.photos import (
    LIVE_MAX_SIDE,
    RENDER_MAX_SIDE,
    FaceFinder,
    Photo,
    PhotoStore,
    decode_upload,
    fit,
)
from espnet_cause.serve.session import DEFAULT_IDLE_SECONDS, StreamSession, au_and_arkit
from espnet_cause.serve.uploads import decode_audio, error_response, form_files

logger = logging.getLogger(__name__)

#: Content types of the page's files, by suffix.
MEDIA_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
#: Threads that render live JPEG frames (shared by all streams).
RENDER_THREADS = 2


def load_static() -> dict[str, tuple[bytes, str]]:
    """The page's files from package data: name -> (content, media type)."""
    files = {}
    for entry in resources.files("espnet_cause.serve").joinpath("static").iterdir():
        suffix = Path(entry.name).suffix
        if entry.is_file() and suffix in MEDIA_TYPES:
            files[entry.name] = (entry.read_bytes(), MEDIA_TYPES[suffix])
    return files


def _default_photo(image: str | os.PathLike, finder: FaceFinder | None) -> Photo:
    """The server's ``--image``, checked for a face once at start-up."""
    if finder is None:
        raise CauseError("--image needs the face landmarker", fix="pass --face_landmarker_path")
    data = Path(image).read_bytes() if Path(image).is_file() else b""
    if not data:
        raise CauseError("image file not found or empty", path=image, fix="check --image")
    try:
        return Photo(fit(decode_upload(data, str(image)), LIVE_MAX_SIDE), finder, str(image))
    except CauseError as e:
        raise CauseError(e.message, path=image, fix=e.fix) from None


def _file_response(files: dict[str, tuple[bytes, str]], name: str, what: str) -> Response:
    entry = files.get(name)
    if entry is None:
        return error_response(404, f"no such {what} {name!r}")
    return Response(entry[0], media_type=entry[1])


class Service:
    """The state every route shares (model, photos, stream slots) and one method per route.

    Args:
        speech2au: A :class:`~espnet_cause.inference.speech2au.Speech2AU` whose model streams
            (causal): the live ``/stream`` (and ``/infer``, ``/render`` when ``models`` is None).
        models: The models ``/infer`` and ``/render`` offer (``?model=NAME``), by name, the
            default first (:func:`espnet_cause.serve.models.load_models`); None: ``speech2au``.
        face_landmarker_path: MediaPipe ``face_landmarker.task``; None disables ``/image``,
            ``/render`` and live rendering (they answer 503).
        image: A default face photo for live rendering (needs ``face_landmarker_path``).
        max_audio_seconds: Longest audio of an upload or a stream.
        max_streams: Most concurrent ``/stream`` connections; more are refused.
        queue_size: Outgoing messages buffered per stream.
        max_message_bytes: Largest WebSocket message from a client.
        render_jobs: Most concurrent ``POST /render`` jobs; more get 503.
        idle_seconds: A stream with no client message for this long is closed.
        min_audio_rate: A stream that sends less audio than this per second of connection
            (after ``stream_grace_seconds``) is closed (0: no such check).
        stream_grace_seconds: When the data rate starts to be checked.
        max_upload_bytes: Largest request body (reported by ``/health``).
        livelink: ``"HOST:PORT"`` of a Live Link Face target (Unreal) that streams asking for
            ``"livelink": true`` are forwarded to, or None.
        livelink_subject: Subject name of the forwarded streams.
        head_motion: Scale of the streams' live head motion and gaze (0: still).

    Raises:
        CauseError: when the model cannot stream or the default photo is unusable.
    """

    def __init__(
        self,
        *,
        speech2au,
        models: dict[str, ServedModel] | None = None,
        face_landmarker_path: str | os.PathLike | None = None,
        image: str | os.PathLike | None = None,
        max_audio_seconds: float = limits.DEFAULT_MAX_AUDIO_SECONDS,
        max_streams: int = limits.DEFAULT_MAX_STREAMS,
        queue_size: int = limits.DEFAULT_QUEUE_SIZE,
        max_message_bytes: int = limits.DEFAULT_MAX_MESSAGE_BYTES,
        render_jobs: int = limits.DEFAULT_RENDER_JOBS,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        max_upload_bytes: int = limits.DEFAULT_MAX_UPLOAD_BYTES,
        min_audio_rate: float = limits.DEFAULT_MIN_AUDIO_RATE,
        stream_grace_seconds: float = limits.DEFAULT_STREAM_GRACE_SECONDS,
        livelink: str | None = None,
        livelink_subject: str = DEFAULT_SUBJECT,
        head_motion: float = 1.0,
    ) -> None:
        speech2au.streamer()  # raises CauseError naming the reason when the model cannot stream
        self.speech2au = speech2au
        live = serve_model(speech2au)
        self.models = models or {live.name: live}
        self.live_name = next(
            (n for n, m in self.models.items() if m.stream_model is speech2au), live.name
        )
        self.target = getattr(speech2au, "target", "au")
        self.lookahead = speech2au.algorithmic_latency
        self.max_audio_seconds = max_audio_seconds
        self.queue_size = queue_size
        self.max_message_bytes = max_message_bytes
        self.render_jobs = render_jobs
        self.idle_seconds = idle_seconds
        self.min_audio_rate = min_audio_rate
        self.stream_grace_seconds = stream_grace_seconds
        self.max_upload_bytes = max_upload_bytes
        self.livelink = None if livelink is None else (*parse_target(livelink), livelink_subject)
        self.head_motion = head_motion
        self.static = load_static()
        self.page_files, self.no_page_model = page_model_files(speech2au)
        self.finder = FaceFinder(face_landmarker_path) if face_landmarker_path is not None else None
        self.photos = PhotoStore()
        self.default_photo = None if image is None else _default_photo(image, self.finder)
        self.default_jpeg = (
            None
            if self.default_photo is None
            else self.default_photo.jpeg(np.zeros(len(AU_NAMES), np.float32))
        )
        self.slots = limits.StreamSlots(max_streams)
        self.executor = ThreadPoolExecutor(RENDER_THREADS, thread_name_prefix="render")
        self.render_slots = asyncio.Semaphore(render_jobs)

    def find_photo(self, photo_id: str | None) -> Photo | None:
        return self.default_photo if photo_id is None else self.photos.get(photo_id)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        if self.finder is not None:
            self.finder.close()  # MediaPipe cannot close its graph at interpreter exit

    @staticmethod
    def no_faces() -> Response:
        return error_response(
            503,
            "face rendering is not available: the server has no face landmarker "
            "(start it with --face_landmarker_path)",
        )

    async def index(self, request: Request) -> Response:
        return HTMLResponse(self.static["index.html"][0])

    async def static_file(self, request: Request) -> Response:
        return _file_response(self.static, request.path_params["name"], "file")

    async def model_file(self, request: Request) -> Response:
        if self.page_files is None:
            return error_response(
                404, f"the page cannot run this model itself: {self.no_page_model}"
            )
        return _file_response(self.page_files, request.path_params["name"], "model file")

    async def ort_file(self, request: Request) -> Response:
        return _file_response(ort_files(), request.path_params["name"], "runtime file")

    def stream_model(self, name: str):
        """The model that streams for ``{"model": NAME}``.

        Raises:
            ProtocolError: naming the server's live models for an unknown or offline one.
        """
        live = [n for n, m in self.models.items() if m.live]
        model = self.models.get(name)
        if model is None or not model.live:
            why = "unknown model" if model is None else "offline-only model"
            raise protocol.ProtocolError(
                f"{why} {name!r}; this server streams with: {', '.join(live) or self.live_name}"
            )
        return model.stream_model

    def choose_model(self, request: Request) -> ServedModel | Response:
        """The model a request names (``?model=NAME``; default the first), or a 400 answer."""
        name = request.query_params.get("model")
        if name is None:
            return next(iter(self.models.values()))
        if name not in self.models:
            return error_response(
                400, f"unknown model {name!r}; this server has: {', '.join(self.models)}"
            )
        return self.models[name]

    async def health(self, request: Request) -> Response:
        s2a = self.speech2au
        return JSONResponse(
            {
                "models": [m.describe() for m in self.models.values()],
                "default_model": next(iter(self.models)),
                "live_model": self.live_name,
                "status": "ok",
                "model": s2a.source,
                "backend": s2a.backend,
                "sample_rate": s2a.fs,
                "au_fps": s2a.au_fps,
                "au_names": list(AU_NAMES),
                "au_facs_names": {name: AU_FACS_NAMES[name] for name in AU_NAMES},
                "arkit_names": list(ARKIT_NAMES),
                "target": self.target,
                "lookahead_ms": round(self.lookahead * 1000, 3),
                "streams": self.slots.active,
                "max_streams": self.slots.max_streams,
                "render": self.finder is not None,
                "default_image": self.default_photo is not None,
                "max_upload_bytes": self.max_upload_bytes,
                "max_audio_seconds": self.max_audio_seconds,
                "min_audio_rate": self.min_audio_rate,
                "page_model": self.page_files is not None,
                "livelink": None
                if self.livelink is None
                else f"{self.livelink[0]}:{self.livelink[1]}",
                "page_model_note": self.no_page_model,
            }
        )

    async def default_image(self, request: Request) -> Response:
        if self.default_jpeg is None:
            return error_response(404, "the server has no default photo (start it with --image)")
        return Response(self.default_jpeg, media_type="image/jpeg")

    async def upload_image(self, request: Request) -> Response:
        if self.finder is None:
            return self.no_faces()
        files = await form_files(request, ("image",))
        if isinstance(files, Response):
            return files
        try:
            photo = await run_in_threadpool(
                lambda: Photo(fit(decode_upload(files["image"]), LIVE_MAX_SIDE), self.finder)
            )
        except CauseError as e:
            return error_response(422, str(e))
        height, width = photo.image.shape[:2]
        return JSONResponse({"image": self.photos.add(photo), "width": width, "height": height})

    async def infer(self, request: Request) -> Response:
        fmt = request.query_params.get("format", "json")
        if fmt not in ("json", "csv"):
            return error_response(400, f"unknown format {fmt!r}; use format=json or format=csv")
        model = self.choose_model(request)
        if isinstance(model, Response):
            return model
        s2a = model.speech2au
        files = await form_files(request, ("audio",))
        if isinstance(files, Response):
            return files
        try:
            samples, rate = decode_audio(files["audio"], self.max_audio_seconds)
            values = await run_in_threadpool(s2a, samples, rate, "audio")
        except CauseError as e:
            return error_response(422, str(e))
        aus, arkit = au_and_arkit(values, getattr(s2a, "target", "au"))
        fps = s2a.au_fps
        if fmt == "csv":
            track = AUTrack.from_array(aus, fps, source="audio")
            return PlainTextResponse(openface_csv_text(track), media_type="text/csv")
        return JSONResponse(
            {
                "model": model.name,
                "au_fps": fps,
                "num_frames": len(aus),
                "au_names": list(AU_NAMES),
                "au": np.round(aus.astype(np.float64), protocol.DECIMALS).tolist(),
                "arkit_names": list(ARKIT_NAMES),
                "arkit": np.round(arkit.astype(np.float64), protocol.DECIMALS).tolist(),
            }
        )

    def render_mp4(self, image_data: bytes, audio_data: bytes, speech2au=None) -> bytes:
        """The ``render`` CLI's warp rendering of one upload pair, as mp4 bytes."""

        s2a = speech2au or self.speech2au
        photo_image = fit(decode_upload(image_data), RENDER_MAX_SIDE)
        face = self.finder.find(photo_image, "image")
        samples, rate = decode_audio(audio_data, self.max_audio_seconds)
        aus = au_and_arkit(s2a(samples, rate, "audio"), getattr(s2a, "target", "au"))[0]
        fps = s2a.au_fps
        # one frame per AU frame of the speech, as infer and render
        aus = align_aus(aus, num_frames_for_samples(len(samples), rate, fps), source="audio")
        renderer = WarpRenderer(self.finder.path)
        renderer.prepare(photo_image, face=face, source="image")
        frames = renderer.render(photo_image, aus)
        with tempfile.TemporaryDirectory(prefix="espnet-cause-render-") as tmp:
            out = Path(tmp) / "take.mp4"  # the server's own name, never the client's
            write_mp4(out, frames, fps, audio=samples, sample_rate=rate)
            return out.read_bytes()

    async def render(self, request: Request) -> Response:
        if self.finder is None:
            return self.no_faces()
        model = self.choose_model(request)
        if isinstance(model, Response):
            return model
        if self.render_slots.locked():
            return error_response(
                503,
                f"the server is rendering {self.render_jobs} take(s) already; try again shortly",
            )
        async with self.render_slots:
            files = await form_files(request, ("image", "audio"))
            if isinstance(files, Response):
                return files
            try:
                mp4 = await run_in_threadpool(
                    self.render_mp4, files["image"], files["audio"], model.speech2au
                )
            except CauseError as e:
                return error_response(422, str(e))
        return Response(
            mp4,
            media_type="video/mp4",
            headers={"Content-Disposition": 'attachment; filename="espnet-cause-take.mp4"'},
        )

    async def stream(self, websocket: WebSocket) -> None:
        await websocket.accept()
        if not self.slots.acquire():
            await websocket.send_text(
                protocol.error_message(
                    f"server busy: all {self.slots.max_streams} streams are in use; try again later"
                )
            )
            await websocket.close(protocol.CLOSE_BUSY)
            return
        try:
            session = StreamSession(
                speech2au=self.speech2au,
                choose_model=self.stream_model,
                find_photo=self.find_photo,
                executor=self.executor,
                max_seconds=self.max_audio_seconds,
                queue_size=self.queue_size,
                max_message_bytes=self.max_message_bytes,
                idle_seconds=self.idle_seconds,
                min_audio_rate=self.min_audio_rate,
                grace_seconds=self.stream_grace_seconds,
                livelink=self.livelink,
                head_motion=self.head_motion,
            )
            await session.run(websocket)
        finally:
            self.slots.release()


def create_app(**settings) -> Starlette:
    """Build the service: a :class:`Service` behind Starlette's routes and the body limit.

    Args:
        **settings: :class:`Service`'s keyword arguments (``speech2au`` and the limits);
            ``max_upload_bytes`` also sets the request body limit (HTTP 413 past it).

    Raises:
        CauseError: when the model cannot stream or the default photo is unusable.
    """
    service = Service(**settings)

    async def too_large(request: Request, exc: limits.BodyTooLarge) -> Response:
        return error_response(413, limits.too_large_message(exc.limit))

    async def http_error(request: Request, exc: HTTPException) -> Response:
        # Starlette's own 4xx (unknown path, wrong method, bad multipart) as JSON, like ours
        return error_response(exc.status_code, str(exc.detail))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        service.close()

    app = Starlette(
        lifespan=lifespan,
        routes=[
            Route("/", service.index),
            Route("/static/{name}", service.static_file),
            Route("/static/ort/{name}", service.ort_file),
            Route("/model/{name}", service.model_file),
            Route("/health", service.health),
            Route("/image/default", service.default_image),
            Route("/image", service.upload_image, methods=["POST"]),
            Route("/infer", service.infer, methods=["POST"]),
            Route("/render", service.render, methods=["POST"]),
            WebSocketRoute("/stream", service.stream),
        ],
        middleware=[Middleware(limits.BodySizeLimit, max_bytes=service.max_upload_bytes)],
        exception_handlers={limits.BodyTooLarge: too_large, HTTPException: http_error},
    )
    app.state.service = service
    app.state.slots = service.slots
    app.state.photos = service.photos
    return app
