"""What the page needs to run the model itself: the ONNX graphs and onnxruntime-web.

The page's in-browser mode (``static/local.js``, ``static/logmel.js``) loads the server's
streaming graphs and frontend numbers from ``GET /model/NAME`` (:data:`PAGE_FILES`) and the
WebAssembly runtime from ``GET /static/ort/NAME`` (package data, see ``static/ort/NOTICE``).
"""

from __future__ import annotations

import functools
import logging
from importlib import resources
from pathlib import Path

from espnet_cause.errors import CauseError
from espnet_cause.inference.onnx.runtime import read_graphs

logger = logging.getLogger(__name__)

#: URL name -> zip member of the files the page loads.
PAGE_FILES = {
    "frontend.json": "onnx/frontend.json",
    "stream_first.onnx": "onnx/stream_first.onnx",
    "stream.onnx": "onnx/stream.onnx",
}
#: Content types of the runtime's files, by suffix.
ORT_MEDIA_TYPES = {".mjs": "text/javascript", ".wasm": "application/wasm"}
PAGE_MEDIA_TYPES = {".json": "application/json", ".onnx": "application/octet-stream"}


def page_model_files(speech2au) -> tuple[dict[str, tuple[bytes, str]] | None, str]:
    """The files of :data:`PAGE_FILES` for the server's model, or None and why not.

    Works for either backend: the graphs come from the model zip.
    """
    graphs = getattr(getattr(speech2au, "onnx", None), "_graphs", None)
    if graphs is None:
        source = Path(str(speech2au.source))
        if source.suffix != ".zip" or not source.is_file():
            return None, "the server's model is not a packed model.zip"

        try:
            graphs = read_graphs(source)
        except CauseError as e:
            return None, e.message
    missing = [m for m in PAGE_FILES.values() if m not in graphs]
    if missing:
        return None, "the server's model has no streaming ONNX graph (not causal)"
    files = {
        name: (graphs[member], PAGE_MEDIA_TYPES[Path(name).suffix])
        for name, member in PAGE_FILES.items()
    }
    return files, ""


@functools.cache
def ort_files() -> dict[str, tuple[bytes, str]]:
    """onnxruntime-web's files from package data (read once per process)."""
    files = {}
    folder = resources.files("espnet_cause.serve").joinpath("static", "ort")
    for entry in folder.iterdir():
        suffix = Path(entry.name).suffix
        if entry.is_file() and suffix in ORT_MEDIA_TYPES:
            files[entry.name] = (entry.read_bytes(), ORT_MEDIA_TYPES[suffix])
    return files
