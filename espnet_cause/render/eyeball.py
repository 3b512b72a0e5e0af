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
"""

from __future__ import annotations

import numpy as np

from espnet_cause.render.warp_motion import EYE_LOWER, EYE_UPPER, IRISES

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
    """

    def __init__(
        self,
        points: np.ndarray,
        basis: np.ndarray,
        unit: float,
        still_rows: list[int],
        roll_row: int,
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
            if gap >= MIN_VISIBLE * self.unit:
                index.append((upper, lower, iris[0]))
        # both eyes' upper contours left to right as one line, and their lower ones (between the
        # eyes both lines run from one inner corner to the other: no opening there)
        index.sort(key=lambda eye: float(points[eye[2], 0]))
        uppers = [i for u, _, _ in index for i in u]
        lowers = [i for _, lo, _ in index for i in lo]
        self.upper = points[uppers].astype(np.float64)  # (U, 2)
        self.lower = points[lowers].astype(np.float64)  # (L, 2)
        self.upper_basis = basis[:, uppers].reshape(len(basis), -1).astype(np.float64)
        self.lower_basis = basis[:, lowers].reshape(len(basis), -1).astype(np.float64)
        centres = [c for _, _, c in index]
        self.centres = points[centres].astype(np.float64)  # (E, 2), left to right
        self.centre_basis = basis[:, centres].reshape(len(basis), -1).astype(np.float64)
        # the column where the box's pixels change from one eye to the other (between the eyes)
        self.split = float(self.centres[:, 0].mean()) if centres else 0.0

    def apply(self, source: np.ndarray, coefficients: np.ndarray) -> None:
        """Sample the eyeballs in place of the warp inside each eye's moved opening.

        Args:
            source: (rh, rw, 2) float32 backward map (region pixels), changed in place.
            coefficients: (R,) the frame's field weights.
        """
        if len(self.centres) == 0:
            return
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
            return
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
        inside = np.minimum(inside, 0.5 * FEATHER_PX - opened)  # all of it up to no opening
        weight = np.clip(inside * (1.0 / FEATHER_PX) + 0.5, 0.0, 1.0)
        if not weight.any():
            return
        box = source[y0:y1, x0:x1]
        box += weight[..., None] * (np.stack([px, py], -1) - box)
