"""The eyeballs under closing lids: a lid covers the eyeball instead of squeezing it.

The warp moves the lid landmarks and stretches or squeezes whatever lies between them: a raised
lower lid (AU07, AU06) squashed the iris into an oval between the lids (with a dark drip under it
where the lid pulled the iris's bottom up), and the upper lid coming down in a blink squashed it
from above. On a real face the eyeball stays and the lids slide over it. :class:`Eyeballs`
changes the warp's backward map (where each output pixel samples the photo) inside each eye's
moved opening: there the eyeball is sampled where it is in the photo (moved only with the head),
wherever the photo shows it, in the columns where neither lid opened further than in the photo.
Where a lid opened (AU05, a relaxed squint) the photo has nothing to show under it, and the warp
keeps the whole column: a texture made up for the hidden eyeball (the iris and sclera turned
around the iris centre, mirrored across it, or the nearest visible row repeated) drew rings,
arcs and streaks of copied highlights and seams on the dev photos, and the still eyeball under
the warp's stretched band showed the top of the iris twice. The map is changed before the one
``remap``, so each pixel is still sampled once.

On a strong squint relaxed (AU07 below the photo's own on MEAD sad, M030: the lower lid's depth
below the iris centre two or more times the photo's) the warp's stretch of the narrow strip was
no eye: the iris lights drawn into vertical bars, a dark band, a drip under the iris. There
:meth:`Eyeballs.paint` draws the eyeball over the whole moved opening after the ``remap``, from a
texture built once per photo (:func:`~espnet_cause.render.eyeball_texture.eyeball_texture`: the
photo's eye where it shows it, a made-up iris and sclera elsewhere), sampled with the still
eyeball's map: a round iris of the photo's size, its lights spots, sclera where the lids
uncover it, also above the iris under AU05.
"""

from __future__ import annotations

import cv2
import numpy as np

from espnet_cause.render.eyeball_texture import eyeball_texture
from espnet_cause.render.face_geometry import EYE_LOWER, EYE_UPPER, IRISES

#: Inside this far (eye distances) from each moved lid line the warp keeps the lid's margin (the
#: lash line, which lies just inside the landmarks' outline).
LID_MARGIN = 0.015
#: ... and the eyeball is sampled only this far (eye distances) inside the photo's lid lines
#: (nearer, it sampled the photo's lid margin inside the moved opening: a second lash line).
SAMPLE_MARGIN = 0.025
#: The eyeball's edges are blended with the warp over this many pixels.
FEATHER_PX = 1.0
#: An eye whose lids are closer than this in the photo (eye distances, at the iris centre) shows
#: no eyeball (a closed eye): the warp alone moves it.
MIN_VISIBLE = 0.06
#: ... the eyeball a lid uncovers is drawn (:meth:`Eyeballs.paint`) on eyes open at least this
#: much in the photo (MEAD sad's squint: 0.045), read this share of the lid gap in from the lids
#: where :data:`SAMPLE_MARGIN` leaves too little of it.
MIN_UNCOVER = 0.025
UNCOVER_SAMPLE_SHARE = 0.3
#: The made-up eyeball (:mod:`~espnet_cause.render.eyeball_texture`) reaches this far (eye
#: distances) above and below the photo's lid lines: as far as a lid may open (AU05 at 5 raises
#: the upper lid 0.09; relaxing a squint to the neutral opening lowers the lower lid less).
UNCOVER_ROOM = 0.2
#: ... in the columns where the lower lid opened at least this far (eye distances; a squint
#: relaxed by more than a unit or two of AU07): below it the warp's stretch is a pixel or two.
UNCOVER_LEAST = 0.02
#: ... on the eyes whose relaxed lower lid stretches the photo's eye most: the drawn eyeball
#: fades in as the moved lower lid's depth below the iris centre grows from this many times the
#: photo's to :data:`STRETCH_FULL` times (the dev photos' relaxed squints: MEAD sad, M030,
#: eNTERFACE happy closed and jwp open 1.9-4; the others 1.0-1.7, where the warp's stretch
#: keeps the iris and its lights recognisable). Drawn wherever the lower lid opened, on squints
#: of 1.4-1.7 too, the made-up eyeball lowered the closed loop's AU05 (session 11: GRID lbax4n
#: open 0.68 -> 0.32, jwp closed 0.63 -> 0.28).
STRETCH_FROM = 1.75
STRETCH_FULL = 2.0
#: Depths below the iris centre are counted from at least this share of its radius (an iris
#: centre at the photo's lower lid line would make any opening an infinite stretch).
DEPTH_FLOOR = 0.25


def _radius(points: np.ndarray, iris: tuple[int, ...]) -> float:
    """An iris's radius (pixels): the mean distance of its ring landmarks from its centre (the
    first of ``iris``) in the (478, 2) ``points``."""
    return float(np.linalg.norm(points[list(iris[1:])] - points[iris[0]], axis=1).mean())


def _line(xs: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The height of a lid contour ((k, 2) points, left to right) at each x (linear, held past
    its ends); the shape of ``xs``."""
    return np.interp(xs, points[:, 0], points[:, 1])


class Eyeballs:
    """Both eyes of one photo: their lids and iris centres, and the eyeball layer of a frame.

    Args:
        points: (478, 2) the photo's landmarks in the warped region's pixels.
        basis: (R, 478, 2) the warp's displacement per unit of each field weight (pixels).
        unit: The eye distance (pixels).
        still_rows: The field-weight rows the eyeball does not follow (the lid AUs); it moves
            with the others as its iris centre does.
        roll_row: The field-weight row of the head's roll (radians): the eyeball also turns
            with it about its iris centre.
        image: (rh, rw, 3) uint8 the photo's warped region: the eyeball where a lid opens further
            than in the photo is drawn from it (:func:`eyeball_texture`; None: the warp stretches
            the photo's eye there).
    """

    def __init__(
        self,
        points: np.ndarray,
        basis: np.ndarray,
        unit: float,
        still_rows: list[int],
        roll_row: int,
        image: np.ndarray | None = None,
    ) -> None:
        self.unit = float(unit)
        self.roll_row = roll_row
        self.follow = np.ones(len(basis), np.float32)
        self.follow[still_rows] = 0.0
        index = []  # per eye: the upper and the lower contour, left to right, and the iris centre
        for upper, lower, iris in zip(EYE_UPPER, EYE_LOWER, IRISES, strict=True):
            # (lid motions and the head's small roll keep the contours' order)
            upper = [upper[k] for k in np.argsort(points[list(upper), 0])]
            lower = [lower[k] for k in np.argsort(points[list(lower), 0])]
            x = points[iris[0], :1]
            gap = float(_line(x, points[lower])[0] - _line(x, points[upper])[0])
            if gap >= MIN_UNCOVER * self.unit:
                index.append((upper, lower, iris[0], gap))
        # both eyes' upper contours left to right as one line, and their lower ones (between the
        # eyes both lines run from one inner corner to the other: no opening there)
        index.sort(key=lambda eye: float(points[eye[2], 0]))
        uppers = [i for u, *_ in index for i in u]
        lowers = [i for _, lo, *_ in index for i in lo]
        self.upper = points[uppers].astype(np.float64)  # (U, 2)
        self.lower = points[lowers].astype(np.float64)  # (L, 2)
        self.upper_basis = basis[:, uppers].reshape(len(basis), -1).astype(np.float64)
        self.lower_basis = basis[:, lowers].reshape(len(basis), -1).astype(np.float64)
        centres = [c for _, _, c, _ in index]
        #: (E,) 1 for the eyes open enough in the photo to show a still eyeball (MIN_VISIBLE)
        self.shows = np.array([g >= MIN_VISIBLE * self.unit for *_, g in index], np.float64)
        self.centres = points[centres].astype(np.float64)  # (E, 2), left to right
        self.centre_basis = basis[:, centres].reshape(len(basis), -1).astype(np.float64)
        # the column where the box's pixels change from one eye to the other (between the eyes)
        self.split = float(self.centres[:, 0].mean()) if centres else 0.0
        self.texture, self.texture_box = None, (0, 0, 0, 0)
        radii = np.array([_radius(points, iris) for iris in self._irises(index)])
        depth = _line(self.centres[:, 0], self.lower) - self.centres[:, 1]
        self.depth = np.maximum(depth, DEPTH_FLOOR * radii)  # (E,) the photo's, pixels
        # both eyes or neither: with one eye shut in the photo (a blink or a wink, not a squint:
        # jwp open) the other's "iris" is lid, and drawing it open beside the shut one made a
        # flat disc on a white almond
        if image is not None and len(centres) == len(IRISES):
            self._draw_eyeballs(image, points, index)

    def _draw_eyeballs(self, image: np.ndarray, points: np.ndarray, index: list) -> None:
        """The eyeballs a lid may uncover, drawn once (:func:`eyeball_texture`)."""
        room = UNCOVER_ROOM * self.unit
        x0 = max(int(min(self.upper[:, 0].min(), self.lower[:, 0].min())) - 2, 0)
        x1 = min(int(max(self.upper[:, 0].max(), self.lower[:, 0].max())) + 3, image.shape[1])
        y0 = max(int(self.upper[:, 1].min() - room), 0)
        y1 = min(int(np.ceil(self.lower[:, 1].max() + room)) + 1, image.shape[0])
        if x1 <= x0 or y1 <= y0:
            return
        eyes = []
        margin = []
        for (upper, lower, centre, gap), iris in zip(index, self._irises(index), strict=True):
            radius = _radius(points, iris)
            eyes.append((points[upper], points[lower], points[centre], radius))
            margin.append(min(SAMPLE_MARGIN * self.unit, UNCOVER_SAMPLE_SHARE * gap))
        self.texture = eyeball_texture(image, (x0, y0, x1, y1), eyes, margin)
        self.texture_box = (x0, y0, x1, y1)

    def drawn(self, moved_lo: np.ndarray, moved_centres: np.ndarray) -> np.ndarray:
        """(E,) how much of each eye's moved opening :meth:`paint` draws (0-1), by how far the
        moved lower lid stretches the photo's eye below the iris centre (:data:`STRETCH_FROM`).

        Args:
            moved_lo: (L, 2) the moved lower lid contours (pixels).
            moved_centres: (E, 2) the moved iris centres (pixels).
        """
        stretch = (_line(moved_centres[:, 0], moved_lo) - moved_centres[:, 1]) / self.depth
        return np.clip((stretch - STRETCH_FROM) / (STRETCH_FULL - STRETCH_FROM), 0.0, 1.0)

    @staticmethod
    def _irises(index: list) -> list:
        """The iris landmarks (centre first) of each eye in ``index`` (by its centre)."""
        return [next(iris for iris in IRISES if iris[0] == centre) for _, _, centre, _ in index]

    def apply(self, source: np.ndarray, coefficients: np.ndarray) -> tuple | None:
        """Sample the eyeballs in place of the warp inside each eye's moved opening.

        Args:
            source: (rh, rw, 2) float32 backward map (region pixels), changed in place.
            coefficients: (R,) the frame's field weights.

        Returns:
            What :meth:`paint` draws where a lid opened further than in the photo (None:
            nothing).
        """
        if len(self.centres) == 0:
            return None
        rh, rw = source.shape[:2]
        c = coefficients.astype(np.float64)
        up, lo = self.upper, self.lower
        moved_up = up + (c @ self.upper_basis).reshape(-1, 2)
        moved_lo = lo + (c @ self.lower_basis).reshape(-1, 2)
        shifts = ((c * self.follow) @ self.centre_basis).reshape(-1, 2)
        roll = float(c[self.roll_row])
        # the box of the moved openings (within the region)
        x0 = max(int(min(moved_up[0, 0], moved_lo[0, 0])), 0)
        x1 = min(int(max(moved_up[-1, 0], moved_lo[-1, 0])) + 2, rw)
        y0 = max(int(moved_up[:, 1].min()), 0)
        y1 = min(int(moved_lo[:, 1].max()) + 2, rh)
        if x1 <= x0 or y1 <= y0:
            return None
        xs = np.arange(x0, x1, dtype=np.float64)
        ys = np.arange(y0, y1, dtype=np.float64)[:, None]
        # each column's eye: its iris centre and the head's motion of it
        eye = np.minimum((xs > self.split).astype(np.intp), len(self.centres) - 1)
        centre, moved_centre = self.centres[eye], self.centres[eye] + shifts[eye]
        # the eyeball's point in the photo for each pixel (shifted with its iris centre, turned
        # about it by the roll; to first order, as the head's basis is)
        mx, my = xs - moved_centre[:, 0], ys - moved_centre[:, 1]
        cx = centre[:, 0] + mx
        px, py = cx + roll * my, centre[:, 1] + my - roll * mx
        # how far inside both the moved opening and the photo's (the photo's lines at each
        # column: the roll tilts them by less than a pixel across an eye)
        top, bottom = _line(xs, moved_up), _line(xs, moved_lo)
        photo_top, photo_bottom = _line(cx, up), _line(cx, lo)
        inside = np.minimum(
            np.minimum(ys - top, bottom - ys) - LID_MARGIN * self.unit,
            np.minimum(py - photo_top, photo_bottom - py) - SAMPLE_MARGIN * self.unit,
        )
        # ... in the columns where neither lid opened further than in the photo (where one did,
        # the warp stretches the eye between the still iris centre and that lid: the eyeball
        # sampled still below it showed the top of the iris twice, still and stretched)
        lift = centre[:, 1] - moved_centre[:, 1]  # the head's motion of the photo's lid lines
        opened = np.maximum(photo_top - lift - top, bottom - photo_bottom + lift)
        # ... where the lower lid did on a strong squint (:meth:`drawn`), :meth:`paint` draws the
        # eyeball over the whole moved opening (the still eyeball's points ``px``, ``py``)
        uncovered = None
        drawn = None if self.texture is None else self.drawn(moved_lo, self.centres + shifts)
        if drawn is not None and drawn.any():
            lowered = bottom - photo_bottom + lift - UNCOVER_LEAST * self.unit
            moved_inside = np.minimum(ys - top, bottom - ys) - LID_MARGIN * self.unit
            paint = np.clip(moved_inside * (1.0 / FEATHER_PX) + 0.5, 0.0, 1.0)
            paint *= np.clip(lowered * (1.0 / FEATHER_PX) + 0.5, 0.0, 1.0) * drawn[eye]
            if paint.any():
                tx, ty = self.texture_box[:2]
                at = np.stack([np.broadcast_to(px, paint.shape) - tx, py - ty], -1)
                uncovered = (y0, x0, paint.astype(np.float32), at.astype(np.float32))
        inside = np.minimum(inside, 0.5 * FEATHER_PX - opened)  # all of it up to no opening
        inside = np.where(self.shows[eye] > 0, inside, -FEATHER_PX)  # a shut eye: the warp's
        weight = np.clip(inside * (1.0 / FEATHER_PX) + 0.5, 0.0, 1.0)
        if weight.any():
            box = source[y0:y1, x0:x1]
            box += weight[..., None] * (np.stack([px, py], -1) - box)
        return uncovered

    def paint(self, warped: np.ndarray, uncovered: tuple | None) -> None:
        """Draw the eyeball (the photo's where it shows it, made up elsewhere) over the columns
        of the moved openings where a lid opened further than in the photo.

        Args:
            warped: (rh, rw, 3) uint8 the warped region, changed in place.
            uncovered: What :meth:`apply` returned for the frame.
        """
        if uncovered is None:
            return
        y0, x0, weight, at = uncovered
        h, w = weight.shape
        eyeball = cv2.remap(self.texture, at, None, cv2.INTER_LINEAR, cv2.BORDER_REPLICATE)
        box = warped[y0 : y0 + h, x0 : x0 + w].astype(np.float32)
        box += weight[..., None] * (eyeball - box)
        warped[y0 : y0 + h, x0 : x0 + w] = np.clip(box + 0.5, 0, 255).astype(np.uint8)
