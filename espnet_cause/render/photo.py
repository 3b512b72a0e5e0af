"""The photo a renderer animates, read once: the image, its faces, the chosen face and its own AUs.

:func:`read_face_photo` decodes the photo (its size is checked from the header first, against
:data:`MAX_IMAGE_PIXELS`), runs the MediaPipe face landmarker with blendshapes and keeps, for
the face asked for, its 478 landmarks and the AUs the built-in tracker reads on it (the same
blendshape table and AU25 lip-gap rule as :class:`~espnet_cause.extract.mediapipe.MediaPipeAUExtractor`;
on a still photo the tracker's VIDEO-mode read and this IMAGE-mode read give the same numbers).
The faces are found on the whole photo (downscaled when it is larger than the detector's input,
:data:`~espnet_cause.face.landmarker.MAX_DETECT_SIDE`); the chosen face is then read again on a
canonical view of it: a square :data:`READ_CROP` times its landmark box's longer side, centred on
it and scaled to :data:`READ_SIDE` pixels, averaged over a few views (:data:`READ_VIEWS`). Its
AUs come from these views, so the same face cut from a photo with more or less margin reads the
same AUs (on the whole photo the landmarker's AUs move with the framing by up to 1.8 units); its
landmarks too when the photo was downscaled for detection, so a small face in a large group photo
keeps its detail. A photo the detector takes whole keeps the landmarks of the whole-photo read:
the renderer was tuned on those, and the views' mean landmarks lowered the dev photos' closed
loop (mean r 0.778 -> 0.774, two of 25 below the target).

Faces are numbered largest first (landmark bounding-box area), equal sizes left to right:
``face_index`` 0 is the largest face.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import cv2
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
#: Side of the canonical view a face is read on, as a multiple of its landmark box's longer side.
READ_CROP = 2.0
#: The canonical view's side in pixels: the face spans about half of it, 256 px, the landmark
#: mesh's own input size. 256 and 512 gave the same spread (dev frames padded 1.5x and 2x).
READ_SIDE = 512
#: The views averaged, as (shift right, shift down, zoom) of the view around the face, shifts
#: in landmark-box sides. The landmarker's AUs move by up to 0.6 units when the view moves by a
#: pixel or two; the mean over these seven views moves by at most 0.07 between dev frames cut
#: with 1x, 1.5x and 2x the margin (one view: 0.31).
READ_VIEWS = (
    (0.0, 0.0, 1.0),
    (0.03, 0.0, 1.0),
    (-0.03, 0.0, 1.0),
    (0.0, 0.03, 1.0),
    (0.0, -0.03, 1.0),
    (0.0, 0.0, 1.06),
    (0.0, 0.0, 0.94),
)


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
    """Read a photo, find its faces and read the chosen one's AUs (MediaPipe runs on the whole
    photo, then on :data:`READ_VIEWS` views of the chosen face).

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
        face = read_canonical(landmarker, pixels, pick_face(faces, face_index, source))
    finally:
        if own:
            landmarker.close()
    if face.blendshapes is None:
        raise ValueError("read_face_photo needs a landmarker made with blendshapes=True")
    aus = face_aus(face)
    others = tuple(f for i, f in enumerate(faces) if i != face_index)
    return FacePhoto(pixels, face, aus, others, source)


def read_canonical(landmarker: FaceLandmarker, image: np.ndarray, face: Face) -> Face:
    """The face read again on canonical views of it, so its AUs do not depend on the framing.

    One view centred on the face as found on the whole photo places it; the blendshape scores
    are then the mean over :data:`READ_VIEWS` around that placement, and so are the landmarks
    when the photo is larger than the detector's input (else the whole-photo read's are kept).

    Args:
        landmarker: The landmarker (blendshapes as the caller needs them).
        image: (H, W, 3) uint8 RGB photo.
        face: The face found on the whole photo (landmarks in photo pixels).

    Returns:
        The face (landmarks x, y and z in photo pixels); ``face`` itself when no view shows it.
    """
    placed = _read_view(landmarker, image, face.bbox)
    if placed is None:
        return face
    x0, y0, x1, y1 = placed.bbox
    side = max(x1 - x0, y1 - y0)
    reads = []
    for right, down, zoom in READ_VIEWS:
        cx, cy = 0.5 * (x0 + x1) + right * side, 0.5 * (y0 + y1) + down * side
        half = 0.5 * side * zoom
        read = _read_view(landmarker, image, (cx - half, cy - half, cx + half, cy + half))
        if read is not None:
            reads.append(read)
    reads = reads or [placed]
    landmarks = face.landmarks
    if max(image.shape[:2]) > landmarker.max_detect_side:  # found downscaled: full-size views'
        landmarks = np.mean([r.landmarks for r in reads], axis=0).astype(np.float32)
    if placed.blendshapes is None:
        return Face(landmarks)
    shapes = np.mean([r.blendshapes for r in reads], axis=0).astype(np.float32)
    return Face(landmarks, shapes, placed.blendshape_names)


def _read_view(
    landmarker: FaceLandmarker, image: np.ndarray, box: tuple[float, float, float, float]
) -> Face | None:
    """The face read on one view: a :data:`READ_SIDE` square, :data:`READ_CROP` times the box's
    longer side, centred on the box (past the photo's border its last pixels repeat).

    Args:
        landmarker: The landmarker.
        image: (H, W, 3) uint8 RGB photo.
        box: (x0, y0, x1, y1) the face's box in photo pixels.

    Returns:
        The face nearest the view's centre, landmarks in photo pixels; None if it shows none.
    """
    x0, y0, x1, y1 = box
    centre = np.array([0.5 * (x0 + x1), 0.5 * (y0 + y1)], np.float32)
    scale = READ_SIDE / max(READ_CROP * max(x1 - x0, y1 - y0), 1.0)
    source, start, stretch = image, np.zeros(2, np.float32), scale
    if scale < 1.0:  # shrink the part the view shows first (area averaging, no aliasing)
        height, width = image.shape[:2]
        half = 0.5 * READ_SIDE / scale
        left, top = (max(0, int(v - half)) for v in centre)
        right, bottom = (
            min(width, int(centre[0] + half) + 1),
            min(height, int(centre[1] + half) + 1),
        )
        region = image[top:bottom, left:right]
        source = cv2.resize(region, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        start, stretch = np.array([left, top], np.float32), 1.0
    # photo pixel p shows at view pixel (p - start) * scale - shift
    shift = (centre - start) * scale - 0.5 * READ_SIDE
    to_view = np.array([[stretch, 0.0, -shift[0]], [0.0, stretch, -shift[1]]], np.float32)
    view = cv2.warpAffine(
        source,
        to_view,
        (READ_SIDE, READ_SIDE),
        flags=cv2.INTER_CUBIC if scale > 1.0 else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    found = landmarker.detect(view)
    if not found:
        return None
    # the one nearest the view's centre (others may show at its edge)
    best = min(found, key=lambda f: float(np.linalg.norm(f.points.mean(0) - 0.5 * READ_SIDE)))
    landmarks = best.landmarks.copy()
    landmarks[:, :2] = (landmarks[:, :2] + shift) / scale + start
    landmarks[:, 2] /= scale
    return Face(landmarks, best.blendshapes, best.blendshape_names)
