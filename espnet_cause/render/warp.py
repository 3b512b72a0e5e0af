"""Training-free renderer: move the face landmarks by AU and warp the photo with them.

Landmark displacements per AU come from the motion model (:mod:`espnet_cause.render.warp_motion`);
they are linear in the AU intensities, so each AU becomes one dense displacement field,
built once per photo on a Delaunay triangulation of the 478 landmarks plus the border of the face
region (piecewise-linear interpolation). A frame is the AU-weighted sum of the 17 fields, inverted
by a fixed-point step on the field's grid and applied with one ``cv2.remap`` of the photo
(:data:`INTERPOLATION`: each output pixel is resampled once, with the idle head motion folded into
the same map, and the detail the interpolation attenuates between pixels restored, so the face
keeps its detail, :mod:`espnet_cause.render.sharpen`); a dark mouth cavity with a band of upper teeth is
painted where the lips part further than in a photo whose mouth is closed (an open mouth keeps the
photo's own teeth, carried by the lips, and the back of the mouth opening up between them is
painted; :mod:`espnet_cause.render.mouth_paint`). Only the face moves: the displacement fades to 0 within
:data:`SUPPORT_MARGIN` eye distances of the face's outline and is 0 on the photo's other faces, so
pixels farther out (background, bodies, other people) are the photo's own in every frame.

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
import math
import os
from collections.abc import Iterator

import cv2
import numpy as np
from scipy.spatial import Delaunay

from espnet_cause.au import AU_INTENSITY_MAX, DEFAULT_AU_FPS, NUM_AUS, au_index
from espnet_cause.avatar.idle import add_blinks, head_motion
from espnet_cause.errors import CauseError
from espnet_cause.face.landmarker import Face, FaceLandmarker
from espnet_cause.io.image import load_image, to_rgb
from espnet_cause.render.eyeball import Eyeballs
from espnet_cause.render.face_geometry import (
    brow_edge_heights,
    brow_heights,
    face_frame,
    face_uv,
    lid_opening,
)
from espnet_cause.render.motion_brows import (
    BROW_LOWER,
    build_brow_raise_basis,
    build_sad_brow_basis,
    build_under_brow_basis,
)
from espnet_cause.render.motion_closure import CLOSE_PRESS, NEUTRAL_MOUTH_WIDTH, build_closure_basis
from espnet_cause.render.motion_lids import BLINK_FULL, build_lower_lid_basis
from espnet_cause.render.mouth_paint import MouthPaint
from espnet_cause.render.photo import (
    FacePhoto,
    check_face_index,
    face_aus,
    read_canonical,
    read_face_photo,
)
from espnet_cause.render.sharpen import (
    INTERPOLATION,
    gain_tables,
    grid_phase,
    restore_detail,
    restoring_gains,
)
from espnet_cause.render.warp_motion import build_landmark_basis

logger = logging.getLogger(__name__)

#: The displacement fades from the face's outline (the hull of its landmarks) to 0 over this many
#: eye distances (wide enough for the jaw drop to stretch the neck without folding); the warped
#: region is the hull's box grown by it.
SUPPORT_MARGIN = 0.8
#: Other faces of the photo stay still: the displacement is 0 on their hulls grown by this (eye
#: distances of the animated face).
OTHER_FACE_MARGIN = 0.1
#: Longest side of the grid on which the displacement fields are stored and inverted (the backward
#: map is upsampled to the face region per frame).
FIELD_GRID_SIDE = 256
#: ... and its nodes are at least this many pixels apart (the fields are smooth: on a small face
#: region, a node per pixel made the per-frame field product and inversion 4 times the work)...
FIELD_GRID_STEP = 2.0
#: ... but at most this many eye distances apart, and at least a pixel. On the dev photos (eye
#: distance 45 px and more) the nodes stay FIELD_GRID_STEP apart; on a smaller face (a face in a
#: group photo, eye distance 23-35 px) 2 px is a coarser grid than the renderer was made on, and
#: the fields between landmarks a few pixels apart (the lids, the lips) were smoothed across them:
#: the blink closed the eye half way (AU45 at 4 read 1.0 on a face 70 px tall, 2.0 on the same
#: face rendered at full size and scaled down). 0.045: the largest step in eye distances on the
#: dev photos (2 px at eye distance 44.8).
FIELD_GRID_STEP_UNITS = 0.045
#: ... and never closer than this many pixels (a node per pixel is the finest the fields need).
FIELD_GRID_MIN_STEP = 1.0
#: Ranges of the renderer's settings (checked with a clear error).
GAIN_RANGE = (0.0, 4.0)
HEAD_MOTION_RANGE = (0.0, 4.0)
BLINK_RATE_RANGE = (0.0, 60.0)
FPS_RANGE = (1.0, 120.0)
#: Border points per side of the face region (fixed, zero displacement).
BORDER_POINTS = 8
#: AU vectors whose largest absolute value is below this are rendered as the unchanged photo.
ZERO_AU = 1e-3
#: Inverting the forward displacement field (:meth:`_PreparedFace._invert`): fixed-point steps
#: (1 = one remap of the field), then at most NEWTON_STEPS Newton steps where a grid node is still
#: more than INVERT_TOLERANCE pixels off...
INVERT_STEPS = 2
NEWTON_STEPS = 8
INVERT_TOLERANCE = 0.5
#: ... with the Jacobian's determinant at least this (where the field folds the skin).
MIN_JACOBIAN = 0.2
#: The Newton steps work on the off nodes laid out in rows of at most this many.
NEWTON_ROW = 4096
#: The mouth-opening AUs, closed by the closure field below the photo's own intensity.
MOUTH_AUS = (au_index("AU25"), au_index("AU26"))
#: Closing the photo's open mouth presses the lips past touching (CLOSE_PRESS) only while the
#: mouth AUs are near 0: the press is released over their first PRESS_RELEASE units.
PRESS_RELEASE = 1.0
#: The chin's lowest landmark.
CHIN_TIP = 152
#: Undoing a photo's own smile (AU12 driven below the photo's) lowers the lip corners at most until
#: they sit this far (eye distances) above the lips' meeting line, as on an unsmiling closed mouth
#: (0.005-0.052 on the six neutral closed-mouth dev photos, median 0.018): the tracker's AU12 of a
#: strong smile (4.5) reversed in full pulled the corners below that line, a frown, which left
#: AU15 nothing to add (its closed-loop r 0.79 -> -0.04 on that photo).
NEUTRAL_CORNER_LIFT = 0.02
#: ... and draws them in until the mouth is
#: :data:`~espnet_cause.render.motion_closure.NEUTRAL_MOUTH_WIDTH` wide, by at most UNSMILE_ACROSS
#: times the photo's AU12 units of AU12's outward pull (AU12 pulls them out less than up). Drawn in
#: by the photo's AU12 units alone, a broad smile stayed a wide mouth the tracker read as a smile
#: (AU12 1.1 at AU12 0 on single_face's open smile); by 1.5 times them on every smiling photo, the
#: mouths were drawn in past the same speakers' closed ones (0.66 on eNTERFACE's happy mouth, 0.78
#: closed), and AU15 read back weaker (its closed-loop r 0.50 -> 0.34 there).
UNSMILE_ACROSS = 1.5
#: Undoing a photo's own brow action (AU01, AU02 or AU04 driven below the photo's) moves the
#: brows at most back to a resting height (the reversal is scaled: a target of 0 brings them to
#: rest, targets in between in proportion): the inner ends of their lower edges (AU01, AU04) this
#: far above the eye corners' line, the outer ends (AU02) the second (eye distances; the medians of
#: the seven dev photos whose AU01, AU02 and AU04 all read below 0.5: inner 0.191-0.257, outer
#: 0.173-0.209; :func:`~espnet_cause.render.face_geometry.brow_heights`). The tracker's brow AUs
#: are not the renderer's: talking_jwp's inner brows sit 0.11 below rest (AU04 read 4.0), and
#: those 4 units reversed in full raised them 0.28, far above rest, in every frame that did not
#: ask for AU04 (raising them further stretched the skin under them into a second brow); MEAD
#: surprised's sit 0.09 above rest (AU01 read 4.2), and AU01 reversed in full sank them 0.25, a
#: frown in every frame, the brows pressed onto the lids in a jagged line.
NEUTRAL_BROW_HEIGHT = (0.237, 0.185)
#: Undoing a photo's own AU04 (driven below the photo's) then raises each point of the brows'
#: lower edges (:data:`~espnet_cause.render.face_geometry.BROW_LOWER_EDGE`, outer end to inner end)
#: still under this height above the eye corners' line to it (eye distances; each point's median
#: over the same seven dev photos as :data:`NEUTRAL_BROW_HEIGHT`, whose ends it repeats), by at
#: most the photo's AU04 above :data:`RESTING_AU04` units of AU04's full lowering (:func:`_unfrown`).
#: Scaling AU04's own motion until the inner ends reached rest left low-browed photos frowning:
#: their brows lie low along their whole length (talking_jwp's middle 0.21, MEAD M030's outer
#: ends 0.16), the tracker still read AU04 3.5 on jwp's undone brows (4.0 on the photo), so the
#: AU04 sweep moved its read-back by 0.5 while raising the brows (AU01, AU02) took 2.2-3.2 away.
NEUTRAL_BROW_PROFILE = (0.185, 0.262, 0.309, 0.31, 0.237)
#: ... and a photo's AU04 up to this is what resting brows read (the seven photos: 0.07-0.49), not
#: a frown to lift beyond the inner ends' reversal (the frames of such photos are the same as
#: without the lift: the demo photo's, 0.07, moved 0.4 px, and its closed loop by the tracker's
#: noise).
RESTING_AU04 = 0.5
#: Undoing a photo's own lid tightening and blink (AU07, AU45 driven below the photo's) opens
#: the eyes at most this wide (:func:`~espnet_cause.render.face_geometry.lid_opening`, the lid gap
#: over the eye's width; the reversal is scaled, as the brows' is): the tracker reads AU07 1.5-3
#: on relaxed open eyes, and undone in full it opened every dev photo's eyes to 0.45-0.63, wider
#: than the surprised photo's 0.43 (a stare in every frame that did not ask for a squint; on
#: squinting photos the stretched lash line and iris lights drew a dark band with vertical bars).
NEUTRAL_LID_OPENING = 0.45
#: The AUs whose reversal opens the eyes.
LID_RELAX_AUS = (au_index("AU07"), au_index("AU45"))
#: The lip corners.
LIP_CORNERS = (61, 291)
AU12 = au_index("AU12")
AU01, AU02, AU04 = au_index("AU01"), au_index("AU02"), au_index("AU04")
#: Rows of the basis after the 17 AUs: the closure (NUM_AUS), the head pose (roll, x, y), then
#: the sad brow: AU01 with AU04 (FACS 1+4) raises the inner brows and draws them together, AU04
#: lowering only their outer part. Summed, AU04's lowering outweighed AU01's raise (an angry brow,
#: and the tracker read sad faces as angry); the sad-brow row undoes AU04's lowering on the medial
#: brow (:func:`~espnet_cause.render.motion_brows.build_sad_brow_basis`) by the units AU01 and
#: AU04 share. (It replaces raising AU01 one more unit per shared unit: the expression sheet of 5
#: dev photos at 4 read sad as sad on 2 -> 3 of 5, fearful 1 -> 1, angry, happy and surprised
#: unchanged.)
HEAD_ROWS = slice(NUM_AUS + 1, NUM_AUS + 4)
SAD_BROW_ROW = NUM_AUS + 4
#: ... then the un-smile: the landmark motion that takes the photo's own smile away (AU12 reversed,
#: :func:`_unsmile`), weighted by the share of the photo's AU12 the target falls short of (AU12's
#: own row then only adds above the photo's).
UNSMILE_ROW = NUM_AUS + 5
#: ... then the un-frown: the brows lifted to :data:`NEUTRAL_BROW_PROFILE` (:func:`_unfrown`),
#: weighted by the share of the photo's AU04 the target falls short of (with AU04's own row
#: reversed at most to the inner ends' rest, :func:`_brow_reversal`).
UNFROWN_ROW = NUM_AUS + 6
#: ... then AU07's lower lid alone: AU07 driven above a squinting photo's own adds the units its
#: relaxed squint took away (:func:`_raise_gain` of the squint the lids show, ``lid_relax``) with
#: the lower lid only. With the whole of AU07 (the upper lid coming down too) the tracker read the
#: added tightening as a blink as much as a squint: over the 25 dev photos AU07's closed-loop r rose
#: 0.608 -> 0.636 and AU45's fell 0.867 -> 0.846 (a real blink reads as AU07 and back).
LOWER_LID_ROW = NUM_AUS + 7
#: ... then the skin under raised brows carried with them
#: (:func:`~espnet_cause.render.motion_brows.build_under_brow_basis`), AU01's and AU02's, weighted
#: by the part of their offsets above the photo's own (undoing a photo's raised brows moves them
#: as the brow AUs alone do: carried down too, the skin under them was pushed onto the lids).
CARRY_ROWS = slice(NUM_AUS + 8, NUM_AUS + 10)
#: The brow raisers: driven above the photo's own, they raise its brows from the raise the brows
#: show (:func:`_raise_gain`).
BROW_RAISERS = (AU01, AU02)
#: The blink, clipped at :data:`~espnet_cause.render.motion_lids.BLINK_FULL` (eye closed).
BLINK = au_index("AU45")
#: The AUs that move the lids alone (their offsets fade out as a blink closes the eye).
LID_AUS = [au_index("AU05"), au_index("AU07")]
#: The AUs whose motion of the iris landmarks the eyeball does not follow (the lids slide over it:
#: :class:`~espnet_cause.render.eyeball.Eyeballs`).
EYEBALL_STILL_AUS = [au_index("AU05"), au_index("AU06"), au_index("AU07"), BLINK, LOWER_LID_ROW]
AU10 = au_index("AU10")
AU07 = au_index("AU07")


def check_range(name: str, value: float, bounds: tuple[float, float], fix: str = "") -> float:
    """``value`` as a float, or CauseError naming the option, the value and the range."""
    lo, hi = bounds
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and lo <= number <= hi):
        raise CauseError(
            f"{name} must be a number from {lo:g} to {hi:g}, got {value}", fix=fix or None
        )
    return number


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
        self._prepared: _PreparedFace | None = None

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
        self._prepared = _PreparedFace(photo.image, photo.face, own, photo.others)
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


class _PreparedFace:
    """The per-photo state: face region, dense per-AU displacement fields and mouth geometry."""

    def __init__(
        self,
        image: np.ndarray,
        face: Face,
        photo_aus: np.ndarray | None,
        others: tuple[Face, ...] = (),
    ) -> None:
        self.image = image
        height, width = image.shape[:2]
        self.photo_aus = photo_aus
        # (27, 478, 2) px: per intensity unit of each AU, the full closure of the photo's mouth,
        # the head's roll (per radian) and shift (per eye distance), the sad brow (per unit AU01
        # and AU04 share), then the photo's smile and its frown undone in full, AU07's lower
        # lid alone (per unit) and the skin carried under AU01's and AU02's raise (per unit)
        self.unit = face_frame(face)[3]
        x0, y0, x1, y1 = face.bbox
        margin = SUPPORT_MARGIN * self.unit
        self.x0, self.y0 = max(0, int(x0 - margin)), max(0, int(y0 - margin))
        self.x1 = min(width, int(np.ceil(x1 + margin)))
        self.y1 = min(height, int(np.ceil(y1 + margin)))
        # closing the mouth, the chin rises less when little of the neck under it is in the region
        room = max(self.y1 - float(face.points[CHIN_TIP, 1]), 0.0) / self.unit
        self.basis = np.concatenate(
            [
                build_landmark_basis(face, room),
                build_closure_basis(face, 0.0 if photo_aus is None else photo_aus[AU10], room)[
                    None
                ],
                _head_basis(face.points.astype(np.float32), self.unit),
                build_sad_brow_basis(face)[None],
            ]
        )
        own_smile = 0.0 if photo_aus is None else float(photo_aus[AU12])
        own = np.zeros(NUM_AUS, np.float32) if photo_aus is None else photo_aus
        self.basis = np.concatenate(
            [
                self.basis,
                _unsmile(face, self.basis[AU12], own_smile)[None],
                _unfrown(face, self.basis[AU04], float(own[AU04]))[None],
                build_lower_lid_basis(face)[None],
                build_under_brow_basis(face),
            ]
        )
        # the brows' outer ends are AU02's alone; the inner ends come down with both AU01 and AU02
        outer = _brow_reversal(face, self.basis[AU02], 1)
        undone = -min(outer, float(own[AU02])) * self.basis[AU02]
        self.brow_reversal = {
            AU01: _brow_reversal(face, self.basis[AU01], 0, undone),
            AU02: outer,
            AU04: _brow_reversal(face, self.basis[AU04], 0),
        }
        self.lid_relax = _lid_relax(face.points, self.basis, own)
        self.points = face.points.astype(np.float32)
        rw, rh = self.x1 - self.x0, self.y1 - self.y0
        self.mouth = MouthPaint(
            image=image,
            face=face,
            basis=self.basis,
            box=(self.x0, self.y0, self.x1, self.y1),
            unit=self.unit,
        )
        # (2,) the mouth AUs' intensity the photo shows open: a photo whose lips touch shows none
        # whatever the tracker read (its jawOpen reads up to 1.6 on sealed lips; counted, AU26
        # below it left the mouth shut, a dead zone), so the mouth AUs open it from their first unit
        self.mouth_shown = np.zeros(len(MOUTH_AUS), np.float32)
        if photo_aus is not None and self.mouth.open:
            self.mouth_shown = photo_aus[list(MOUTH_AUS)].astype(np.float32)
        self.roi_size = (rw, rh)
        # coarse grid for the fields (node centres in ROI pixels, as cv2.resize places them)
        fine = max(min(FIELD_GRID_STEP, FIELD_GRID_STEP_UNITS * self.unit), FIELD_GRID_MIN_STEP)
        step = max(fine, max(rw, rh) / FIELD_GRID_SIDE)
        gw, gh = max(2, int(np.ceil(rw / step))), max(2, int(np.ceil(rh / step)))
        gx = (np.arange(gw) + 0.5) * (rw / gw) - 0.5
        gy = (np.arange(gh) + 0.5) * (rh / gh) - 0.5
        # triangulation of the landmarks (ROI coordinates) plus fixed border points
        offset = np.array([self.x0, self.y0], dtype=np.float32)
        pts = self.points - offset
        t = np.linspace(0.0, 1.0, BORDER_POINTS + 1)[:-1]
        lo_x, hi_x, lo_y, hi_y = -1.0, rw, -1.0, rh
        border = np.concatenate(
            [
                np.stack([lo_x + t * (hi_x - lo_x), np.full_like(t, lo_y)], 1),
                np.stack([np.full_like(t, hi_x), lo_y + t * (hi_y - lo_y)], 1),
                np.stack([hi_x - t * (hi_x - lo_x), np.full_like(t, hi_y)], 1),
                np.stack([np.full_like(t, lo_x), hi_y - t * (hi_y - lo_y)], 1),
            ]
        ).astype(np.float32)
        inside = (pts[:, 0] > lo_x) & (pts[:, 0] < hi_x) & (pts[:, 1] > lo_y) & (pts[:, 1] < hi_y)
        nodes = np.concatenate([pts[inside], border])
        node_basis = np.concatenate(
            [self.basis[:, inside], np.zeros((len(self.basis), len(border), 2), np.float32)], axis=1
        )
        if self.mouth.open:  # the teeth keep their size as the mouth opens further
            nodes = np.concatenate([nodes, self.mouth.teeth_nodes])
            node_basis = np.concatenate([node_basis, self.mouth.teeth_basis], axis=1)
        tri = Delaunay(nodes.astype(np.float64))
        xx, yy = np.meshgrid(gx, gy)
        q = np.stack([xx.ravel(), yy.ravel()], 1)
        simplex = tri.find_simplex(q)
        simplex = np.where(simplex < 0, 0, simplex)  # on-border rounding; weights clip below
        trans = tri.transform[simplex]
        b = np.einsum("nij,nj->ni", trans[:, :2], q - trans[:, 2])
        bary = np.clip(np.concatenate([b, 1 - b.sum(1, keepdims=True)], 1), 0.0, 1.0)
        bary /= bary.sum(1, keepdims=True)
        verts = tri.simplices[simplex]  # (n, 3)
        fields = (node_basis[:, verts] * bary[None, :, :, None].astype(np.float32)).sum(2)
        # only the face moves: fade to 0 away from its outline, 0 on the other faces
        scale = np.array([gw / rw, gh / rh], np.float32)
        support = _support_mask(pts * scale, gh, gw, SUPPORT_MARGIN * self.unit * scale.min())
        for other in others:
            hull = (other.points.astype(np.float32) - offset) * scale
            support *= _outside_mask(hull, gh, gw, OTHER_FACE_MARGIN * self.unit * scale.min())
        fields = fields * support.reshape(1, -1, 1)
        # (25, gh*gw*2) so a frame's forward field is one small matrix product
        self.fields = fields.reshape(len(self.basis), gh * gw * 2).astype(np.float32)
        self.grid_shape = (gh, gw)
        self.scale_to_grid = scale
        self.grid_px = np.stack([xx, yy], -1).astype(np.float32)  # (gh, gw, 2) node positions
        self.edge_px = np.array([rw - 1, rh - 1], np.float32)  # the last pixel of the region
        mx_, my_ = np.meshgrid(np.arange(rw, dtype=np.float32), np.arange(rh, dtype=np.float32))
        self.identity = np.stack([mx_, my_], -1)
        self.roi = np.ascontiguousarray(image[self.y0 : self.y1, self.x0 : self.x1])
        self.eyeballs = Eyeballs(
            pts, self.basis, self.unit, EYEBALL_STILL_AUS, HEAD_ROWS.start, self.roi
        )
        box = np.array(face.bbox) - np.array([self.x0, self.y0, self.x0, self.y0])
        self.restore = gain_tables(restoring_gains(self.roi, box))

    def coefficients(self, au_row: np.ndarray, head: np.ndarray | None = None) -> np.ndarray:
        """(25,) field weights for a (17,) AU row and a (3,) head pose (roll, x, y): the AU offsets
        from the photo (absolute mode: ``max(target, 0) - photo``, the mouth AUs' part below the
        photo as the closure fraction and only their part above what the photo shows open
        (:attr:`mouth_shown`: none on sealed lips) as their own fields, AU12's as the share of the photo's smile undone
        (:data:`UNSMILE_ROW`), AU01's, AU02's and AU04's scaled so that 0 undoes at most
        :func:`_brow_reversal` (AU04's also as the share of the photo's frown lifted,
        :data:`UNFROWN_ROW`); AU45 above the photo's as the
        share of the way to closed lids at BLINK_FULL, AU05's and AU07's faded by it; AU07's and AU45's
        below the photo's scaled by :func:`_lid_relax`, AU07's above the photo's with the units the
        relaxation leaves out as :data:`LOWER_LID_ROW`), the head pose, the sad brow
        (:data:`SAD_BROW_ROW`) and AU01's and AU02's raise above the photo's (:data:`CARRY_ROWS`)."""
        row = np.zeros(len(self.basis), np.float32)
        if head is not None:
            row[HEAD_ROWS] = head
        if self.photo_aus is None:
            delta = au_row.copy()
        else:
            own = self.photo_aus
            delta = np.maximum(au_row, 0.0) - own
            k = list(MOUTH_AUS)
            row[NUM_AUS] = _closure(np.maximum(au_row[k], 0.0), own[k], float(au_row[AU10]))
            delta[k] = np.maximum(np.maximum(au_row[k], 0.0) - self.mouth_shown, 0.0)
            if delta[AU12] < 0.0:  # the share of the photo's smile taken away (see _unsmile)
                row[UNSMILE_ROW] = -float(delta[AU12]) / max(float(own[AU12]), ZERO_AU)
                delta[AU12] = 0.0
            if delta[AU04] < 0.0:  # the share of the photo's frown taken away (see _unfrown)
                row[UNFROWN_ROW] = -float(delta[AU04]) / max(float(own[AU04]), ZERO_AU)
            for k, most in self.brow_reversal.items():  # undone linearly, at most to rest
                if delta[k] < 0.0:
                    delta[k] *= min(1.0, most / max(float(own[k]), ZERO_AU))
                elif k in BROW_RAISERS:  # raised above the photo's from the raise it shows
                    delta[k] *= _raise_gain(float(own[k]), most)
            for k in LID_RELAX_AUS:  # the lids relax at most to a neutral opening
                if delta[k] < 0.0:
                    delta[k] *= self.lid_relax
            if delta[AU07] > 0.0:  # tightened above the photo's from the squint it shows: the
                # units the relaxed squint took away, by the lower lid alone (LOWER_LID_ROW)
                gain = _raise_gain(float(own[AU07]), self.lid_relax * float(own[AU07]))
                row[LOWER_LID_ROW] = (gain - 1.0) * float(delta[AU07])
        if delta[BLINK] > 0.0:  # closing: the share of the way from the photo's lids to closed
            own_blink = 0.0 if self.photo_aus is None else float(self.photo_aus[BLINK])
            closed = min(float(delta[BLINK]) / max(BLINK_FULL - own_blink, ZERO_AU), 1.0)
            delta[BLINK] = closed * BLINK_FULL  # the lids meet at BLINK_FULL, stay closed
            # the blink closes the lids where the other lid AUs put them: their offsets fade out as
            # it closes (a relaxed squint, AU07 below the photo's, held the closed eye open)
            delta[LID_AUS] *= 1.0 - closed
            row[LOWER_LID_ROW] *= 1.0 - closed
        row[SAD_BROW_ROW] = max(min(float(delta[AU01]), float(delta[AU04])), 0.0)
        row[CARRY_ROWS] = np.maximum(delta[list(BROW_RAISERS)], 0.0)
        row[:NUM_AUS] = delta
        return row

    def moved_points(self, au_row: np.ndarray, head: np.ndarray | None = None) -> np.ndarray:
        """(478, 2) landmarks (pixels) where a (17,) AU row and a (3,) head pose move the photo's."""
        return self.points + np.tensordot(self.coefficients(au_row, head), self.basis, axes=1)

    def frame(self, au_row: np.ndarray, head: np.ndarray | None = None) -> np.ndarray:
        """One (H, W, 3) uint8 frame for a (17,) AU row and a (3,) head pose (None: still)."""
        au_row = self.coefficients(au_row.astype(np.float32), head)
        if float(np.abs(au_row).max(initial=0.0)) < ZERO_AU:
            return self.image.copy()
        source = self.source_map(au_row)
        uncovered = self.eyeballs.apply(source, au_row)
        warped = cv2.remap(self.roi, source, None, INTERPOLATION, borderMode=cv2.BORDER_REPLICATE)
        warped = restore_detail(warped, grid_phase(source), self.restore)
        # the interior shows under the upper lip as far as the AU10 target raises it
        kept_au10 = 0.0 if self.photo_aus is None else self.photo_aus[AU10] + au_row[AU10]
        self.mouth.cover(warped, source, float(au_row[NUM_AUS]), float(kept_au10))
        self.mouth.seam(warped, source, au_row)
        self.mouth.paint(warped, au_row)
        self.eyeballs.paint(warped, uncovered)
        out = self.image.copy()
        out[self.y0 : self.y1, self.x0 : self.x1] = warped
        return out

    def source_map(self, coefficients: np.ndarray) -> np.ndarray:
        """(rh, rw, 2) float32: where each pixel of the face region samples the photo (ROI pixel
        x, y) for (25,) field weights (:meth:`coefficients`)."""
        rw, rh = self.roi_size
        gh, gw = self.grid_shape
        # einsum: no BLAS threads (a matrix-vector product this small waits on them)
        forward = np.einsum("k,kn->n", coefficients, self.fields).reshape(gh, gw, 2)
        # one backward map: source = x + back(x), inverted on the grid, upsampled once
        back = self._invert(forward, coefficients)
        source = cv2.resize(back, (rw, rh), interpolation=cv2.INTER_LINEAR)
        source += self.identity
        return source

    def _opening(self, coefficients: np.ndarray) -> np.ndarray | None:
        """(gh, gw) bool on the field grid: where the mouth opens up further than in the photo
        (:meth:`MouthPaint.opening`; the cavity paint covers it), None where it does not."""
        polygon = self.mouth.opening(coefficients)
        if polygon is None:
            return None
        gh, gw = self.grid_shape
        polygon = polygon * self.scale_to_grid
        mask = np.zeros((gh, gw), np.uint8)
        cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
        return mask.astype(bool)

    def _invert(self, forward: np.ndarray, coefficients: np.ndarray | None = None) -> np.ndarray:
        """(gh, gw, 2) backward displacement of a forward one on the field grid.

        Fixed-point steps ``back(x) = -d(x + back(x))`` starting from ``-d(x)`` (cheap; enough for
        most of a face in speech), then, on the grid nodes still more than
        :data:`INVERT_TOLERANCE` pixels off, Newton steps on ``y + d(y) = x`` (``back = y - x``,
        with the field's Jacobian by central differences and a halved step where a full one
        overshoots). The fixed-point steps converge only where the field stretches the skin less
        than twice: raised brows stretch the band above the still upper lid more, and they sampled
        the eye twice (a second iris above it); relaxing the demo photo's squint (AU07) left the
        iris streaked; a closed-over open mouth with the chin raised (AU17) or the lips tightened
        (AU23) folded the chin and doubled the lower lip. Left to the fixed-point steps: the
        nodes where the mouth opens further than in the photo (:meth:`_opening` of
        ``coefficients``, computed only when Newton steps run; None: no node left out): the
        lips parting stretch the rows between them without bound (the painted cavity covers
        them; Newton steps there doubled the time of a frame). The Newton steps start from
        ``-d(x)`` and a node keeps them only where they end nearer than the fixed-point steps
        (where the closure presses the lips past touching, the field folds: started from the
        fixed-point result, nodes on the skin converged to the interior's preimage, specks).
        """
        gh, gw = self.grid_shape

        def residual(back: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            at = (grid + back + 0.5) * self.scale_to_grid - 0.5  # grid coordinates
            res = back + cv2.remap(forward, at, None, cv2.INTER_LINEAR, cv2.BORDER_REPLICATE)
            return res, at

        back = -forward
        for _ in range(INVERT_STEPS):
            back = back - residual(back, self.grid_px)[0]
        res = residual(back, self.grid_px)[0]
        off = _largest(res) > INVERT_TOLERANCE
        if not off.any():
            return back
        opening = None if coefficients is None else self._opening(coefficients)
        if opening is not None:
            off &= ~opening
        rows, cols = np.nonzero(off)
        if len(rows) == 0:
            return back
        # the off nodes only, as an (r, w) map (a remap map is at most SHRT_MAX wide); padded by
        # repeating the last node
        w = min(len(rows), NEWTON_ROW)
        pad = -len(rows) % w
        rows, cols = np.pad(rows, (0, pad), mode="edge"), np.pad(cols, (0, pad), mode="edge")
        shape = (len(rows) // w, w, 2)
        # from -d(x) (see above), kept inside the region (the field is 0 at its edges, so every
        # preimage lies inside it; started past the bottom edge under a jaw closing a wide-open
        # mouth on a tight crop, the steps met only the edge's replicated field and stalled there:
        # a fold under the lower lip)
        grid, sub = self.grid_px[rows, cols].reshape(shape), -forward[rows, cols].reshape(shape)
        sub = np.clip(grid + sub, 0.0, self.edge_px) - grid
        fixed, fixed_res = back[rows, cols].reshape(shape), res[rows, cols].reshape(shape)
        res, at = residual(sub, grid)
        cell = self.roi_size[0] / gw, self.roi_size[1] / gh  # pixels per grid step
        probe = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]], np.float32)[:, None, None]
        for _ in range(NEWTON_STEPS):
            if float(np.abs(res).max()) < INVERT_TOLERANCE:
                break
            probes = (at[None] + probe).reshape(-1, w, 2)  # the field one grid step to each side
            f = cv2.remap(forward, probes, None, cv2.INTER_LINEAR, cv2.BORDER_REPLICATE)
            f = f.reshape(4, *shape)
            dx, dy = (f[0] - f[1]) / (2 * cell[0]), (f[2] - f[3]) / (2 * cell[1])
            a, b, c, d = dx[..., 0] + 1.0, dy[..., 0], dx[..., 1], dy[..., 1] + 1.0
            det = np.maximum(a * d - b * c, MIN_JACOBIAN)  # a fold in the field: a bounded step
            rx, ry = res[..., 0], res[..., 1]
            step = np.stack([(d * rx - b * ry) / det, (a * ry - c * rx) / det], -1)
            trial = sub - step
            res_trial, at_trial = residual(trial, grid)
            # where the full step overshoots (across a kink of the piecewise-linear field): half
            worse = _taxicab(res_trial) > _taxicab(res)
            if worse.any():
                sub = np.where(worse[..., None], sub - 0.5 * step, trial)
                res, at = residual(sub, grid)
            else:
                sub, res, at = trial, res_trial, at_trial
        # where the steps did not end nearer than the fixed-point steps (a fold), those
        better = _taxicab(res) < _taxicab(fixed_res)
        back[rows, cols] = np.where(better[..., None], sub, fixed).reshape(-1, 2)
        return back


def _largest(v: np.ndarray) -> np.ndarray:
    """(...) the larger of |x| and |y| of (..., 2) vectors: ``np.abs(v).max(-1)``, written out
    (numpy's reduction over a length-2 last axis costs ~0.1 us a vector: 0.6 ms on a 68 x 68
    field grid, every frame; the same values)."""
    return np.maximum(np.abs(v[..., 0]), np.abs(v[..., 1]))


def _taxicab(v: np.ndarray) -> np.ndarray:
    """(...) |x| + |y| of (..., 2) vectors: ``np.abs(v).sum(-1)`` written out (see
    :func:`_largest`; the same values)."""
    return np.abs(v[..., 0]) + np.abs(v[..., 1])


def _support_mask(points: np.ndarray, height: int, width: int, ramp: float) -> np.ndarray:
    """(height, width) float32 on the field grid: 1 inside the hull of ``points`` (grid
    coordinates), falling smoothly to 0 at ``ramp`` grid cells outside it."""
    hull = np.zeros((height, width), np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    distance = cv2.distanceTransform(1 - hull, cv2.DIST_L2, 5)
    x = np.clip(1.0 - distance / max(ramp, 1.0), 0.0, 1.0)
    return (x * x * (3.0 - 2.0 * x)).astype(np.float32)


def _outside_mask(points: np.ndarray, height: int, width: int, margin: float) -> np.ndarray:
    """(height, width) float32 on the field grid: 0 on the hull of ``points`` grown by ``margin``
    grid cells (at least 2, so the upsampled field is 0 on it too), 1 elsewhere."""
    hull = np.zeros((height, width), np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    distance = cv2.distanceTransform(1 - hull, cv2.DIST_L2, 5)
    return (distance > max(margin, 2.0)).astype(np.float32)


def _closure(target: np.ndarray, own: np.ndarray, lip_raise: float = 0.0) -> float:
    """The closure field's weight for the (2,) mouth AU targets (AU25, AU26; >= 0) on a photo
    whose own are ``own``: the share of the photo's opening the two targets fall short of
    (the sum of their shortfalls over the sum of the photo's own).

    It presses the lips past touching (:data:`~espnet_cause.render.motion_closure.CLOSE_PRESS`, to
    hide the interior) only while the targets are near 0: the press is released over their first
    :data:`PRESS_RELEASE` units. (Pressed at every closure, AU25 swept with AU26 at 0 left the
    lips shut over its first 1.5 units on a wide-open photo: a dead zone the tracker read as 0.)
    The upper lip's raise (the AU10 target ``lip_raise``) releases it too: pressed, the lips
    swallowed AU10's raise on a closed-over open mouth (the tracker read AU10 at 4 as 0.0-0.1).
    """
    total = float(own.sum())
    if total <= ZERO_AU:
        return 0.0
    closing = min(1.0, float(np.maximum(own - target, 0.0).sum()) / total)
    release = min(1.0, max(float(target.max()), lip_raise) / PRESS_RELEASE)
    return closing * (1.0 - release * (1.0 - 1.0 / CLOSE_PRESS))


def _smile_reversal(face: Face, au12: np.ndarray) -> float:
    """How many AU12 units below the photo's may be undone: until the lip corners sit
    :data:`NEUTRAL_CORNER_LIFT` above the lips' meeting line (0 when they are not above it).

    Args:
        face: The photo's face.
        au12: (478, 2) AU12's landmark displacement per unit (pixels).
    """
    uv, _, ey, unit = face_uv(face)
    lift = -float(uv[list(LIP_CORNERS), 1].mean()) - NEUTRAL_CORNER_LIFT
    per_unit = -float((au12[list(LIP_CORNERS)] @ ey).mean()) / unit  # the corners' rise per unit
    if lift <= 0.0 or per_unit <= 1e-6:
        return 0.0
    return lift / per_unit


def _unsmile(face: Face, au12: np.ndarray, own: float) -> np.ndarray:
    """(478, 2) pixels: the landmark motion that takes a photo's own smile (AU12 ``own``) away:
    AU12 reversed, up and down by at most :func:`_smile_reversal` units (further, the corners sink
    into a frown), across by the units that bring the mouth's width down to
    :data:`NEUTRAL_MOUTH_WIDTH`, at most :data:`UNSMILE_ACROSS` times ``own`` (a smile widens the
    mouth, and the tracker reads the width).

    Args:
        face: The photo's face.
        au12: (478, 2) AU12's landmark displacement per unit (pixels).
        own: The photo's own AU12.
    """
    uv, ex, ey, unit = face_uv(face)
    along_y = (au12 @ ey)[:, None] * ey[None]
    across = au12 - along_y
    corners = list(LIP_CORNERS)
    out = float(np.abs(across[corners] @ ex).mean()) / float(ex @ ex) / unit  # per side, per unit
    excess = 0.5 * (abs(float(uv[corners[1], 0] - uv[corners[0], 0])) - NEUTRAL_MOUTH_WIDTH)
    drawn_in = 0.0 if out <= 1e-6 else min(UNSMILE_ACROSS * own, max(excess, 0.0) / out)
    down = min(own, _smile_reversal(face, au12))
    return (-(drawn_in * across + down * along_y)).astype(np.float32)


def _unfrown(face: Face, motion: np.ndarray, own: float) -> np.ndarray:
    """(478, 2) px: how far undoing the photo's own AU04 lifts its brows beyond the inner ends'
    reversal (:func:`_brow_reversal`, AU04's own ``motion``, 478 x 2 px per unit, reversed until
    the brows' inner ends are back at rest): each point of the brows' lower edges still under
    :data:`NEUTRAL_BROW_PROFILE` rises to it, by at most the photo's AU04 above
    :data:`RESTING_AU04` units of AU04's full lowering
    (:data:`~espnet_cause.render.motion_brows.BROW_LOWER` at the maximum intensity) in all; the
    upper edges and the forehead rise with them
    (:func:`~espnet_cause.render.motion_brows.build_brow_raise_basis`). Zero for a photo whose
    brows are not lowered, or whose AU04 is at most :data:`RESTING_AU04`."""
    landmarks = face.landmarks.astype(np.float64)  # moved in x, y; the depth (its turn) kept
    height = brow_edge_heights(face_uv(face)[0])
    landmarks[:, :2] -= min(_brow_reversal(face, motion, 0), max(own, 0.0)) * motion
    undone = brow_edge_heights(face_uv(Face(landmarks))[0])
    lowering = max(own - RESTING_AU04, 0.0) * BROW_LOWER / AU_INTENSITY_MAX
    most = np.maximum(lowering - (undone - height), 0.0)
    lift = np.clip(np.asarray(NEUTRAL_BROW_PROFILE) - undone, 0.0, most)
    return build_brow_raise_basis(face, lift)


def _brow_reversal(
    face: Face, motion: np.ndarray, end: int, undone: np.ndarray | None = None
) -> float:
    """How many units of a brow AU below the photo's may be undone: until the brows' inner
    (``end`` 0) or outer (1) ends are back at :data:`NEUTRAL_BROW_HEIGHT` (0 when undoing the AU
    would move them away from it).

    Args:
        face: The photo's face.
        motion: (478, 2) the AU's landmark displacement per unit (pixels).
        end: 0: the brows' inner ends, 1: their outer ends.
        undone: (478, 2) what undoing other AUs moves the landmarks (pixels; None: nothing).
    """
    landmarks = face.landmarks.astype(np.float64)  # moved in x, y; the depth (its turn) kept
    if undone is not None:
        landmarks[:, :2] += undone
    height = brow_heights(face_uv(Face(landmarks))[0])[end]
    landmarks[:, :2] += motion
    per_unit = brow_heights(face_uv(Face(landmarks))[0])[end] - height
    if abs(per_unit) <= 1e-6:
        return 0.0
    return max((height - NEUTRAL_BROW_HEIGHT[end]) / per_unit, 0.0)


def _raise_gain(own: float, shown: float) -> float:
    """How many units a brow raiser (AU01, AU02) moves the photo's brows per unit its target
    lies above the photo's own ``own``, when undoing ``shown`` units of it brings the brows to
    rest (:func:`_brow_reversal`): the brows rise from the photo's height at ``own`` to rest plus
    the full raise at :data:`~espnet_cause.au.AU_INTENSITY_MAX`. A photo whose brows show less
    raise than the tracker reads (``shown`` < ``own``: MEAD surprised reads AU01 4.2 with its
    inner brows 1.0 unit above rest, eNTERFACE angry 3.3 with 0.8) had only ``5 - own`` units
    left to show: AU01 at 4 added 0.7 units there, and the sad brow (AU01 with AU04) was AU04's
    frown (the expression sheet read it as angry). 1 when the brows show all of ``own``.
    The lid tightener (AU07) too: relaxing a squinting photo stops at a neutral opening
    (:func:`_lid_relax`), so its lids show ``lid_relax * own`` units of its squint; AU07 driven
    0 -> 4 on the demo photo (own 3.1, 0.44 of it shown) moved its lower lid by 2.3 units of
    AU07's motion (the closed loop's AU07 sweep spanned 0.57 of its range there).

    Args:
        own: The photo's own intensity of the AU (as the tracker reads it).
        shown: The units of it the photo's brows (lids) show above rest (:func:`_brow_reversal`,
            :func:`_lid_relax`).
    """
    shown = min(max(shown, 0.0), own)
    return (AU_INTENSITY_MAX - shown) / max(AU_INTENSITY_MAX - own, ZERO_AU)


def _lid_relax(points: np.ndarray, basis: np.ndarray, own: np.ndarray) -> float:
    """The share of the photo's own AU07 and AU45 that driving them to 0 undoes: all of it, unless
    that opens the eyes wider than :data:`NEUTRAL_LID_OPENING`; then as much as opens them to it
    (0 when the photo's eyes are that open already).

    Args:
        points: (478, 2) the photo's landmarks (pixels).
        basis: (K, 478, 2) the per-unit displacements (pixels), AUs first.
        own: (17,) the photo's own AUs.
    """
    k = list(LID_RELAX_AUS)
    photo = lid_opening(points)
    relaxed = lid_opening(points - np.tensordot(np.maximum(own[k], 0.0), basis[k], axes=1))
    if relaxed <= NEUTRAL_LID_OPENING or relaxed <= photo + 1e-6:
        return 1.0
    return float(np.clip((NEUTRAL_LID_OPENING - photo) / (relaxed - photo), 0.0, 1.0))


def _head_basis(points: np.ndarray, unit: float) -> np.ndarray:
    """(3, 478, 2) px: every landmark moved by a head roll (per radian, about a pivot below the
    chin) and by a shift of one eye distance in x and in y (the face moves rigidly; the fixed
    border of the face region feathers it back into the still background)."""
    pivot = points[152] + np.array([0.0, 0.3 * unit], np.float32)  # the neck, under the chin
    rel = points - pivot
    roll = np.stack([-rel[:, 1], rel[:, 0]], axis=1)
    shift_x = np.broadcast_to(np.array([unit, 0.0], np.float32), points.shape)
    shift_y = np.broadcast_to(np.array([0.0, unit], np.float32), points.shape)
    return np.stack([roll, shift_x, shift_y]).astype(np.float32)
