"""The inside of a mouth a closed-mouth photo does not show, drawn from the photo's own colours.

When the AUs part the lips of a photo whose mouth is closed, :class:`Interior` draws what a real
open mouth shows between the moved inner lips, back to front:

- the cavity, darker towards the back (the middle of the opening) and the corners, with a thin
  shadow under the upper lip;
- the tongue, a rounded darker red shape low in the cavity, lit along its top;
- the lower teeth, only at wide openings, just above the lower lip;
- the upper teeth hanging from the upper lip at a fixed size in face units, with a soft lower edge
  and a slight vertical gradient, hiding towards the corners.

The opening's outline is a smooth curve through the moved inner-lip landmarks (a Catmull-Rom
spline, not their polygon), and the paint is blurred to the photo's sharpness around the mouth
and given its grain (:func:`photo_blur_sigma`, :func:`photo_noise_sigma`), so that it neither
looks pasted on a soft photo nor shows a seam where it meets the warped lips.

All coordinates are pixels of the face region (the ROI the warp works on).
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from espnet_cause.render.face_geometry import smoothstep

#: Samples per landmark segment of the Catmull-Rom spline through the inner-lip landmarks.
SPLINE_SAMPLES = 6
#: The upper teeth: at most TEETH_MAX face units tall (a tooth keeps its size at any opening) and
#: at most TEETH_FRACTION of the lip gap (a narrow opening shows their edges, a dark band below);
#: full height out to TEETH_FLAT of the way from the middle to the corners, none from TEETH_SPAN on
#: (sessions 3-8: to the corners, they followed the opened lips' steep sides as grey bars).
TEETH_FRACTION = 0.55
TEETH_MAX = 0.1
TEETH_FLAT = 0.3
TEETH_SPAN = 0.7
#: ... in the shadow of the upper lip at their top (this much darker, fading over LIP_SHADOW_DEPTH
#: face units), a little darker at the biting edge (TEETH_EDGE_DARKEN) and towards the sides
#: (TEETH_SIDE_DARKEN at TEETH_SPAN: the arch turns away from the light).
LIP_SHADOW = 0.45
LIP_SHADOW_DEPTH = 0.02
TEETH_EDGE_DARKEN = 0.15
TEETH_SIDE_DARKEN = 0.35
#: The lower teeth show at wide openings only: LOWER_TEETH_MAX face units tall, fading in as the
#: gap grows from LOWER_TEETH_FROM to twice that (face units), as dark as LOWER_TEETH_SHADE of the
#: upper teeth (the upper lip and teeth shade them); half as wide a span.
LOWER_TEETH_MAX = 0.035
LOWER_TEETH_FROM = 0.3
LOWER_TEETH_SHADE = 0.7
LOWER_TEETH_SPAN = 0.45
#: The tongue: a dome over the lower lip, TONGUE_SHARE of the gap tall (at most TONGUE_MAX face
#: units), across TONGUE_SPAN of the mouth's half width; TONGUE_DARKEN of the lips' colour, lit
#: along its top (TONGUE_LIGHT brighter, fading over a third of its height).
TONGUE_SHARE = 0.35
TONGUE_MAX = 0.16
TONGUE_SPAN = 0.75
TONGUE_DARKEN = 0.45
TONGUE_LIGHT = 0.25
#: The cavity: the lips' colour times CAVITY_DARKEN at its walls, darker by up to CAVITY_DEPTH at
#: the back (the middle of the gap) and by CAVITY_CORNERS at the corners (the cheeks' shadow).
CAVITY_DEPTH = 0.6
CAVITY_CORNERS = 0.5
#: The photo's blur around the mouth: the reblur ratio of the gradient at its strongest
#: EDGE_QUANTILE of pixels, with a Gaussian of BLUR_PROBE_SIGMA pixels; the paint's blur is
#: clamped to BLUR_RANGE pixels (an unblurred paint still needs anti-aliasing).
EDGE_QUANTILE = 0.97
BLUR_PROBE_SIGMA = 1.0
BLUR_RANGE = (0.5, 3.0)
#: The photo's grain: the robust (median) estimate of white noise from its Laplacian-like 3x3
#: response around the mouth, at most NOISE_MAX grey levels.
NOISE_MAX = 6.0
#: Side (pixels) of the square tile of grain repeated over the face region.
GRAIN_TILE = 128
#: The region measured: the mouth's landmark box widened by this many face units.
MEASURE_MARGIN = 0.3


def catmull_rom(points: np.ndarray, samples: int = SPLINE_SAMPLES) -> np.ndarray:
    """((n - 1) * samples + 1, 2) points on the uniform Catmull-Rom spline through (n, 2) ``points``
    (the ends extended by reflection), in order, through every input point."""
    ext = np.concatenate([2 * points[:1] - points[1:2], points, 2 * points[-1:] - points[-2:-1]])
    n = len(points)
    windows = ext[np.arange(n - 1)[:, None] + np.arange(4)]  # (n - 1, 4, 2)
    curve = np.einsum("sk,nkc->nsc", _catmull_rom_weights(samples), windows).reshape(-1, 2)
    return np.concatenate([curve, points[-1:]]).astype(np.float32)


@functools.cache
def _catmull_rom_weights(samples: int) -> np.ndarray:
    """(samples, 4) float32 weights of P(i-1), P(i), P(i+1), P(i+2) at ``samples`` steps of t
    (the Catmull-Rom basis; the same for every curve, so computed once)."""
    t = np.arange(samples, dtype=np.float32)[:, None] / samples
    return 0.5 * np.concatenate(
        [-t + 2 * t**2 - t**3, 2 - 5 * t**2 + 3 * t**3, t + 4 * t**2 - 3 * t**3, -(t**2) + t**3],
        axis=1,
    )


def photo_blur_sigma(gray: np.ndarray) -> float:
    """Gaussian blur (pixels) of an (h, w) float32 grey region, from how much a further blur of
    :data:`BLUR_PROBE_SIGMA` lowers the gradient at its strongest edges (a step blurred by s has
    peak gradient ~ 1/s: the ratio r gives s = probe / sqrt(r^2 - 1)); in :data:`BLUR_RANGE`."""

    def gradient(image: np.ndarray) -> np.ndarray:
        gx = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3)
        return np.hypot(gx, gy)[2:-2, 2:-2]

    sharp = gradient(gray)
    soft = gradient(cv2.GaussianBlur(gray, (0, 0), BLUR_PROBE_SIGMA))
    edges = sharp >= np.quantile(sharp, EDGE_QUANTILE)
    ratio = float(sharp[edges].sum()) / max(float(soft[edges].sum()), 1e-6)
    if ratio <= 1.0 + 1e-3:
        return BLUR_RANGE[1]
    sigma = BLUR_PROBE_SIGMA / np.sqrt(ratio * ratio - 1.0)
    return float(np.clip(sigma, *BLUR_RANGE))


def photo_noise_sigma(gray: np.ndarray) -> float:
    """White-noise level (grey levels) of an (h, w) float32 grey region: the median absolute
    response of the 3x3 mask [[1, -2, 1], [-2, 4, -2], [1, -2, 1]] (gain 6 on white noise) over
    0.6745 (Immerkaer's estimate, made robust to edges by the median); at most :data:`NOISE_MAX`."""
    mask = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    response = cv2.filter2D(gray, cv2.CV_32F, mask)[1:-1, 1:-1]
    return float(min(np.median(np.abs(response)) / (0.6745 * 6.0), NOISE_MAX))


class Interior:
    """The photo's look for the painted interior: its colours, blur and grain around the mouth."""

    def __init__(
        self,
        *,
        photo: np.ndarray,
        lips: np.ndarray,
        unit: float,
        colours: tuple[np.ndarray, np.ndarray, np.ndarray],
    ) -> None:
        """Measure the photo around its mouth.

        Args:
            photo: (h, w, 3) uint8 RGB face region.
            lips: (n, 2) lip landmarks (ROI pixels).
            unit: The eye distance (pixels).
            colours: RGB float32 (3,) each: the lips' median, the cavity and the teeth colours.
        """
        self.unit = unit
        self.lip_rgb, self.cavity_rgb, self.teeth_rgb = colours
        margin = MEASURE_MARGIN * unit
        x0, y0 = np.floor(lips.min(0) - margin).astype(int)
        x1, y1 = np.ceil(lips.max(0) + margin).astype(int)
        h, w = photo.shape[:2]
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        gray = cv2.cvtColor(photo[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY).astype(np.float32)
        if min(gray.shape) >= 8:
            self.blur = photo_blur_sigma(gray)
            self.noise = photo_noise_sigma(gray)
        else:
            self.blur, self.noise = BLUR_RANGE[0], 0.0
        # a fixed grain (the photo's own grain is fixed too), tiled over the ROI's pixels
        rng = np.random.default_rng(0)
        self.grain = (rng.standard_normal((GRAIN_TILE, GRAIN_TILE, 3)) * self.noise).astype(
            np.float32
        )

    def paint(self, roi: np.ndarray, upper: np.ndarray, lower: np.ndarray, alpha: float) -> None:
        """Draw the interior between the moved inner lips into ``roi`` in place.

        Args:
            roi: (h, w, 3) uint8 warped face region.
            upper: (n, 2) moved inner upper-lip landmarks, corner to corner (ROI pixels).
            lower: (n, 2) moved inner lower-lip landmarks, the same corners at its ends.
            alpha: Opacity (0-1; the paint fades in over the first pixels of an opening).
        """
        top_curve, bottom_curve = catmull_rom(upper), catmull_rom(lower)
        outline = np.concatenate([top_curve, bottom_curve[::-1]])
        margin = 2 + int(np.ceil(2.5 * self.blur))
        box = box_around(outline, margin, roi.shape)
        if box is None:
            return
        x0, y0, x1, y1 = box
        cover = coverage(outline, box)
        rows, cols = np.flatnonzero(cover.any(1)), np.flatnonzero(cover.any(0))
        if len(rows) == 0:
            return
        a = cover * alpha
        # the colours count only where the outline covers a pixel: worked out over those rows
        # and columns of the box (the blur's margin stays 0)
        r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        colour = self._colours(top_curve, bottom_curve, (x0 + c0, y0 + r0, x0 + c1, y0 + r1))
        pre = np.zeros((y1 - y0, x1 - x0, 3), np.float32)
        pre[r0:r1, c0:c1] = colour * _channels(a[r0:r1, c0:c1])
        # blurred to the photo's sharpness (premultiplied: the edge blends into the lips)
        a = _channels(cv2.GaussianBlur(a, (0, 0), self.blur))
        pre = cv2.GaussianBlur(pre, (0, 0), self.blur)
        patch = roi[y0:y1, x0:x1].astype(np.float32)
        out = patch * (1.0 - a) + pre
        if self.noise > 0.0:
            out += self._grain(box) * a
        roi[y0:y1, x0:x1] = np.clip(out + 0.5, 0, 255).astype(np.uint8)

    def _grain(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """(h, w, 3) float32 grain over ``box`` (the tile repeated over the ROI's pixels)."""
        x0, y0, x1, y1 = box
        ty, tx = y0 % GRAIN_TILE, x0 % GRAIN_TILE
        if ty + y1 - y0 <= GRAIN_TILE and tx + x1 - x0 <= GRAIN_TILE:  # within one tile
            return self.grain[ty : ty + y1 - y0, tx : tx + x1 - x0]
        rows, cols = np.arange(y0, y1) % GRAIN_TILE, np.arange(x0, x1) % GRAIN_TILE
        return self.grain[np.ix_(rows, cols)]

    def _colours(
        self, top_curve: np.ndarray, bottom_curve: np.ndarray, box: tuple[int, int, int, int]
    ) -> np.ndarray:
        """(h, w, 3) float32 colours of the interior over ``box``, in the mouth's own frame (along
        the line between its corners, and across it)."""
        x0, y0, x1, y1 = box
        left, right = top_curve[0], top_curve[-1]
        along = right - left
        half = max(0.5 * float(np.hypot(*along)), 1e-3)
        ex = along / (2.0 * half)
        ey = np.array([-ex[1], ex[0]], np.float32)  # down in the image for an upright mouth
        centre = 0.5 * (left + right)
        xs = np.arange(x0, x1, dtype=np.float32) - centre[0]  # (w,)
        ys = np.arange(y0, y1, dtype=np.float32)[:, None] - centre[1]  # (h, 1)
        a = xs * ex[0] + ys * ex[1]  # along the mouth (pixels)
        b = xs * ey[0] + ys * ey[1]  # across it, downwards
        top = _edge(top_curve - centre, ex, ey, a)
        bottom = _edge(bottom_curve - centre, ex, ey, a)
        gap = np.maximum(bottom - top, 1e-3)
        s = np.abs(a) / half  # 0 in the middle, 1 at the corners
        below = b - top  # pixels under the upper lip
        depth = np.clip(below / gap, 0.0, 1.0)  # 0 at the upper lip, 1 at the lower
        unit = self.unit
        # the cavity: darker at the back and towards the corners
        # (each part's colour is its base colour times a level: the cavity's, the lips' (the
        # tongue) and the teeth's; mixed as three (h, w) weights, one (h, w, 3) sum at the end)
        cavity = (1.0 - CAVITY_DEPTH * np.sin(np.pi * depth)) * (1.0 - CAVITY_CORNERS * s * s)
        # the tongue: a dome over the middle of the lower lip, lit along its top
        mid = np.array([0.0], np.float32)
        floor = float(_edge(bottom_curve - centre, ex, ey, mid)[0])
        t_max = min(
            TONGUE_SHARE * (floor - float(_edge(top_curve - centre, ex, ey, mid)[0])),
            TONGUE_MAX * unit,
        )
        across = np.clip(s / TONGUE_SPAN, 0.0, 1.0)
        t_h = t_max * np.sqrt(1.0 - across * across)
        inside = b - (floor - t_h)  # pixels below the tongue's top
        cover = np.clip(inside + 0.5, 0.0, 1.0) * (t_h > 0.5)
        lit = 1.0 + TONGUE_LIGHT * np.exp(-3.0 * np.maximum(inside, 0.0) / max(t_max, 1.0))
        cavity *= 1.0 - cover
        tongue = cover * TONGUE_DARKEN * lit * (1.0 - 0.4 * across * across)
        # the lower teeth, at wide openings, in front of the tongue (none where no column's gap
        # is wider than LOWER_TEETH_FROM: ``wide`` is 0)
        teeth = np.zeros_like(cavity)
        if float(gap.max()) > LOWER_TEETH_FROM * unit:
            wide = smoothstep(gap / (LOWER_TEETH_FROM * unit) - 1.0)
            side = np.clip(s / LOWER_TEETH_SPAN, 0.0, 1.0)
            l_h = LOWER_TEETH_MAX * unit * wide * (1.0 - smoothstep(2.0 * side - 1.0))
            cover = np.clip(b - (bottom - l_h) + 0.5, 0.0, 1.0) * (l_h > 0.3)
            behind = 1.0 - cover
            cavity *= behind
            tongue *= behind
            teeth = cover * LOWER_TEETH_SHADE * (1.0 - TEETH_SIDE_DARKEN * side)
        # the upper teeth, hanging from the upper lip, in front
        side = np.clip((s - TEETH_FLAT) / (TEETH_SPAN - TEETH_FLAT), 0.0, 1.0)
        u_h = np.minimum(TEETH_FRACTION * gap, TEETH_MAX * unit) * (1.0 - smoothstep(side))
        cover = np.clip(u_h - below + 0.5, 0.0, 1.0) * (u_h > 0.3)
        level = (1.0 - TEETH_EDGE_DARKEN * np.clip(below / np.maximum(u_h, 1.0), 0.0, 1.0)) * (
            1.0 - TEETH_SIDE_DARKEN * side
        )
        behind = 1.0 - cover
        cavity *= behind
        tongue *= behind
        teeth += cover * (level - teeth)
        # the upper lip's shadow over all of it
        shadow = 1.0 - LIP_SHADOW * np.exp(-np.maximum(below, 0.0) / (LIP_SHADOW_DEPTH * unit))
        cavity *= shadow
        tongue *= shadow
        teeth *= shadow
        rgb = self.cavity_rgb, self.lip_rgb, self.teeth_rgb
        return cv2.merge([cavity * c + tongue * lip + teeth * t for c, lip, t in zip(*rgb)])


def _channels(x: np.ndarray) -> np.ndarray:
    """(h, w, 3) float32: an (h, w) float32 weight for each colour channel (an elementwise
    product with an (h, w, 3) array is several times faster than broadcasting ``x[..., None]``)."""
    return cv2.merge([x, x, x])


def _edge(curve: np.ndarray, ex: np.ndarray, ey: np.ndarray, a: np.ndarray) -> np.ndarray:
    """(h, w) position across the mouth of a lip's ``curve`` (centred, (m, 2)) at positions ``a``
    along it (mouth frame: ``ex`` along, ``ey`` across)."""
    ca, cb = curve @ ex, curve @ ey
    order = np.argsort(ca)
    return np.interp(a, ca[order], cb[order]).astype(np.float32)


def box_around(
    points: np.ndarray, margin: int, shape: tuple[int, ...]
) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) pixel box around ``points`` widened by ``margin`` inside an image of
    ``shape``, None when it is less than 2 pixels wide or high."""
    x0, y0 = np.floor(points.min(0)).astype(int) - margin
    x1, y1 = np.ceil(points.max(0)).astype(int) + margin + 1
    x0, y0 = max(int(x0), 0), max(int(y0), 0)
    x1, y1 = min(int(x1), shape[1]), min(int(y1), shape[0])
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return x0, y0, x1, y1


def coverage(polygon: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """(y1 - y0, x1 - x0) float32 coverage (0-1, anti-aliased, sub-pixel) of ``polygon`` in
    ``box``."""
    x0, y0, x1, y1 = box
    shift = 4  # fixed-point bits for sub-pixel polygon drawing
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    pts = np.round((polygon - np.array([x0, y0], np.float32)) * (1 << shift)).astype(np.int32)
    cv2.fillPoly(mask, [pts], 255, cv2.LINE_AA, shift)
    return mask.astype(np.float32) / 255.0
