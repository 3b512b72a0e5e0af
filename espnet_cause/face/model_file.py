"""The MediaPipe Face Landmarker model file: where it comes from, in one place.

The model is the official float16 v1 ``face_landmarker.task`` (Apache-2.0); it ships with the
package (:mod:`espnet_cause.assets`), so nothing is needed. :func:`resolve_face_landmarker` picks,
in order: an explicit path (``--face_landmarker_path``), a model in the cache directory
(:func:`espnet_cause.io.cache.cache_dir`), the official file fetched there once when the user
asks for it (``--download``, checked against its published sha256), else the packaged file.
"""

from __future__ import annotations

import logging
import os
import urllib.request
from pathlib import Path

from espnet_cause import assets
from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.cache import cache_dir, sha256_file

logger = logging.getLogger(__name__)

#: File name of the model in the cache directory.
MODEL_FILENAME = "face_landmarker.task"
#: Official location of the float16 v1 Face Landmarker model.
MODEL_URL = (
    "https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/"
    "float16/1/face_landmarker.task"
)
#: sha256 of the official float16 v1 model file.
MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"


def resolve_face_landmarker(
    path: str | os.PathLike | None = None,
    *,
    download: bool = False,
    cache: str | os.PathLike | None = None,
) -> Path:
    """Find the Face Landmarker model file: the one place every face-tracking call asks.

    Order: ``path`` if given; else a model in the cache; else, with ``download``, the official
    file fetched into the cache; else the model that ships with the package.

    Args:
        path: An explicit model path (used as is; it must exist).
        download: When no path is given and the cache has no model, fetch the official file
            into the cache (once) and check its sha256.
        cache: Cache directory (default :func:`cache_dir`).

    Returns:
        The model file.

    Raises:
        CauseError: if an explicit path does not exist, or the download fails or does not match
            the published checksum.
    """
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise CauseError(
                "face landmarker model not found", path=path, fix=how_to_get(cache_dir())
            )
        return path
    cached = Path(cache or cache_dir()) / MODEL_FILENAME
    if cached.is_file():
        return cached
    if download:
        return fetch_face_landmarker(cached)

    return assets.face_landmarker()


def how_to_get(cache: Path) -> str:
    """The fix to print when no usable model file is found."""
    return (
        "pass an existing --face_landmarker_path FILE, or leave it out to use the model that ships "
        f"with espnet-cause (or add --download to fetch the official one into {cache}; "
        f"{MODEL_URL}, sha256 {MODEL_SHA256})"
    )


def fetch_face_landmarker(target: str | os.PathLike, url: str = MODEL_URL) -> Path:
    """Download the model to ``target`` (atomically) and verify its sha256."""
    target = Path(target)
    logger.info("downloading %s -> %s", url, target)
    with atomic_write(target) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
                while block := response.read(1 << 20):
                    out.write(block)
        except OSError as e:
            raise CauseError(
                f"download of {url} failed: {e}", path=target, fix=how_to_get(target.parent)
            ) from None
        digest = sha256_file(tmp)
        if digest != MODEL_SHA256:
            raise CauseError(
                f"downloaded model has sha256 {digest}, expected {MODEL_SHA256}",
                path=target,
                fix=how_to_get(target.parent),
            )
    return target
