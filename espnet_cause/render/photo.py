"""The photo a renderer animates, read once: the image, its faces, the chosen face and its own AUs.

:func:`read_face_photo` decodes the photo (its size is checked from the header first, against
:data:`MAX_IMAGE_PIXELS`), runs the MediaPipe face landmarker once with blendshapes and keeps, for
the face asked for, its 478 landmarks and the AUs the built-in tracker reads on it (the same
blendshape table and AU25 lip-gap rule as :class:`~espnet_cause.extract.mediapipe.MediaPipeAUExtractor`;
on a still photo the tracker's VIDEO-mode read and this IMAGE-mode read give the same numbers). A photo
larger than the detector's input (:data:`~espnet_cause.face.landmarker.MAX_DETECT_SIDE`) is
detected downscaled, then the chosen face is read again on a crop around it at full resolution,
so a small face in a large group photo keeps its detail and only its own expression is read.

Faces are numbered largest first (landmark bounding-box area), equal sizes left to right:
``face_index`` 0 is the largest face.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np

from espnet_cause.arkit import blendshapes_to_aus
from espnet_cause.au import au_index
from espnet_cause.errors import CauseError
from espnet_cause.extract.lips import lip_gap, lips_part
from espnet_cause.face.landmarker import MAX_FACES, Face, FaceLandmarker, pick_face
from espnet_cause.io.image import check_image_size, load_image, to_rgb

logger = logging.getLogger(__name__)

#: Largest photo rendered, in pixels (width times height), checked from the file's header before
#: decoding. The one limit for every way a photo comes in (the render CLI, the library, serve).
MAX_IMAGE_PIXELS = 40_000_000
#: Crop around a face for its full-resolution read, as a multiple of its landmark box's longer side.
REFINE_CROP = 2.0


@dataclass(frozen=True)
class FacePhoto:
    """A photo and the face in it to animate.

    Attributes:
        image: (H, W, 3) uint8 RGB photo.
        face: The face to animate (landmarks in photo pixels).
        aus: (17,) float32 the face's own AU intensities as the built-in tracker reads them.
        others: The photo's other faces (they must stay as they are).
        source: How to name the photo in messages.
    """

    image: np.ndarray
    face: Face
    aus: np.ndarray
    others: tuple[Face, ...] = ()
    source: str = ""


def face_aus(face: Face) -> np.ndarray:
    """(17,) float32 AUs of a face detected with blendshapes, read as the tracker reads them
    (the blendshape table; AU25 from the inner-lip gap, :mod:`espnet_cause.extract.lips`)."""
    if face.blendshapes is None or face.blendshape_names is None:
        raise ValueError("the face was detected without blendshapes")
    aus = blendshapes_to_aus(face.blendshapes[None], face.blendshape_names)[0]
    aus[au_index("AU25")] = lips_part(lip_gap(face.landmarks))
    return np.clip(np.nan_to_num(aus), 0.0, None).astype(np.float32)


def check_face_index(face_index: int) -> None:
    """Raise CauseError unless ``0 <= face_index < MAX_FACES``."""
    if not (isinstance(face_index, int | np.integer) and 0 <= face_index < MAX_FACES):
        raise CauseError(
            f"--face_index must be an integer from 0 to {MAX_FACES - 1}, got {face_index}",
            fix="0 is the largest face, 1 the next largest, ...",
        )


def read_face_photo(
    image: str | os.PathLike | np.ndarray,
    face_index: int = 0,
    *,
    landmarker: FaceLandmarker | None = None,
    face_landmarker_path: str | os.PathLike | None = None,
    max_pixels: int = MAX_IMAGE_PIXELS,
    source: str = "",
) -> FacePhoto:
    """Read a photo, find its faces and read the chosen one's AUs (MediaPipe runs once, twice
    for a photo larger than the detector's input).

    Args:
        image: The photo file, or an (H, W, 3) image already decoded.
        face_index: Which face: 0 the largest, then by size (equal sizes left to right).
        landmarker: A :class:`FaceLandmarker` made with ``blendshapes=True`` (None: one is
            opened on ``face_landmarker_path`` and closed again).
        face_landmarker_path: The MediaPipe model (None: the packaged one).
        max_pixels: Refuse larger photos (before decoding a file).
        source: How to name the photo in messages (default: its path).

    Returns:
        The :class:`FacePhoto`.

    Raises:
        CauseError: for a photo too large, without a face, or with fewer faces than asked for.
    """
    check_face_index(face_index)
    if isinstance(image, str | os.PathLike):
        source = source or str(image)
        pixels = load_image(image, max_pixels=max_pixels)
    else:
        pixels = to_rgb(image, source)
        check_image_size(pixels.shape[1], pixels.shape[0], max_pixels, source or None)
    own = landmarker is None
    if own:
        landmarker = FaceLandmarker(face_landmarker_path, blendshapes=True)
    try:
        faces = landmarker.detect(pixels)
        face = pick_face(faces, face_index, source)
        if max(pixels.shape[:2]) > landmarker.max_detect_side:
            face = _refine(landmarker, pixels, face)
    finally:
        if own:
            landmarker.close()
    if face.blendshapes is None:
        raise ValueError("read_face_photo needs a landmarker made with blendshapes=True")
    aus = face_aus(face)
    others = tuple(f for i, f in enumerate(faces) if i != face_index)
    return FacePhoto(pixels, face, aus, others, source)


def _refine(landmarker: FaceLandmarker, image: np.ndarray, face: Face) -> Face:
    """The face read again on a full-resolution crop around it (at most the detector's side)."""
    height, width = image.shape[:2]
    x0, y0, x1, y1 = face.bbox
    cx, cy = 0.5 * (x0 + x1), 0.5 * (y0 + y1)
    half = 0.5 * REFINE_CROP * max(x1 - x0, y1 - y0)
    left, top = max(0, int(cx - half)), max(0, int(cy - half))
    right, bottom = min(width, int(np.ceil(cx + half))), min(height, int(np.ceil(cy + half)))
    crop = image[top:bottom, left:right]
    found = landmarker.detect(crop) if min(crop.shape[:2]) >= 32 else []
    if not found:
        return face
    # the one whose centre is nearest the face's (others may show at the crop's edge)
    offset = np.array([left, top], np.float32)
    centre = np.array([cx, cy], np.float32)
    best = min(found, key=lambda f: float(np.linalg.norm(f.points.mean(0) + offset - centre)))
    landmarks = best.landmarks.copy()
    landmarks[:, :2] += offset
    return Face(landmarks, best.blendshapes, best.blendshape_names)
