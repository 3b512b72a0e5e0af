"""The Starlette app: the page, ``/health``, ``/stream``, ``/image``, ``/infer`` and ``/render``.

Routes:
    ``GET /``: the web page (package data, plain HTML and JavaScript).
    ``GET /static/NAME``: the page's scripts (a fixed set read at start-up; a URL never becomes
    a file path).
    ``GET /health``: JSON status (model, rates, limits, open streams, ``page_model``: whether
    the page can run the model itself).
    ``GET /model/NAME``: the model's streaming ONNX graphs and frontend numbers for the page's
    in-browser mode (:mod:`espnet_cause.serve.page_model`); ``GET /static/ort/NAME``: the
    onnxruntime-web files it runs them with (package data).
    ``GET /image/default``: the server's ``--image`` photo as JPEG (404 without one).
    ``POST /image`` (multipart ``image``): check the photo for a face and keep it for streams;
    answers ``{"image": ID, "width": W, "height": H}``.
    ``WebSocket /stream``: the live protocol of :mod:`espnet_cause.serve.protocol`.
    ``POST /infer`` (multipart ``audio``): the AU stream (and its ARKit blendshapes) as JSON, or as OpenFace-style CSV with
    ``?format=csv``.
    ``POST /render`` (multipart ``image``, ``audio``): an mp4 of the photo moved by the speech's
    AUs, with the speech, as the ``render`` CLI makes it (warp renderer).

Errors are JSON ``{"error": message}`` with a 4xx status: 400 malformed request, 404 unknown,
413 over the upload limit (before the body is read when ``Content-Length`` says so), 422
unusable content (not audio, too long, silent, no face, ...), 503 busy or not available.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from espnet_cause.arkit import ARKIT_NAMES
from espnet_cause.au import AU_FACS_NAMES, AU_NAMES
from espnet_cause.errors import CauseError
from espnet_cause.serve import limits, protocol
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

logger = logging.getLogger(__name__)

#: Content types of the page's files, by suffix.
MEDIA_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
#: Threads that render live JPEG frames (shared by all streams).
RENDER_THREADS = 2


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def load_static() -> dict[str, tuple[bytes, str]]:
    """The page's files from package data: name -> (content, media type)."""
    files = {}
    for entry in resources.files("espnet_cause.serve").joinpath("static").iterdir():
        suffix = Path(entry.name).suffix
        if entry.is_file() and suffix in MEDIA_TYPES:
            files[entry.name] = (entry.read_bytes(), MEDIA_TYPES[suffix])
    return files


def decode_audio(data: bytes, max_seconds: float, name: str = "audio") -> tuple[np.ndarray, int]:
    """An uploaded sound file (wav, flac, ogg, mp3) -> (N,) float32 mono samples and their rate.

    Raises:
        CauseError: when it is empty, not a sound file, or longer than ``max_seconds``.
    """
    import soundfile as sf

    if not data:
        raise CauseError(f"{name} is empty", fix="upload a wav/flac/ogg recording")
    try:
        info = sf.info(io.BytesIO(data))
        if info.frames / info.samplerate > max_seconds:
            raise CauseError(
                f"{name} is {info.frames / info.samplerate:.1f} s long, over the server's limit "
                f"of {max_seconds:g} s",
                fix="upload a shorter recording",
            )
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, ValueError, TypeError):
        raise CauseError(
            f"{name} is not a sound file soundfile can read",
            fix="upload wav, flac, ogg or mp3 audio",
        ) from None
    return samples.mean(axis=1), int(rate)


async def _form_files(request: Request, names: tuple[str, ...]) -> dict[str, bytes] | Response:
    """Read the multipart fields ``names`` as bytes, or an error response."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return _error(400, f"send multipart/form-data with the field(s) {list(names)}")
    form = await request.form(max_files=len(names), max_fields=len(names))
    try:
        files = {}
        for name in names:
            field = form.get(name)
            if field is None:
                return _error(400, f"multipart field {name!r} is missing (fields: {list(names)})")
            if isinstance(field, str):
                return _error(400, f"multipart field {name!r} must be a file upload")
            files[name] = await field.read()
        return files
    finally:
        await form.close()


def create_app(
    *,
    speech2au,
    face_landmarker_path: str | os.PathLike | None = None,
    image: str | os.PathLike | None = None,
    max_upload_bytes: int = limits.DEFAULT_MAX_UPLOAD_BYTES,
    max_audio_seconds: float = limits.DEFAULT_MAX_AUDIO_SECONDS,
    max_streams: int = limits.DEFAULT_MAX_STREAMS,
    queue_size: int = limits.DEFAULT_QUEUE_SIZE,
    max_message_bytes: int = limits.DEFAULT_MAX_MESSAGE_BYTES,
    render_jobs: int = limits.DEFAULT_RENDER_JOBS,
    idle_seconds: float = DEFAULT_IDLE_SECONDS,
) -> Starlette:
    """Build the service.

    Args:
        speech2au: A :class:`~espnet_cause.inference.Speech2AU` whose model streams (causal).
        face_landmarker_path: MediaPipe ``face_landmarker.task``; None disables ``/image``,
            ``/render`` and live rendering (they answer 503).
        image: A default face photo for live rendering (needs ``face_landmarker_path``).
        max_upload_bytes: Largest request body.
        max_audio_seconds: Longest audio of an upload or a stream.
        max_streams: Most concurrent ``/stream`` connections; more are refused.
        queue_size: Outgoing messages buffered per stream.
        max_message_bytes: Largest WebSocket message from a client.
        render_jobs: Most concurrent ``POST /render`` jobs; more get 503.
        idle_seconds: A stream with no client message for this long is closed.

    Raises:
        CauseError: when the model cannot stream or the default photo is unusable.
    """
    speech2au.streamer()  # raises CauseError naming the reason when the model cannot stream
    lookahead = speech2au.algorithmic_latency
    target = getattr(speech2au, "target", "au")
    static = load_static()
    from espnet_cause.serve.page_model import ort_files, page_model_files

    page_files, no_page_model = page_model_files(speech2au)
    finder = FaceFinder(face_landmarker_path) if face_landmarker_path is not None else None
    photos = PhotoStore()
    default_photo: Photo | None = None
    default_jpeg: bytes | None = None
    if image is not None:
        if finder is None:
            raise CauseError("--image needs the face landmarker", fix="pass --face_landmarker_path")
        data = Path(image).read_bytes() if Path(image).is_file() else b""
        if not data:
            raise CauseError("image file not found or empty", path=image, fix="check --image")
        try:
            default_photo = Photo(
                fit(decode_upload(data, str(image)), LIVE_MAX_SIDE), finder, str(image)
            )
        except CauseError as e:
            raise CauseError(e.message, path=image, fix=e.fix) from None
        default_jpeg = default_photo.jpeg(np.zeros(len(AU_NAMES), np.float32))
    slots = limits.StreamSlots(max_streams)
    executor = ThreadPoolExecutor(RENDER_THREADS, thread_name_prefix="render")
    render_slots = asyncio.Semaphore(render_jobs)

    def find_photo(photo_id: str | None) -> Photo | None:
        return default_photo if photo_id is None else photos.get(photo_id)

    def no_faces() -> Response:
        return _error(
            503,
            "face rendering is not available: the server has no face landmarker "
            "(start it with --face_landmarker_path)",
        )

    async def index(request: Request) -> Response:
        return HTMLResponse(static["index.html"][0])

    async def static_file(request: Request) -> Response:
        entry = static.get(request.path_params["name"])
        if entry is None:
            return _error(404, f"no such file {request.path_params['name']!r}")
        return Response(entry[0], media_type=entry[1])

    async def model_file(request: Request) -> Response:
        if page_files is None:
            return _error(404, f"the page cannot run this model itself: {no_page_model}")
        entry = page_files.get(request.path_params["name"])
        if entry is None:
            return _error(404, f"no such model file {request.path_params['name']!r}")
        return Response(entry[0], media_type=entry[1])

    async def ort_file(request: Request) -> Response:
        entry = ort_files().get(request.path_params["name"])
        if entry is None:
            return _error(404, f"no such runtime file {request.path_params['name']!r}")
        return Response(entry[0], media_type=entry[1])

    async def health(request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "model": speech2au.source,
                "backend": speech2au.backend,
                "sample_rate": speech2au.fs,
                "au_fps": speech2au.au_fps,
                "au_names": list(AU_NAMES),
                "au_facs_names": {name: AU_FACS_NAMES[name] for name in AU_NAMES},
                "arkit_names": list(ARKIT_NAMES),
                "target": target,
                "lookahead_ms": round(lookahead * 1000, 3),
                "streams": slots.active,
                "max_streams": slots.max_streams,
                "render": finder is not None,
                "default_image": default_photo is not None,
                "max_upload_bytes": max_upload_bytes,
                "max_audio_seconds": max_audio_seconds,
                "page_model": page_files is not None,
                "page_model_note": no_page_model,
            }
        )

    async def default_image(request: Request) -> Response:
        if default_jpeg is None:
            return _error(404, "the server has no default photo (start it with --image)")
        return Response(default_jpeg, media_type="image/jpeg")

    async def upload_image(request: Request) -> Response:
        if finder is None:
            return no_faces()
        files = await _form_files(request, ("image",))
        if isinstance(files, Response):
            return files
        try:
            photo = await run_in_threadpool(
                lambda: Photo(fit(decode_upload(files["image"]), LIVE_MAX_SIDE), finder)
            )
        except CauseError as e:
            return _error(422, str(e))
        height, width = photo.image.shape[:2]
        return JSONResponse({"image": photos.add(photo), "width": width, "height": height})

    async def infer(request: Request) -> Response:
        fmt = request.query_params.get("format", "json")
        if fmt not in ("json", "csv"):
            return _error(400, f"unknown format {fmt!r}; use format=json or format=csv")
        files = await _form_files(request, ("audio",))
        if isinstance(files, Response):
            return files
        try:
            samples, rate = decode_audio(files["audio"], max_audio_seconds)
            values = await run_in_threadpool(speech2au, samples, rate, "audio")
        except CauseError as e:
            return _error(422, str(e))
        aus, arkit = au_and_arkit(values, target)
        if fmt == "csv":
            from espnet_cause.io.openface import openface_csv_text
            from espnet_cause.io.track import AUTrack

            track = AUTrack.from_array(aus, speech2au.au_fps, source="audio")
            return PlainTextResponse(openface_csv_text(track), media_type="text/csv")
        return JSONResponse(
            {
                "au_fps": speech2au.au_fps,
                "num_frames": len(aus),
                "au_names": list(AU_NAMES),
                "au": np.round(aus.astype(np.float64), protocol.DECIMALS).tolist(),
                "arkit_names": list(ARKIT_NAMES),
                "arkit": np.round(arkit.astype(np.float64), protocol.DECIMALS).tolist(),
            }
        )

    def render_mp4(image_data: bytes, audio_data: bytes) -> bytes:
        from espnet_cause.render.mp4 import write_mp4
        from espnet_cause.render.warp import WarpRenderer

        photo_image = fit(decode_upload(image_data), RENDER_MAX_SIDE)
        face = finder.find(photo_image, "image")
        samples, rate = decode_audio(audio_data, max_audio_seconds)
        aus = au_and_arkit(speech2au(samples, rate, "audio"), target)[0]
        fps = speech2au.au_fps
        num_frames = max(1, round(len(samples) / rate * fps))
        aus = np.concatenate([aus, np.repeat(aus[-1:], max(0, num_frames - len(aus)), 0)])
        renderer = WarpRenderer(finder.path)
        renderer.prepare(photo_image, face=face, source="image")
        frames = renderer.render(photo_image, aus[:num_frames])
        with tempfile.TemporaryDirectory(prefix="espnet-cause-render-") as tmp:
            out = Path(tmp) / "take.mp4"  # the server's own name, never the client's
            write_mp4(out, frames, fps, audio=samples, sample_rate=rate)
            return out.read_bytes()

    async def render(request: Request) -> Response:
        if finder is None:
            return no_faces()
        if render_slots.locked():
            return _error(
                503, f"the server is rendering {render_jobs} take(s) already; try again shortly"
            )
        async with render_slots:
            files = await _form_files(request, ("image", "audio"))
            if isinstance(files, Response):
                return files
            try:
                mp4 = await run_in_threadpool(render_mp4, files["image"], files["audio"])
            except CauseError as e:
                return _error(422, str(e))
        return Response(
            mp4,
            media_type="video/mp4",
            headers={"Content-Disposition": 'attachment; filename="espnet-cause-take.mp4"'},
        )

    async def stream(websocket: WebSocket) -> None:
        await websocket.accept()
        if not slots.acquire():
            await websocket.send_text(
                protocol.error_message(
                    f"server busy: all {slots.max_streams} streams are in use; try again later"
                )
            )
            await websocket.close(protocol.CLOSE_BUSY)
            return
        try:
            session = StreamSession(
                speech2au=speech2au,
                find_photo=find_photo,
                executor=executor,
                max_seconds=max_audio_seconds,
                queue_size=queue_size,
                max_message_bytes=max_message_bytes,
                idle_seconds=idle_seconds,
            )
            await session.run(websocket)
        finally:
            slots.release()

    async def too_large(request: Request, exc: limits.BodyTooLarge) -> Response:
        return _error(413, limits.too_large_message(exc.limit))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        executor.shutdown(wait=False, cancel_futures=True)
        if finder is not None:
            finder.close()  # MediaPipe cannot close its graph at interpreter exit

    app = Starlette(
        lifespan=lifespan,
        routes=[
            Route("/", index),
            Route("/static/{name}", static_file),
            Route("/static/ort/{name}", ort_file),
            Route("/model/{name}", model_file),
            Route("/health", health),
            Route("/image/default", default_image),
            Route("/image", upload_image, methods=["POST"]),
            Route("/infer", infer, methods=["POST"]),
            Route("/render", render, methods=["POST"]),
            WebSocketRoute("/stream", stream),
        ],
        middleware=[Middleware(limits.BodySizeLimit, max_bytes=max_upload_bytes)],
        exception_handlers={limits.BodyTooLarge: too_large},
    )
    app.state.slots = slots
    app.state.photos = photos
    return app
