"""Face photos for the service: decoded from uploads, checked for a face, warp-ready, by id.

An upload becomes a :class:`Photo`: the decoded RGB image (scaled down to at most
:data:`LIVE_MAX_SIDE` pixels for the live stream), its face, and a prepared
:class:`~espnet_cause.render.warp.WarpRenderer`, so that each live frame is one warp and one
JPEG encoding. :class:`PhotoStore` keeps the newest :data:`MAX_PHOTOS` under random ids; ids
are only dictionary keys, never file names.
"""

from __future__ import annotations

import io
import logging
import secrets
import threading
import warnings
from collections import OrderedDict

import numpy as np

from espnet_cause.au import NUM_AUS
from espnet_cause.errors import CauseError
from espnet_cause.face.landmarker import FaceLandmarker, find_face
from espnet_cause.io.image import decode_image
from espnet_cause.render.photo import MAX_IMAGE_PIXELS
from espnet_cause.render.warp import WarpRenderer

logger = logging.getLogger(__name__)

#: Longest side of the photo the live stream renders (pixels); larger uploads are scaled down.
LIVE_MAX_SIDE = 480
#: Longest side of the photo ``POST /render`` renders into the mp4 (pixels).
RENDER_MAX_SIDE = 1280
#: Photos kept for streams (the oldest is dropped past this).
MAX_PHOTOS = 16
#: JPEG quality of live frames.
JPEG_QUALITY = 80


def decode_upload(data: bytes, name: str = "image") -> np.ndarray:
    """An uploaded photo (JPEG, PNG, BMP, TIFF, WebP) -> (H, W, 3) uint8 RGB.

    Raises:
        CauseError: when it is empty, not an image, or larger than ``render``'s limit,
            :data:`~espnet_cause.render.photo.MAX_IMAGE_PIXELS`.
    """
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise CauseError(f"{name} is empty", fix="upload a JPEG or PNG photo")
    too_big = f"{name} has more than {MAX_IMAGE_PIXELS // 1_000_000} megapixels"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused below
            width, height = Image.open(io.BytesIO(data)).size  # reads the header only
    except Image.DecompressionBombError as e:  # past PIL's own limit, far past ours
        raise CauseError(f"{too_big} ({e})", fix="upload a smaller photo") from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise CauseError(
            f"{name} is not an image (JPEG, PNG, BMP, TIFF or WebP)", fix="upload a photo"
        ) from None
    if width * height > MAX_IMAGE_PIXELS:
        raise CauseError(
            f"{name} has {width}x{height} pixels, more than {MAX_IMAGE_PIXELS // 1_000_000} megapixels",
            fix="upload a smaller photo",
        )
    return decode_image(data, name)


def fit(image: np.ndarray, max_side: int) -> np.ndarray:
    """Scale an image down (never up) so that its longer side is at most ``max_side``."""
    import cv2

    height, width = image.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


class FaceFinder:
    """One MediaPipe face landmarker shared by the request threads (it is not thread-safe).

    Args:
        face_landmarker_path: The ``face_landmarker.task`` model file.
    """

    def __init__(self, face_landmarker_path) -> None:

        self.path = face_landmarker_path
        self._landmarker = FaceLandmarker(face_landmarker_path)
        self._lock = threading.Lock()

    def find(self, image: np.ndarray, name: str = "image"):
        """The largest face of an RGB image; CauseError naming ``name`` when there is none."""

        with self._lock:
            return find_face(self._landmarker, image, 0, source=name)

    def close(self) -> None:
        self._landmarker.close()


class Photo:
    """A face photo ready to be animated frame by frame.

    Args:
        image: (H, W, 3) uint8 RGB photo, already at its live size.
        finder: Finds the face.
        name: How to call the photo in messages.
    """

    def __init__(self, image: np.ndarray, finder: FaceFinder, name: str = "image") -> None:

        self.image = image
        face = finder.find(image, name)
        self.renderer = WarpRenderer(finder.path)
        self.renderer.prepare(image, face=face, source=name)

    def frame(self, aus: np.ndarray) -> np.ndarray:
        """(17,) AU intensities -> (H, W, 3) uint8 RGB frame (thread-safe)."""
        return self.renderer.frame(np.asarray(aus, np.float32).reshape(NUM_AUS))

    def jpeg(self, aus: np.ndarray) -> bytes:
        """The frame for ``aus`` as JPEG bytes."""
        import cv2

        bgr = cv2.cvtColor(self.frame(aus), cv2.COLOR_RGB2BGR)
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        return buf.tobytes()


class PhotoStore:
    """Photos by id, newest :data:`MAX_PHOTOS` kept (thread-safe)."""

    def __init__(self, max_photos: int = MAX_PHOTOS) -> None:
        self.max_photos = max_photos
        self._photos: OrderedDict[str, Photo] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, photo: Photo, photo_id: str | None = None) -> str:
        """Keep ``photo``; return its id (a fresh random one unless given)."""
        photo_id = photo_id or secrets.token_urlsafe(12)
        with self._lock:
            self._photos[photo_id] = photo
            self._photos.move_to_end(photo_id)
            while len(self._photos) > self.max_photos:
                self._photos.popitem(last=False)
        return photo_id

    def get(self, photo_id: str) -> Photo | None:
        with self._lock:
            return self._photos.get(photo_id)

    def __len__(self) -> int:
        return len(self._photos)
