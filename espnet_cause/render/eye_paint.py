"""The eyeballs under moving lids, for the warp renderer.

The warp moves the lids' landmarks and stretches or squeezes whatever lies between them: an eye
opened wider than in the photo (AU05, or a photo's squint relaxed) stretched the strip of lashes
and iris top into a dark band (the specular lights of the iris into bars), and the tracker did not
see the lid rise (its ``eyeWide`` hardly moved). Here the eyeball stays still instead, as in a
face: inside the lids' moved opening every pixel samples the photo's eye carried only by what is
not a lid motion (the head, a translation per eye), and where the lids open wider than in the
photo the hidden eyeball is painted, the iris disc in the photo's iris colour, the rest in its
sclera's. Closing lids (AU07, AU45) then slide over the eyeball rather than squeeze it.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from espnet_cause.au import au_index
from espnet_cause.render.warp_motion import EYE_LOWER, EYE_UPPER, IRISES

#: The AUs whose motion of the lids is a lid motion (the eyeball stays); every other field row
#: (the head, the brows' anchors) carries the eyeball with the lids.
LID_MOVERS = tuple(au_index(a) for a in ("AU05", "AU06", "AU07", "AU45"))
#: Polygons are filled anti-aliased at 1/SUBPIXEL pixel (OpenCV's fixed-point ``shift``).
SHIFT = 2
SUBPIXEL = 1 << SHIFT
#: Lid motions below this (pixels) leave the eye to the warp.
MIN_LID_PX = 0.3
#: Lids closer than this (pixels, at their widest) are closed: the warp draws them; the eyeball
#: fades in over the next pixel.
CLOSED_GAP_PX = 1.0
#: Where a lid opens wider than in the photo, the photo's lash line (the dark margin just inside
#: the opening) is painted over this far (eye distances): left, it showed as a second lid line.
LASH_MARGIN = 0.02
#: The sclera's colour: near-grey (SCLERA_HUE of the hue of the brightest SCLERA_SHARE of the
#: visible eye pixels outside the irises, or of the skin under the eyes when fewer than
#: MIN_EYE_PIXELS show), as bright as the brighter of those pixels and that skin: on narrowed or
#: shaded eyes the "white" pixels are lashes and shade, and a sclera painted in their colour (tan
#: on GRID bbaf2n) read as skin, the lid as not raised (AU05's closed-loop r 0.20 -> 0.07 there).
#: The iris's colour: the median of the pixels inside the iris circles (fewer than
#: MIN_EYE_PIXELS: the darkest quarter of the eye's pixels).
SCLERA_SHARE = 0.25
MIN_EYE_PIXELS = 8
SCLERA_HUE = 0.25
#: The skin under the eyes: the lower lids' points this far below them (eye distances).
UNDER_EYE = 0.15
#: The painted eyeball is shaded by the lids: darker by up to LID_SHADE at their edges, the shade
#: falling off over about LID_SHADE_DEPTH (eye distances; a Gaussian of the opening's outline).
LID_SHADE = 0.25
LID_SHADE_DEPTH = 0.04


def _outline(eye: int) -> list[int]:
    """One eye's opening, corner to corner along the upper lid and back along the lower."""
    return list(EYE_UPPER[eye]) + list(EYE_LOWER[eye][::-1][1:-1])


def _fill(
    polygons: list[np.ndarray], shape: tuple[int, int], levels: list[float] | None = None
) -> np.ndarray:
    """(h, w) uint8 coverage (255: inside) of ``polygons`` (int32 box pixels times
    :data:`SUBPIXEL`, centres at integers), anti-aliased, each at its level (0-1, default 1)."""
    mask = np.zeros(shape, np.uint8)
    if levels is None or levels[0] == levels[1] == 1.0:
        cv2.fillPoly(mask, polygons, 255, cv2.LINE_AA, SHIFT)
        return mask
    for polygon, level in zip(polygons, levels, strict=True):
        if level > 0.0:
            cv2.fillPoly(mask, [polygon], int(round(255 * level)), cv2.LINE_AA, SHIFT)
    return mask


def eye_colours(
    image: np.ndarray, points: np.ndarray, unit: float
) -> tuple[np.ndarray, np.ndarray]:
    """(3,) float32 sclera and iris colours of a face's eyes (both eyes pooled).

    Args:
        image: (H, W, 3) uint8 RGB.
        points: (478, 2) landmarks in ``image``'s pixels.
        unit: The eye distance (pixels).
    """
    height, width = image.shape[:2]
    opening = np.zeros((height, width), np.uint8)
    irises = np.zeros((height, width), np.uint8)
    for eye, iris in enumerate(IRISES):
        cv2.fillPoly(opening, [np.round(points[_outline(eye)]).astype(np.int32)], 1)
        centre = points[iris[0]]
        radius = float(np.linalg.norm(points[list(iris[1:])] - centre, axis=1).mean())
        cv2.circle(irises, tuple(np.round(centre).astype(int).tolist()), int(round(radius)), 1, -1)
    eye = image[opening > 0].astype(np.float32)
    white = image[(opening > 0) & (irises == 0)].astype(np.float32)
    dark = image[(opening > 0) & (irises > 0)].astype(np.float32)
    under = points[list(EYE_LOWER[0] + EYE_LOWER[1])] + np.array([0.0, UNDER_EYE * unit])
    under = np.clip(np.round(under).astype(int), 0, [width - 1, height - 1])
    skin = np.median(image[under[:, 1], under[:, 0]].astype(np.float32), axis=0)
    hue = skin
    if len(white) >= MIN_EYE_PIXELS:
        bright = white.sum(axis=1)
        hue = white[bright >= np.quantile(bright, 1.0 - SCLERA_SHARE)].mean(axis=0)
    level = max(float(hue.mean()), float(skin.mean()))
    sclera = level * ((1.0 - SCLERA_HUE) + SCLERA_HUE * hue / max(float(hue.mean()), 1.0))
    if len(dark) >= MIN_EYE_PIXELS:
        iris_rgb = np.median(dark, axis=0)
    elif len(eye):
        bright = eye.sum(axis=1)
        iris_rgb = eye[bright <= np.quantile(bright, 0.25)].mean(axis=0)
    else:
        iris_rgb = 0.3 * sclera
    return sclera.astype(np.float32), iris_rgb.astype(np.float32)


class EyeFrame(NamedTuple):
    """One frame's eyes: the box around both (rows, columns of the region), the affine backward
    map of the box to the photo's eyes (2, 3), the lids' opening and the photo's (uint8 coverage
    of the box, 255 inside)."""

    box: tuple[slice, slice]
    move: np.ndarray
    inside: np.ndarray
    seen: np.ndarray


class EyePaint:
    """One face's eyeballs: kept still under the lids, painted where the lids open wider.

    Both eyes are done in one box around them. The eyeball is carried by the affine map that best
    takes the eyes' outlines where the field rows other than the lids' (:data:`LID_MOVERS`: the
    head's roll and shift, mostly) put them.

    Args:
        roi: (h, w, 3) uint8 RGB, the face region the warp samples.
        points: (478, 2) landmarks in ``roi`` pixels.
        basis: (K, 478, 2) the warp's landmark displacement per unit of each field row (pixels).
        unit: The eye distance (pixels).
    """

    def __init__(self, roi: np.ndarray, points: np.ndarray, basis: np.ndarray, unit: float):
        self.roi = roi
        outlines = [_outline(eye) for eye in range(2)]
        self.size = size = len(outlines[0])
        n_up = len(EYE_UPPER[0])
        self.rest = points[outlines[0] + outlines[1]].astype(np.float32)
        # (K, 2 * size * 2): one matrix product moves both outlines
        self.basis = basis[:, outlines[0] + outlines[1]].reshape(len(basis), -1).astype(np.float32)
        self.lids = np.zeros(len(basis), np.float32)
        self.lids[list(LID_MOVERS)] = 1.0
        along = np.tile(np.arange(size), 2)
        # -1 on the upper lids, 1 on the lower: a lid opens wider where its motion times this > 0
        self.opens = np.where(along < n_up, -1.0, 1.0).astype(np.float32)
        # the upper lids' middle points and the lower-lid points under them, eye by eye
        middle = np.arange(1, n_up - 1)
        self.gap_upper = np.stack([k * size + middle for k in range(2)])
        self.gap_lower = np.stack([k * size + size - middle for k in range(2)])
        # least squares: carried outlines = [rest, 1] @ X, X = pinv([rest, 1]) @ carried
        ones = np.ones((len(self.rest), 1), np.float32)
        self.fit = np.linalg.pinv(np.hstack([self.rest, ones])).astype(np.float32)
        self.iris_centres = points[[iris[0] for iris in IRISES]].astype(np.float32)
        self.iris_radii = [
            float(np.linalg.norm(points[list(iris[1:])] - points[iris[0]], axis=1).mean())
            for iris in IRISES
        ]
        self.lash = max(1.0, LASH_MARGIN * unit)
        depth = max(1.0, LID_SHADE_DEPTH * unit)
        self.shade_kernel = cv2.getGaussianKernel(2 * int(np.ceil(2 * depth)) + 1, depth)
        sclera, iris = eye_colours(roi, points, unit)
        # the hidden eyeball at rest: the sclera, the iris discs (anti-aliased)
        self.hidden = np.empty_like(roi)
        self.hidden[:] = np.clip(sclera + 0.5, 0, 255).astype(np.uint8)
        colour = np.clip(iris + 0.5, 0, 255).astype(np.uint8).tolist()
        for centre, radius in zip(self.iris_centres, self.iris_radii, strict=True):
            at = np.round(centre * SUBPIXEL).astype(int).tolist()
            cv2.circle(
                self.hidden, at, int(round(radius * SUBPIXEL)), colour, -1, cv2.LINE_AA, SHIFT
            )

    def frame(self, coefficients: np.ndarray) -> EyeFrame | None:
        """Where one frame's lids put the eyes' openings, for (K,) field weights (None: the lids
        do not move, the warp alone draws the eyes)."""
        lid = coefficients * self.lids
        if not lid.any():
            return None
        moves = (np.stack([coefficients - lid, lid]) @ self.basis).reshape(2, -1, 2)
        if float(np.abs(moves[1]).max()) < MIN_LID_PX:
            return None
        carried = self.rest + moves[0]
        lids = carried + moves[1]
        # where a lid opens wider, the photo's lash line inside the opening is painted over
        photo = carried.copy()
        opened = np.minimum(np.maximum(self.opens * moves[1][:, 1], 0.0), 1.0)
        photo[:, 1] -= self.opens * self.lash * opened
        both = np.concatenate([lids, photo])
        (x0, y0), (x1, y1) = both.min(axis=0).tolist(), both.max(axis=0).tolist()
        height, width = self.roi.shape[:2]
        x0, y0 = max(int(x0) - 2, 0), max(int(y0) - 2, 0)
        x1, y1 = min(int(x1) + 4, width), min(int(y1) + 4, height)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return None
        corner = np.array([x0, y0], np.float32)
        # lids meeting (a blink) leave the closed eye to the warp: its sliver of eyeball showed
        # as a light line between the lashes
        gaps = (lids[self.gap_lower, 1] - lids[self.gap_upper, 1]).max(axis=1)
        shown = np.minimum(np.maximum(gaps - CLOSED_GAP_PX, 0.0), 1.0).tolist()
        # both outlines, both eyes, in fixed point (box pixels)
        fixed = ((both - corner) * SUBPIXEL + 0.5).astype(np.int32)
        n = self.size
        size = (y1 - y0, x1 - x0)
        inside = _fill([fixed[:n], fixed[n : 2 * n]], size, shown)
        if not inside.any():
            return None
        seen = _fill([fixed[2 * n : 3 * n], fixed[3 * n :]], size)
        fit = self.fit @ carried  # (3, 2): carried = rest @ fit[:2] + fit[2]
        (a, b), (c, d) = fit[:2].T.tolist()
        det = a * d - b * c
        if abs(det) < 1e-6:
            return None
        ex, ey = (corner - fit[2]).tolist()
        move = np.array(
            [[d, -b, d * ex - b * ey], [-c, a, -c * ex + a * ey]], np.float32
        ) / np.float32(det)
        return EyeFrame((slice(y0, y1), slice(x0, x1)), move, inside, seen)

    def carry(self, source: np.ndarray, eyes: EyeFrame) -> None:
        """Inside the lids, a (h, w, 2) backward map (in place) samples the photo's eyes carried
        by the affine map alone: the warp samples the eyeball once, as everything else."""
        rows, cols = eyes.box
        box = source[rows, cols]
        xs = np.arange(cols.start, cols.stop, dtype=np.float32)[None] - cols.start
        ys = np.arange(rows.start, rows.stop, dtype=np.float32)[:, None] - rows.start
        (ax, bx, cx), (ay, by, cy) = eyes.move.tolist()
        alpha = eyes.inside.astype(np.float32) * np.float32(1 / 255)
        box[..., 0] += alpha * (ax * xs + bx * ys + cx - box[..., 0])
        box[..., 1] += alpha * (ay * xs + by * ys + cy - box[..., 1])

    def paint(self, warped: np.ndarray, eyes: EyeFrame) -> None:
        """Where the lids open wider than in the photo, paint the eyeball the photo hid into a
        warped (h, w, 3) uint8 frame of the region, in place: the iris disc, the sclera, shaded
        by the lids."""
        hidden = cv2.subtract(eyes.inside, eyes.seen)  # inside the lids, not in the photo's opening
        if not hidden.any():
            return
        rows, cols = eyes.box
        box = warped[rows, cols]
        paint = cv2.warpAffine(
            self.hidden,
            eyes.move,
            (box.shape[1], box.shape[0]),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )
        near_lid = cv2.sepFilter2D(eyes.inside, -1, self.shade_kernel, self.shade_kernel)
        shade = cv2.addWeighted(near_lid, LID_SHADE, near_lid, 0.0, 255 * (1 - LID_SHADE))
        paint = cv2.multiply(paint, cv2.merge([shade] * 3), scale=1 / 255)
        weight = hidden.astype(np.float32) * np.float32(1 / 255)
        box[:] = cv2.blendLinear(paint, box, weight, 1.0 - weight)
