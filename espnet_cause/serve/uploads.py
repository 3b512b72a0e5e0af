"""What a request brings: multipart file fields and sound files; JSON error responses."""

from __future__ import annotations

import io

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from espnet_cause.errors import CauseError


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


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


async def form_files(request: Request, names: tuple[str, ...]) -> dict[str, bytes] | Response:
    """Read the multipart fields ``names`` as bytes, or an error response."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return error_response(400, f"send multipart/form-data with the field(s) {list(names)}")
    form = await request.form(max_files=len(names), max_fields=len(names))
    try:
        files = {}
        for name in names:
            field = form.get(name)
            if field is None:
                return error_response(
                    400, f"multipart field {name!r} is missing (fields: {list(names)})"
                )
            if isinstance(field, str):
                return error_response(400, f"multipart field {name!r} must be a file upload")
            files[name] = await field.read()
        return files
    finally:
        await form.close()
