"""The built-in AU extractor: MediaPipe Face Landmarker blendshapes on frames decoded by PyAV.

The Face Landmarker runs in VIDEO mode (it tracks the face from frame to frame and only re-runs the
face detector when it loses it) with ``output_face_blendshapes=True``; the blendshape scores of
each frame are mapped to the 17 OpenFace AUs by the table in
:mod:`espnet_cause.arkit`, except AU25 (lips part), which is read off the landmarks: the
inner-lip gap over the eye distance (:mod:`espnet_cause.extract.lips`; the table's
``jawOpen - mouthClose`` followed the jaw, not the lips). Frames without a face are missing data (success 0, NaN
intensities), never zero AUs. When several faces are found, the largest is used.

The track also keeps the 51 blendshape scores themselves (``track.blendshapes``, ARKit names in
:data:`~espnet_cause.arkit.BLENDSHAPE_NAMES` order) and the head rotation
(``track.head_pose``: yaw, pitch, roll in degrees from the facial transformation matrix, see
:func:`head_pose_from_matrix`).

Decoding (PyAV, FFmpeg threads, downscaled during the RGB conversion) runs in a second thread that
feeds the landmarker through a small queue, so decode and inference overlap.

The landmarker is the one wrapper of :mod:`espnet_cause.face.landmarker` in VIDEO mode; its model
file is found by :func:`espnet_cause.face.model_file.resolve_face_landmarker` (the packaged one
unless another is given).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading

import numpy as np

from espnet_cause.arkit import BLENDSHAPE_NAMES, blendshapes_to_aus, reorder
from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.errors import CauseError
from espnet_cause.extract.lips import lip_gap, lips_part
from espnet_cause.face.landmarker import FaceLandmarker, largest_face
from espnet_cause.face.model_file import resolve_face_landmarker
from espnet_cause.io.track import AUTrack
from espnet_cause.io.video import iter_frames

logger = logging.getLogger(__name__)

#: Frames are downscaled so their longer side is at most this many pixels before detection (the
#: landmark model sees a 256x256 face crop; 640 keeps small faces above that size).
DEFAULT_MAX_SIDE = 640
#: Faces the landmarker looks for; the largest is kept.
DEFAULT_NUM_FACES = 2
#: MediaPipe's thresholds (its defaults).
DEFAULT_MIN_DETECTION_CONFIDENCE = 0.5
DEFAULT_MIN_PRESENCE_CONFIDENCE = 0.5
DEFAULT_MIN_TRACKING_CONFIDENCE = 0.5
#: Decoded frames buffered between the decode thread and the landmarker.
QUEUE_FRAMES = 16
#: MediaPipe wants strictly increasing integer millisecond timestamps.
MS_PER_S = 1000.0
#: Between videos the landmarker's clock jumps by this much (ms), around a blank reset frame.
RESET_GAP_MS = 1000
RESET_FRAME_SIZE = 64
_END = object()
#: Frames a still photo is shown to the tracker by :meth:`MediaPipeAUExtractor.read_photo`.
PHOTO_FRAMES = 3


class MediaPipeAUExtractor:
    """Video file -> AU track with MediaPipe's Face Landmarker.

    Build one per process and call it on many videos: one landmarker is created (about 70 ms)
    and reused. Its VIDEO-mode clock keeps running across videos, and before each new video it
    is shown a blank frame so that it drops the face it was tracking: results do not depend on
    the video before (a test checks this).

    Args:
        face_landmarker_path: The ``face_landmarker.task`` model file (None: the one
            :func:`resolve_face_landmarker` finds, normally the packaged model).
        max_side: Downscale frames to this longer side before detection (None: full size).
        num_faces: Faces to look for per frame; the largest is kept.
        min_face_detection_confidence: Face detector threshold.
        min_face_presence_confidence: Landmark model face-presence threshold.
        min_tracking_confidence: Threshold to keep tracking instead of re-detecting.
        threaded: Decode in a second thread, overlapping with inference.
        max_fps: Track at most this many frames per second of video (one per ``1 / max_fps``
            bin; the recipe passes its AU rate, so a 30 fps video costs 25 landmarker calls per
            second for 25 fps labels). None tracks every frame.

    Example:
        >>> extractor = MediaPipeAUExtractor(face_landmarker_path="face_landmarker.task")
        >>> track = extractor("video.mp4")  # AUTrack, (T, 17) at the video's frame times
    """

    def __init__(
        self,
        face_landmarker_path: str | os.PathLike | None = None,
        *,
        max_side: int | None = DEFAULT_MAX_SIDE,
        num_faces: int = DEFAULT_NUM_FACES,
        min_face_detection_confidence: float = DEFAULT_MIN_DETECTION_CONFIDENCE,
        min_face_presence_confidence: float = DEFAULT_MIN_PRESENCE_CONFIDENCE,
        min_tracking_confidence: float = DEFAULT_MIN_TRACKING_CONFIDENCE,
        threaded: bool = True,
        max_fps: float | None = None,
    ) -> None:
        self.model_path = resolve_face_landmarker(face_landmarker_path)
        self.max_side = max_side
        self.num_faces = num_faces
        self.min_face_detection_confidence = min_face_detection_confidence
        self.min_face_presence_confidence = min_face_presence_confidence
        self.min_tracking_confidence = min_tracking_confidence
        self.threaded = threaded
        self.max_fps = max_fps
        self._landmarker = None
        self._clock_ms = 0
        self._open()  # fails early on a file that is not a model

    def close(self) -> None:
        """Release the landmarker (or use ``with``, or :func:`close_all`)."""
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def __enter__(self) -> MediaPipeAUExtractor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _open(self) -> FaceLandmarker:
        self._landmarker = FaceLandmarker(
            self.model_path,
            max_faces=self.num_faces,
            min_confidence=self.min_face_detection_confidence,
            min_presence_confidence=self.min_face_presence_confidence,
            min_tracking_confidence=self.min_tracking_confidence,
            video=True,
            blendshapes=True,
            transformation_matrices=True,
        )
        return self._landmarker

    def __call__(self, video: str | os.PathLike) -> AUTrack:
        """Track the face through a video.

        Args:
            video: The video file.

        Returns:
            The AU track at the video's frame times: (T, 17) intensities, NaN and success 0 on
            frames without a face.

        Raises:
            CauseError: naming the file if it cannot be decoded or no frame has a face.
        """
        frames = iter_frames(video, max_side=self.max_side, max_fps=self.max_fps)
        if self.threaded:
            frames = _threaded(frames)
        return self.track_frames(frames, source=video)

    def read_photo(self, image: np.ndarray, source: str | os.PathLike = "photo") -> np.ndarray:
        """The AUs the tracker reads on a still photo (shown as :data:`PHOTO_FRAMES` video frames,
        the last one read, so the result is the settled tracking state a rendered video starts in).

        Returns:
            (17,) float32 intensities.

        Raises:
            CauseError: naming ``source`` if no face is found.
        """
        frames = [(i / 25.0, image) for i in range(PHOTO_FRAMES)]
        read = self.track_frames(frames, source=source).intensities[-1]
        if not np.isfinite(read).all():
            raise CauseError("the tracker lost the face on the photo", path=source)
        return read

    def track_frames(self, frames, source: str | os.PathLike = "frames") -> AUTrack:
        """Track the face through frames already in memory (e.g. a renderer's output).

        Args:
            frames: Iterable of ``(time_s, image)`` with (H, W, 3) uint8 RGB images, in time
                order. They are used at their size (no ``max_side`` downscaling).
            source: Named in errors and in the track.

        Returns:
            The AU track, as :meth:`__call__`.

        Raises:
            CauseError: naming ``source`` if no frame has a face.
        """
        video = source
        times: list[float] = []
        rows: list[np.ndarray | None] = []
        poses: list[np.ndarray | None] = []
        gaps: list[float] = []
        names: list[str] | None = None
        landmarker = self._landmarker
        if landmarker is None or landmarker.closed:  # closed by close() or face close_all()
            landmarker = self._open()
        start = self._clock_ms
        if start > 0:  # forget the previous video's face
            blank = np.zeros((RESET_FRAME_SIZE, RESET_FRAME_SIZE, 3), np.uint8)
            landmarker.detect_frame(blank, start)
            start += RESET_GAP_MS
        last_ms = start - 1
        try:
            for t, image in frames:
                ms = max(start + int(round(t * MS_PER_S)), last_ms + 1)
                last_ms = ms
                result = landmarker.detect_frame(image, ms)
                times.append(t)
                if not result.face_blendshapes:
                    rows.append(None)
                    poses.append(None)
                    gaps.append(np.nan)
                    continue
                face = largest_face(result.face_landmarks)
                gaps.append(_frame_lip_gap(result.face_landmarks[face], image.shape))
                categories = result.face_blendshapes[face]
                if names is None:
                    names = [c.category_name for c in categories]
                rows.append(np.array([c.score for c in categories], dtype=np.float32))
                matrices = result.facial_transformation_matrixes
                poses.append(head_pose_from_matrix(matrices[face]) if matrices else None)
        finally:
            self._clock_ms = last_ms + RESET_GAP_MS
        if names is None:
            raise CauseError(
                f"no face found in any of the {len(times)} frames",
                path=video,
                fix="check that the video shows a face, frontal enough and not too small",
            )
        #: MediaPipe's blendshape category names, as the model reported them.
        self.category_names = list(names)
        scores = np.full((len(rows), len(names)), np.nan, dtype=np.float32)
        for i, row in enumerate(rows):
            if row is not None:
                scores[i] = row
        found = ~np.isnan(scores).any(axis=1)
        intensities = np.full((len(rows), NUM_AUS), np.nan, dtype=np.float32)
        intensities[found] = blendshapes_to_aus(scores[found], names)
        intensities[found, au_index("AU25")] = lips_part(np.asarray(gaps)[found])
        head_pose = np.full((len(rows), 3), np.nan, dtype=np.float32)
        for i, pose in enumerate(poses):
            if pose is not None:
                head_pose[i] = pose
        times_arr = np.asarray(times, dtype=np.float64)
        diffs = np.diff(times_arr)
        diffs = diffs[diffs > 0]
        fps = float(round(1.0 / np.median(diffs), 3)) if len(diffs) else None
        logger.debug("%s: %d frames, %d with a face", video, len(rows), int(found.sum()))
        return AUTrack(
            intensities=intensities,
            timestamps=times_arr,
            success=found,
            confidence=found.astype(np.float32),
            fps=fps,
            source=str(video),
            blendshapes=reorder(scores, names, BLENDSHAPE_NAMES, fill=np.nan),
            head_pose=head_pose,
        )


def _frame_lip_gap(landmarks, shape: tuple[int, ...]) -> float:
    """Inner-lip gap in eye distances of one face's normalised landmarks in an (H, W, 3) frame."""
    height, width = shape[:2]
    xyz = np.array([(m.x * width, m.y * height, m.z * width) for m in landmarks], np.float64)
    return float(lip_gap(xyz))


def head_pose_from_matrix(matrix) -> np.ndarray:
    """Head yaw, pitch and roll in degrees from a 4x4 facial transformation matrix.

    MediaPipe's matrix maps the canonical face model into camera space (x right, y up, z toward
    the camera). With its rotation (scale removed) written as ``R = Ry(yaw) Rx(pitch) Rz(roll)``:
    ``yaw = atan2(R[0,2], R[2,2])``, ``pitch = asin(-R[1,2])``, ``roll = atan2(R[1,0], R[1,1])``;
    a frontal, upright face is (0, 0, 0).

    Returns:
        (3,) float32.
    """
    m = np.asarray(matrix, dtype=np.float64)[:3, :3]
    r = m / np.linalg.norm(m, axis=0, keepdims=True)
    yaw = np.arctan2(r[0, 2], r[2, 2])
    pitch = np.arcsin(np.clip(-r[1, 2], -1.0, 1.0))
    roll = np.arctan2(r[1, 0], r[1, 1])
    return np.degrees(np.array([yaw, pitch, roll])).astype(np.float32)


def _threaded(frames, size: int = QUEUE_FRAMES):
    """Run a frame iterator in a background thread; re-raise its errors in the consumer."""
    buffer: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in frames:
                while not stop.is_set():
                    try:
                        buffer.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(_END)
        except BaseException as e:  # handed to the consumer, which re-raises it
            buffer.put(e)
        finally:
            with contextlib.suppress(Exception):
                frames.close()

    worker = threading.Thread(target=produce, name="decode", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)
