"""Find a face in a still photo: MediaPipe FaceLandmarker (IMAGE mode), face choice and 128 px crop.

Landmarks are the 478 points of the MediaPipe face mesh (468 mesh points + 10 iris points) in
pixel coordinates of the original photo.
"""

from __future__ import annotations

import logging
import os
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from espnet_cause.errors import CauseError

#: Number of landmarks the MediaPipe face landmarker returns per face.
NUM_LANDMARKS = 478
#: Longest image side given to the detector; larger photos are downscaled for detection only.
MAX_DETECT_SIDE = 1024
#: Most faces the detector looks for in one photo.
MAX_FACES = 8
#: Side of the aligned face crop that the GANimation generator works on (pixels).
CROP_SIZE = 128
#: Where the eye centres sit in the aligned crop, as fractions of its side: (x_left, x_right, y).
CROP_EYES = (0.335, 0.665, 0.40)

#: Landmark indices of the eye corners (outer, inner) in the MediaPipe face mesh, used for the
#: eye centres: the subject's right eye is on the image left.
RIGHT_EYE_CORNERS = (33, 133)
LEFT_EYE_CORNERS = (263, 362)

logger = logging.getLogger(__name__)


def to_rgb(image: np.ndarray, source: str = "") -> np.ndarray:
    """Convert a grayscale, gray+alpha, RGB or RGBA image (uint8 or uint16) to RGB uint8.

    Transparent pixels are composited over white.

    Args:
        image: (H, W), (H, W, 1), (H, W, 2), (H, W, 3) or (H, W, 4) array.
        source: Where the image came from, for error messages.

    Returns:
        (H, W, 3) uint8 contiguous RGB array.
    """
    image = np.asarray(image)
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        if np.issubdtype(image.dtype, np.floating) and image.size and image.max() <= 1.0:
            image = image * 255.0
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 2, 3, 4) or min(image.shape[:2]) < 1:
        raise CauseError(
            f"image has shape {image.shape}, expected (H, W) gray or (H, W, 3|4) colour",
            path=source or None,
            fix="give a grayscale, RGB or RGBA photo",
        )
    channels = image.shape[2]
    if channels in (2, 4):
        alpha = image[:, :, -1:].astype(np.float32) / 255.0
        color = image[:, :, :-1].astype(np.float32)
        image = (color * alpha + 255.0 * (1.0 - alpha) + 0.5).astype(np.uint8)
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image)


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Read a photo as RGB uint8 (grayscale and alpha converted).

    Raises:
        CauseError: if the file is missing or not an image.
    """
    import cv2

    path = Path(path)
    if not path.is_file():
        raise CauseError("image file not found", path=path, fix="check the --image path")
    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if data is None:
        raise CauseError(
            "cannot read the image (not a JPEG/PNG/BMP/TIFF/WebP file?)",
            path=path,
            fix="convert the photo to JPEG or PNG",
        )
    if data.ndim == 3 and data.shape[2] == 3:
        data = cv2.cvtColor(data, cv2.COLOR_BGR2RGB)
    elif data.ndim == 3 and data.shape[2] == 4:
        data = cv2.cvtColor(data, cv2.COLOR_BGRA2RGBA)
    return to_rgb(data, source=str(path))


@dataclass
class Face:
    """One detected face.

    Attributes:
        landmarks: (478, 3) float32; x, y in pixels of the photo, z in the same pixel scale
            (relative depth, negative towards the camera).
    """

    landmarks: np.ndarray

    @property
    def points(self) -> np.ndarray:
        """(478, 2) float32 x, y pixel coordinates."""
        return self.landmarks[:, :2]

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) bounding box of the landmarks in pixels."""
        p = self.points
        return (
            float(p[:, 0].min()),
            float(p[:, 1].min()),
            float(p[:, 0].max()),
            float(p[:, 1].max()),
        )

    @property
    def area(self) -> float:
        """Area of the landmark bounding box in pixels."""
        x0, y0, x1, y1 = self.bbox
        return (x1 - x0) * (y1 - y0)

    def eye_centers(self) -> tuple[np.ndarray, np.ndarray]:
        """Centres of the eye on the image left and on the image right, each (2,) pixels."""
        p = self.points
        a = p[list(RIGHT_EYE_CORNERS)].mean(axis=0)
        b = p[list(LEFT_EYE_CORNERS)].mean(axis=0)
        return (a, b) if a[0] <= b[0] else (b, a)


class FaceLandmarker:
    """MediaPipe Tasks FaceLandmarker in IMAGE mode.

    Args:
        model_path: Path to the ``face_landmarker.task`` model file (None: the one
            :func:`espnet_cause.extract.mediapipe.resolve_face_landmarker` finds, normally the
            packaged model).
        max_faces: Most faces to return per photo.
        max_detect_side: Photos whose longer side is above this are downscaled for detection
            (landmarks are returned in the original pixel coordinates).
        min_confidence: Face detection and presence confidence threshold.
    """

    def __init__(
        self,
        model_path: str | os.PathLike | None = None,
        max_faces: int = MAX_FACES,
        max_detect_side: int = MAX_DETECT_SIDE,
        min_confidence: float = 0.5,
    ) -> None:
        from espnet_cause.extract.mediapipe import resolve_face_landmarker

        model_path = resolve_face_landmarker(model_path)
        from mediapipe.tasks.python import BaseOptions, vision

        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)),
            running_mode=vision.RunningMode.IMAGE,
            num_faces=max_faces,
            min_face_detection_confidence=min_confidence,
            min_face_presence_confidence=min_confidence,
        )
        try:
            self._landmarker = vision.FaceLandmarker.create_from_options(options)
            _OPEN.add(self)
        except (RuntimeError, ValueError) as e:
            raise CauseError(
                f"cannot load the face landmarker model: {e}",
                path=model_path,
                fix="use the official MediaPipe face_landmarker.task file",
            ) from None
        self.max_detect_side = max_detect_side

    def detect(self, image: np.ndarray) -> list[Face]:
        """All faces in a photo, largest first.

        Args:
            image: (H, W, 3) uint8 RGB (other layouts are converted with :func:`to_rgb`).

        Returns:
            Faces sorted by landmark bounding-box area, largest first (empty if none).
        """
        import cv2
        import mediapipe as mp

        image = to_rgb(image)
        height, width = image.shape[:2]
        scale = min(1.0, self.max_detect_side / max(height, width))
        small = image
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            logger.info("image %dx%d downscaled to %dx%d for face detection", width, height, *size)
        sh, sw = small.shape[:2]
        result = self._landmarker.detect(
            mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(small))
        )
        faces = []
        for marks in result.face_landmarks:
            arr = np.array([(m.x, m.y, m.z) for m in marks], dtype=np.float32)
            # normalised -> original pixels (z uses the x scale, as MediaPipe defines it)
            arr[:, 0] *= sw / scale
            arr[:, 1] *= sh / scale
            arr[:, 2] *= sw / scale
            faces.append(Face(arr))
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces

    def close(self) -> None:
        """Release the MediaPipe graph."""
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def __enter__(self) -> FaceLandmarker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


#: Landmarkers with an open MediaPipe graph, for :func:`close_all`.
_OPEN: weakref.WeakSet = weakref.WeakSet()


def close_all() -> None:
    """Close every open landmarker of this process (MediaPipe cannot close at interpreter exit)."""
    for landmarker in list(_OPEN):
        landmarker.close()


def find_face(
    landmarker: FaceLandmarker, image: np.ndarray, face_index: int = 0, source: str = ""
) -> Face:
    """The face to animate: the ``face_index``-th largest face in the photo.

    Raises:
        CauseError: if there is no face, or fewer than ``face_index + 1`` faces.
    """
    faces = landmarker.detect(image)
    if not faces:
        raise CauseError(
            "no face found in the image",
            path=source or None,
            fix="use a photo with a clearly visible, roughly frontal face",
        )
    if not 0 <= face_index < len(faces):
        raise CauseError(
            f"--face_index {face_index} asked for, but the image has {len(faces)} face(s)",
            path=source or None,
            fix=f"use --face_index between 0 and {len(faces) - 1} (0 is the largest face)",
        )
    if len(faces) > 1:
        logger.info(
            "%s: %d faces found, using face %d (faces are ordered largest first)",
            source or "image",
            len(faces),
            face_index,
        )
    return faces[face_index]


def alignment_matrix(face: Face, size: int = CROP_SIZE) -> np.ndarray:
    """Similarity transform from photo pixels to the aligned ``size`` x ``size`` crop.

    The eye centres go to :data:`CROP_EYES` (roll removed, scale fixed by the eye distance).

    Returns:
        (2, 3) float64 affine matrix (for ``cv2.warpAffine``).
    """
    left, right = face.eye_centers()
    dst_left = np.array([CROP_EYES[0] * size, CROP_EYES[2] * size])
    dst_right = np.array([CROP_EYES[1] * size, CROP_EYES[2] * size])
    src_vec = right - left
    dst_vec = dst_right - dst_left
    scale = np.linalg.norm(dst_vec) / max(np.linalg.norm(src_vec), 1e-6)
    angle = np.arctan2(src_vec[1], src_vec[0]) - np.arctan2(dst_vec[1], dst_vec[0])
    cos, sin = scale * np.cos(-angle), scale * np.sin(-angle)
    rot = np.array([[cos, -sin], [sin, cos]])
    src_mid = (left + right) / 2.0
    dst_mid = (dst_left + dst_right) / 2.0
    shift = dst_mid - rot @ src_mid
    return np.hstack([rot, shift[:, None]])


def align_crop(
    image: np.ndarray, face: Face, size: int = CROP_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """Cut the aligned face crop out of the photo.

    Args:
        image: (H, W, 3) uint8 RGB photo.
        face: The face to crop.
        size: Side of the square crop in pixels.

    Returns:
        (crop (size, size, 3) uint8, matrix (2, 3) photo -> crop).
    """
    import cv2

    matrix = alignment_matrix(face, size)
    crop = cv2.warpAffine(
        image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return crop, matrix
