"""The one MediaPipe Face Landmarker wrapper: faces in photos and video frames, face choice.

Landmarks are the 478 points of the MediaPipe face mesh (468 mesh points + 10 iris points); for
photos they are in pixel coordinates of the original photo.
"""

from __future__ import annotations

import logging
import os
import weakref
from dataclasses import dataclass

import numpy as np

from espnet_cause.errors import CauseError
from espnet_cause.face.model_file import how_to_get, resolve_face_landmarker
from espnet_cause.io.image import to_rgb

#: Number of landmarks the MediaPipe face landmarker returns per face.
NUM_LANDMARKS = 478
#: Longest image side given to the detector; larger photos are downscaled for detection only.
MAX_DETECT_SIDE = 1024
#: Most faces the detector looks for in one photo.
MAX_FACES = 8

#: Landmark indices of the eye corners (outer, inner) in the MediaPipe face mesh, used for the
#: eye centres: the subject's right eye is on the image left.
RIGHT_EYE_CORNERS = (33, 133)
LEFT_EYE_CORNERS = (263, 362)

logger = logging.getLogger(__name__)


@dataclass
class Face:
    """One detected face.

    Attributes:
        landmarks: (478, 3) float32; x, y in pixels of the photo, z in the same pixel scale
            (relative depth, negative towards the camera).
        blendshapes: (B,) float32 blendshape scores of this face (a landmarker made with
            ``blendshapes=True``), else None.
        blendshape_names: Their B MediaPipe category names.
    """

    landmarks: np.ndarray
    blendshapes: np.ndarray | None = None
    blendshape_names: tuple[str, ...] | None = None

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
    """The one wrapper of MediaPipe's Face Landmarker: photos (IMAGE mode) or video frames.

    One lifecycle for every use: the MediaPipe graph is created here, registered for
    :func:`close_all`, and released by :meth:`close` (or ``with``). Photos go through
    :meth:`detect` (faces in original pixels, largest first); video frames through
    :meth:`detect_frame` (``video=True``: MediaPipe tracks the face from frame to frame), which
    also gives the blendshape scores when ``blendshapes=True``.

    Args:
        model_path: The ``face_landmarker.task`` model file (None: the one
            :func:`espnet_cause.face.model_file.resolve_face_landmarker` finds, normally the
            packaged model).
        max_faces: Most faces to return per image.
        max_detect_side: Photos whose longer side is above this are downscaled for detection
            (landmarks are returned in the original pixel coordinates); IMAGE mode only.
        min_confidence: Face detection confidence threshold (and face presence, unless
            ``min_presence_confidence`` is given).
        min_presence_confidence: Landmark model face-presence threshold.
        min_tracking_confidence: Threshold to keep tracking instead of re-detecting (video).
        video: VIDEO running mode (timestamps in :meth:`detect_frame`) instead of IMAGE.
        blendshapes: Also compute the 52 blendshape scores per face.
        transformation_matrices: Also compute each face's 4x4 facial transformation matrix
            (canonical face -> camera; head pose, see
            :func:`espnet_cause.extract.mediapipe.head_pose_from_matrix`).
    """

    def __init__(
        self,
        model_path: str | os.PathLike | None = None,
        max_faces: int = MAX_FACES,
        max_detect_side: int = MAX_DETECT_SIDE,
        min_confidence: float = 0.5,
        *,
        min_presence_confidence: float | None = None,
        min_tracking_confidence: float = 0.5,
        video: bool = False,
        blendshapes: bool = False,
        transformation_matrices: bool = False,
    ) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        self.model_path = resolve_face_landmarker(model_path)
        self.max_detect_side = max_detect_side
        self.video = video
        self._landmarker = None
        mode = vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.model_path)),
            running_mode=mode,
            num_faces=max_faces,
            min_face_detection_confidence=min_confidence,
            min_face_presence_confidence=(
                min_confidence if min_presence_confidence is None else min_presence_confidence
            ),
            min_tracking_confidence=min_tracking_confidence,
            output_face_blendshapes=blendshapes,
            output_facial_transformation_matrixes=transformation_matrices,
        )
        try:
            self._landmarker = vision.FaceLandmarker.create_from_options(options)
        except Exception as e:  # MediaPipe raises RuntimeError/ValueError for a bad model
            raise CauseError(
                f"not a usable face landmarker model: {e}",
                path=self.model_path,
                fix=how_to_get(self.model_path.parent),
            ) from None
        _GRAPHS.add(self._landmarker)
        _OPEN.add(self)
        close_pending()  # graphs left by collected landmarkers, closed outside the collector

    def detect(self, image: np.ndarray) -> list[Face]:
        """All faces in a photo, largest first.

        Args:
            image: (H, W, 3) uint8 RGB (other layouts are converted with :func:`to_rgb`).

        Returns:
            Faces sorted by landmark bounding-box area, largest first, equal areas left to right
            (empty if none); with ``blendshapes=True`` each carries its blendshape scores.
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
        shapes = result.face_blendshapes or [None] * len(result.face_landmarks)
        for marks, categories in zip(result.face_landmarks, shapes, strict=True):
            arr = np.array([(m.x, m.y, m.z) for m in marks], dtype=np.float32)
            # normalised -> original pixels (z uses the x scale, as MediaPipe defines it)
            arr[:, 0] *= sw / scale
            arr[:, 1] *= sh / scale
            arr[:, 2] *= sw / scale
            face = Face(arr)
            if categories:
                face.blendshapes = np.array([c.score for c in categories], np.float32)
                face.blendshape_names = tuple(c.category_name for c in categories)
            faces.append(face)
        # largest first; equal sizes left to right
        faces.sort(key=lambda f: (-round(f.area, 3), f.bbox[0]))
        return faces

    def detect_frame(self, image: np.ndarray, timestamp_ms: int):
        """Run the landmarker on one video frame (``video=True``).

        Args:
            image: (H, W, 3) uint8 RGB frame.
            timestamp_ms: Strictly increasing frame time in milliseconds.

        Returns:
            MediaPipe's ``FaceLandmarkerResult`` (normalised landmarks and, with
            ``blendshapes=True``, the blendshape categories of each face).
        """
        import mediapipe as mp

        frame = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
        return self._landmarker.detect_for_video(frame, timestamp_ms)

    def close(self) -> None:
        """Release the MediaPipe graph (call it before the interpreter exits: MediaPipe's own
        clean-up fails noisily during interpreter shutdown)."""
        graph, self._landmarker = self._landmarker, None
        if graph is not None:
            _GRAPHS.discard(graph)
            graph.close()

    @property
    def closed(self) -> bool:
        return self._landmarker is None

    def __enter__(self) -> FaceLandmarker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        # A finalizer must not block: MediaPipe's close waits on its dispatcher thread, which
        # deadlocked when the garbage collector ran it inside another call (seen in the suite,
        # during a matplotlib savefig and between tests). The graph, still held by _GRAPHS (so
        # MediaPipe's own finalizer never runs in the collector either), is closed later: at the
        # next landmarker's opening or by close_all().
        graph = getattr(self, "_landmarker", None)
        if graph is not None:
            _PENDING.append(graph)
            self._landmarker = None


#: Landmarkers with an open MediaPipe graph, for :func:`close_all`.
_OPEN: weakref.WeakSet = weakref.WeakSet()


#: Every open MediaPipe graph, held strongly: a graph is only ever closed by our code (close,
#: close_pending, close_all), never by MediaPipe's ``__del__`` inside the garbage collector.
_GRAPHS: set = set()

#: MediaPipe graphs of landmarkers that were garbage-collected unclosed, for :func:`close_pending`.
_PENDING: list = []


def close_pending() -> None:
    """Close the graphs of landmarkers that were garbage-collected without :meth:`close`."""
    while _PENDING:
        graph = _PENDING.pop()
        _GRAPHS.discard(graph)
        try:
            graph.close()
        except Exception:  # noqa: BLE001 - a graph that failed to close is dropped all the same
            pass


def close_all() -> None:
    """Close every open landmarker of this process (MediaPipe cannot close at interpreter exit)."""
    for landmarker in list(_OPEN):
        landmarker.close()
    close_pending()


def largest_face(face_landmarks) -> int:
    """Index of the face whose (normalised) landmarks span the largest box in a video result."""
    if len(face_landmarks) <= 1:
        return 0
    areas = []
    for landmarks in face_landmarks:
        xs = [p.x for p in landmarks]
        ys = [p.y for p in landmarks]
        areas.append((max(xs) - min(xs)) * (max(ys) - min(ys)))
    return int(np.argmax(areas))


def find_face(
    landmarker: FaceLandmarker, image: np.ndarray, face_index: int = 0, source: str = ""
) -> Face:
    """The face to animate: the ``face_index``-th largest face in the photo (see :func:`pick_face`).

    Raises:
        CauseError: if there is no face, or fewer than ``face_index + 1`` faces.
    """
    return pick_face(landmarker.detect(image), face_index, source)


def pick_face(faces: list[Face], face_index: int = 0, source: str = "") -> Face:
    """The ``face_index``-th of the faces :meth:`FaceLandmarker.detect` found (largest first,
    equal sizes left to right).

    Raises:
        CauseError: if there is no face, or fewer than ``face_index + 1`` faces.
    """
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
            fix=f"use --face_index 0 to {len(faces) - 1} (0 is the largest face, then by size)",
        )
    if len(faces) > 1:
        logger.info(
            "%s: %d faces found, using face %d (largest first, equal sizes left to right)",
            source or "image",
            len(faces),
            face_index,
        )
    return faces[face_index]
