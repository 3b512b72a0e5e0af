"""Training-free renderer: move the face landmarks by AU and warp the photo with them.

Landmark displacements per AU come from the motion model (:mod:`espnet_cause.render.warp_motion`);
they are linear in the AU intensities, so each AU becomes one dense displacement field,
built once per photo on a Delaunay triangulation of the 478 landmarks plus the border of the face
region (piecewise-linear interpolation, :mod:`espnet_cause.render.field_grid`). A frame is the
AU-weighted sum of the 17 fields, inverted on the field's grid
(:mod:`espnet_cause.render.field_inversion`) and applied with one ``cv2.remap`` of the photo
(:data:`~espnet_cause.render.sharpen.INTERPOLATION`: each output pixel is resampled once, with the idle head motion folded into
the same map, and the detail the interpolation attenuates between pixels restored, so the face
keeps its detail, :mod:`espnet_cause.render.sharpen`); a dark mouth cavity with a band of upper teeth is
painted where the lips part further than in a photo whose mouth is closed (an open mouth keeps the
photo's own teeth, carried by the lips, and the back of the mouth opening up between them is
painted; :mod:`espnet_cause.render.mouth_paint`). Only the face moves: the displacement fades to 0 within
:data:`~espnet_cause.render.prepared_face.SUPPORT_MARGIN` eye distances of the face's outline and
is 0 on the photo's other faces, so pixels farther out (background, bodies, other people) are the
photo's own in every frame. This module is the entry point (:class:`WarpRenderer`,
:class:`PhotoFrames`); one photo's state and its frames are
:class:`~espnet_cause.render.prepared_face.PreparedFace`.

Absolute targets (the default): at :meth:`WarpRenderer.prepare` the built-in tracker reads the
photo's own AUs, and a frame moves the face by ``target - photo`` so that an AU at 0 means the
action is absent: a smiling photo driven by AU12 = 0 has its lip corners moved back down and in, an
open mouth driven by AU25 = AU26 = 0 is closed by a dedicated closure field built from the photo's
own lip gap (:func:`~espnet_cause.render.motion_closure.build_closure_basis`). Limits: the warp only
moves the photo's pixels, it cannot invent what the photo does not show: lowering an AU below the
photo's reverses that AU's landmark motion linearly (the reversal is at most the photo's own
intensity, targets below 0 count as 0); a closed mouth shows the photo's lips pressed together,
the interior squeezed between them covered by the lips' edges; the part of the lip gap the
photo's own AU10 explains is closed by lowering AU10, not by the closure (AU10 kept: the raised
upper lip keeps showing the teeth); and a frown or a squint relaxes only as far as moving the brows
and lids back can make it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import numpy as np

from espnet_cause.au import DEFAULT_AU_FPS, NUM_AUS
from espnet_cause.avatar.idle import add_blinks, head_motion
from espnet_cause.errors import CauseError
from espnet_cause.face.landmarker import Face, FaceLandmarker
from espnet_cause.io.image import load_image, to_rgb
from espnet_cause.render.basis_rows import CARRY_ROWS
from espnet_cause.render.motion_closure import NEUTRAL_MOUTH_WIDTH
from espnet_cause.render.neutralise import (
    NEUTRAL_BROW_HEIGHT,
    NEUTRAL_BROW_PROFILE,
    NEUTRAL_LID_OPENING,
)
from espnet_cause.render.options import (
    BLINK_RATE_RANGE,
    FPS_RANGE,
    GAIN_RANGE,
    HEAD_MOTION_RANGE,
    check_range,
)
from espnet_cause.render.photo import (
    FacePhoto,
    check_face_index,
    face_aus,
    read_canonical,
    read_face_photo,
)
from espnet_cause.render.prepared_face import SUPPORT_MARGIN, PreparedFace

#: What users imported from here before the renderer was split by job (the option ranges and
#: their check, and constants now kept by the modules of their jobs), importable here still.
__all__ = [
    "BLINK_RATE_RANGE",
    "CARRY_ROWS",
    "FPS_RANGE",
    "GAIN_RANGE",
    "HEAD_MOTION_RANGE",
    "NEUTRAL_BROW_HEIGHT",
    "NEUTRAL_BROW_PROFILE",
    "NEUTRAL_LID_OPENING",
    "NEUTRAL_MOUTH_WIDTH",
    "SUPPORT_MARGIN",
    "PhotoFrames",
    "WarpRenderer",
    "check_range",
]

logger = logging.getLogger(__name__)


class WarpRenderer:
    """Animate a still photo with an AU sequence by warping it along moved face landmarks.

    Prepare it once per photo (:meth:`prepare_photo` with a :func:`read_face_photo` result, or
    :meth:`prepare`), then :meth:`frames` / :meth:`frame` take only the AUs.

    Args:
        face_landmarker_path: Path to the MediaPipe ``face_landmarker.task`` model (None: the
            packaged model, see :func:`espnet_cause.face.model_file.resolve_face_landmarker`).
        face_index: Which face to animate when the photo has several (0 = the largest, then by
            size; equal sizes left to right).
        gain: Scale applied to all AU intensities (:data:`GAIN_RANGE`; 1 = as given).
        absolute: Drive from the photo's own AUs (read by the built-in tracker) to the requested
            ones, so 0 means absent; False moves the photo by the AUs as offsets (0 = the photo
            unchanged).
        head_motion: Idle head motion (:data:`HEAD_MOTION_RANGE`), a smoothed seeded random walk
            of roll and position (:func:`~espnet_cause.avatar.idle.head_motion`; 1 = a few degrees
            and pixels, 0 = off). The face moves rigidly, feathered back to the still photo.
        blink_rate: Blinks per minute added where the AU stream has no AU45 blink
            (:data:`BLINK_RATE_RANGE`; 0 = off).
        seed: Seed of the head motion and the added blinks.
        fps: Frame rate of the AU sequences (:data:`FPS_RANGE`; the idle motion's clock).
    """

    def __init__(
        self,
        face_landmarker_path: str | os.PathLike | None = None,
        face_index: int = 0,
        gain: float = 1.0,
        absolute: bool = True,
        head_motion: float = 0.0,
        blink_rate: float = 0.0,
        seed: int = 0,
        fps: float = DEFAULT_AU_FPS,
    ) -> None:
        check_face_index(face_index)
        self.face_landmarker_path = face_landmarker_path
        self._landmarker: FaceLandmarker | None = None
        self.face_index = face_index
        self.gain = check_range("--gain", gain, GAIN_RANGE, "1 renders the AUs as given")
        self.absolute = absolute
        self.head_motion = check_range("--head_motion", head_motion, HEAD_MOTION_RANGE)
        self.blink_rate = check_range("--blink_rate", blink_rate, BLINK_RATE_RANGE)
        self.fps = check_range("--fps", fps, FPS_RANGE, "use --fps 25")
        self.seed = int(seed)
        #: (17,) the photo's own AUs as the tracker read them (absolute mode, after prepare()).
        self.photo_aus: np.ndarray | None = None
        self._image: np.ndarray | None = None
        self._cache_key: tuple | None = None
        self._prepared: PreparedFace | None = None

    def prepare_photo(self, photo: FacePhoto) -> None:
        """Build the face's displacement fields (once per photo) from a photo read once."""
        own = None
        if self.absolute:
            own = np.clip(np.nan_to_num(np.asarray(photo.aus, np.float32)), 0.0, None)
            if own.shape != (NUM_AUS,):
                raise CauseError(f"photo AUs have shape {own.shape}, expected ({NUM_AUS},)")
            logger.info("photo AUs: %s", np.round(own, 2).tolist())
        self.photo_aus = own
        self._image = photo.image
        self._prepared = PreparedFace(photo.image, photo.face, own, photo.others)
        self._cache_key = _image_key(photo.image)

    def prepare(
        self,
        image: np.ndarray,
        face: Face | None = None,
        source: str = "",
        photo_aus: np.ndarray | None = None,
    ) -> None:
        """Detect the face and read its AUs (unless given) and build its displacement fields.

        Args:
            image: (H, W, 3) uint8 RGB photo.
            face: Its face (None: the ``face_index``-th, detected).
            source: How to name the photo in errors.
            photo_aus: (17,) the photo's own AUs (absolute mode; None: those of ``face`` when it
                was detected with blendshapes, else read).
        """
        image = to_rgb(image, source)
        others: tuple[Face, ...] = ()
        if face is None or (self.absolute and photo_aus is None and face.blendshapes is None):
            photo = read_face_photo(
                image, self.face_index, landmarker=self._open_landmarker(), source=source
            )
            if face is not None:  # the given face, the AUs of the detected face nearest to it
                nearest = _nearest(photo, face, self._open_landmarker())
                photo = FacePhoto(image, face, nearest.aus, photo.others, source)
            others = photo.others
            face = photo.face
            if photo_aus is None:
                photo_aus = photo.aus
        if photo_aus is None:
            photo_aus = face_aus(face) if face.blendshapes is not None else np.zeros(NUM_AUS)
        self.prepare_photo(FacePhoto(image, face, np.asarray(photo_aus), others, source))

    def _open_landmarker(self) -> FaceLandmarker:
        if self._landmarker is None:
            self._landmarker = FaceLandmarker(self.face_landmarker_path, blendshapes=True)
        return self._landmarker

    def frames(self, aus: np.ndarray, pose: np.ndarray | None = None) -> Iterator[np.ndarray]:
        """Frames of the prepared photo moved by each AU row (with the idle motion).

        Args:
            aus: (T, 17) AU intensities on the 0-5 scale, OpenFace order.
            pose: (T, 3) head pose per frame (roll in radians, x and y shift in eye distances),
                e.g. driven by the speech; None: the seeded idle motion.

        Yields:
            T frames, each (H, W, 3) uint8 RGB.
        """
        if self._prepared is None:
            raise RuntimeError("prepare the photo first (prepare_photo or prepare)")
        aus = np.asarray(aus, dtype=np.float32)
        if aus.ndim != 2 or aus.shape[1] != NUM_AUS:
            raise CauseError(f"AU array has shape {aus.shape}, expected (T, {NUM_AUS})")
        aus = np.nan_to_num(aus, nan=0.0) * self.gain
        if self.blink_rate > 0:
            aus = add_blinks(aus, self.fps, self.blink_rate, self.seed)
        if pose is None:
            head = head_motion(len(aus), self.fps, self.head_motion, self.seed)
        else:
            head = np.asarray(pose, np.float32)[: len(aus)]
            if head.shape != (len(aus), 3):
                raise CauseError(f"pose has shape {head.shape}, expected ({len(aus)}, 3)")
        prepared = self._prepared
        for row, frame_pose in zip(aus, head, strict=True):
            yield prepared.frame(row, frame_pose)

    def frame(self, au_row: np.ndarray) -> np.ndarray:
        """One frame of the prepared photo for a (17,) AU row (times the gain; no idle motion)."""
        if self._prepared is None:
            raise RuntimeError("prepare the photo first (prepare_photo or prepare)")
        row = np.nan_to_num(np.asarray(au_row, np.float32).reshape(NUM_AUS), nan=0.0)
        return self._prepared.frame(row * self.gain)

    def render(
        self, image: np.ndarray, aus: np.ndarray, pose: np.ndarray | None = None
    ) -> Iterator[np.ndarray]:
        """Frames of ``image`` moved by each AU row: :meth:`frames`, preparing the photo first
        when it is not the one prepared.

        Args:
            image: (H, W, 3) uint8 RGB photo (gray/RGBA are converted).
            aus: (T, 17) AU intensities on the 0-5 scale, OpenFace order.
            pose: (T, 3) head roll (radians) and x/y shift (eye distances) per frame, e.g. the
                speech's head motion (:func:`espnet_cause.avatar.head.warp_pose`); None: the idle
                random walk at :attr:`head_motion`.

        Yields:
            T frames, each (H, W, 3) uint8 RGB.
        """
        if image is not self._image:
            image = to_rgb(image)
            if self._prepared is None or self._cache_key != _image_key(image):
                self.prepare(image)
        return self.frames(aus, pose)

    def close(self) -> None:
        """Release the face landmarker (if one was loaded)."""
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None


class PhotoFrames:
    """One photo moved by AU tracks, as a callable ``(T, 17) AUs -> T frames``.

    What the mini corpus draws its videos with (:func:`espnet_cause.corpora.mini.corpus.prepare_mini`
    takes it as ``draw_frames``): the photo is read and its face found on the first call.

    Args:
        image: The face photo's file.
        face_landmarker_path: MediaPipe ``face_landmarker.task`` (None: the packaged model).
        absolute: As :class:`WarpRenderer`'s (the mini corpus: False, the AUs as offsets from the
            photo, whose own AUs are near zero).

    Raises:
        CauseError: for a photo or landmarker file that does not exist.
    """

    def __init__(
        self,
        image: str | os.PathLike,
        face_landmarker_path: str | os.PathLike | None = None,
        absolute: bool = False,
    ) -> None:
        for path, what in (
            (image, "--face_image"),
            (face_landmarker_path, "--face_landmarker_path"),
        ):
            if path is not None and not os.path.isfile(path):
                raise CauseError(
                    f"{what} file not found", path=path, fix=f"pass an existing {what}"
                )
        self.image_path = image
        self._image: np.ndarray | None = None
        self._renderer = WarpRenderer(face_landmarker_path=face_landmarker_path, absolute=absolute)

    def __call__(self, aus: np.ndarray) -> Iterator[np.ndarray]:
        """(T, 17) AUs -> T frames, each (H, W, 3) uint8 RGB (:meth:`WarpRenderer.render`)."""
        if self._image is None:
            self._image = load_image(self.image_path)
        return self._renderer.render(self._image, aus)

    def close(self) -> None:
        """Release the face landmarker."""
        self._renderer.close()

    def __enter__(self) -> PhotoFrames:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _nearest(photo: FacePhoto, face: Face, landmarker: FaceLandmarker) -> FacePhoto:
    """The face of ``photo`` (chosen or other) whose landmarks lie nearest to ``face``'s, read as
    :func:`read_face_photo` reads a chosen face (on its canonical views)."""
    faces = (photo.face, *photo.others)
    nearest = int(np.argmin([float(np.abs(f.points - face.points).mean()) for f in faces]))
    if nearest == 0:
        return FacePhoto(photo.image, photo.face, photo.aus, (), photo.source)
    best = read_canonical(landmarker, photo.image, faces[nearest])
    return FacePhoto(photo.image, best, face_aus(best), (), photo.source)


def _image_key(image: np.ndarray) -> tuple:
    sample = image[:: max(1, image.shape[0] // 16), :: max(1, image.shape[1] // 16)]
    return (image.shape, hash(sample.tobytes()))
