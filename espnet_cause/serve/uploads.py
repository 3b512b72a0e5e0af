"""What a request brings: multipart file fields and sound files; JSON error responses."""

from __future__ import annotations

import io

import numpy as np
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from espnet_cause.errors import CauseError

#: Most multipart parts read from one request (the routes take one or two files; a few more are
#: read so that the error can name them). The body size limit bounds them as well.
MAX_FORM_PARTS = 8


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
    """Read the multipart fields ``names`` (one file each) as bytes, or a JSON 400 response.

    The errors name the fields the request brought: a missing field, a field sent twice, a text
    field where a file is expected, or a body that is not valid multipart.
    """
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return error_response(400, f"send multipart/form-data with the field(s) {list(names)}")
    try:
        form = await request.form(max_files=MAX_FORM_PARTS, max_fields=MAX_FORM_PARTS)
    except HTTPException as e:  # Starlette's MultiPartException, raised as a 400
        return error_response(
            400, f"bad multipart/form-data body ({e.detail}); send the file field(s) {list(names)}"
        )
    try:
        received = [f"{key} ({'file' if not isinstance(v, str) else 'text'})"
                    for key, v in form.multi_items()]  # fmt: skip
        got = ", ".join(received) or "none"
        files = {}
        for name in names:
            fields = form.getlist(name)
            if not fields:
                return error_response(
                    400, f"multipart field {name!r} is missing (received: {got}; "
                    f"expected the file field(s) {list(names)})",
                )  # fmt: skip
            if len(fields) > 1:
                return error_response(
                    400, f"multipart field {name!r} was sent {len(fields)} times (received: "
                    f"{got}); send one file per field",
                )  # fmt: skip
            if isinstance(fields[0], str):
                return error_response(
                    400, f"multipart field {name!r} must be a file upload, not text "
                    f"(received: {got})",
                )  # fmt: skip
            files[name] = await fields[0].read()
        return files
    finally:
        await form.close()
