"""The closed lips of a photo whose mouth is open, closed by the AUs: their inner parts and seam.

Closing a photo's open mouth presses its lips together: the warp squeezes each lip's inner part
(the wet inner lip, the edge of the teeth) into a few rows along the meeting line, where it shows
as light streaks and flecks, and the line where the lips meet follows the folded map's pixel
steps (:meth:`~espnet_cause.render.mouth_paint.MouthPaint.cover` hides only what samples the
interior itself). :class:`ClosedSeam` draws over the pixels that sample the interior or a lip's
inner part (:data:`BAND_SHARE` of its thickness) what closed lips show there:

- each lip's own colour from its dry outer part (sampled once per photo along the lip,
  :data:`BODY_SHARE` of the way out, smoothed along the mouth so that no column's streak is
  carried in), with the photo's grain, the band's edge smoothed in the frame (no pixel steps);
- the meeting line: where the pixels' samples cross the interior's middle, on to the moved mouth
  corners, smoothed along the mouth, shaded as the photos' closed lips are (:data:`SEAM_DARKEN`:
  a redder shadow of the lips, as wide as :data:`SEAM_WIDTH` times the photo's blur).

All coordinates are pixels of the face region (the ROI the warp works on).
"""

from __future__ import annotations

import cv2
import numpy as np

from espnet_cause.render.face_geometry import smoothstep
from espnet_cause.render.mouth_interior import GRAIN_TILE

#: The seam's shadow, per RGB channel: its darkest point is SEAM_DARKEN darker than the lips
#: there. On the 11 closed-mouth dev photos (the demo photo and the /tmp/devset ones whose lips
#: are less than OPEN_MOUTH_GAP apart) the meeting line's darkest point, against the lips' middle,
#: is 0.09-0.45 darker in red, 0.19-0.72 in green, 0.15-0.77 in blue: medians (0.29, 0.42, 0.51).
#: A closed line is a redder shadow of the lips (light passes through them); one darkness for
#: the three channels (0.35) drew a grey pencil line.
SEAM_DARKEN = (0.29, 0.42, 0.51)
#: The seam's width: a Gaussian of SEAM_WIDTH times the photo's own blur around the mouth
#: (:func:`~espnet_cause.render.mouth_interior.photo_blur_sigma`). On the same 11 photos the
#: line's width at half its darkness, over 2.355 (a Gaussian's), is 1.28-3.5 times that blur,
#: median 1.53: a soft photo's closed lips meet on a soft, wide line (a crease as wide as the
#: blur alone was half as wide as the same speakers' closed photos show on jwp and eNTERFACE
#: anger, and looked drawn).
SEAM_WIDTH = 1.53
#: The shadow fades out over this share of the mouth's width at each corner, so it reaches them
#: (fading over the outer 8 % left the corners' droop under AU15 less read: on GRID s4 open, a
#: sweep of AU12, AU15, AU17, AU20, AU23, AU15 r 0.59 against 0.79 at 0.001; main 0.80).
SEAM_END = 0.001
#: The line's height per column is smoothed along the mouth by a Gaussian of this many eye
#: distances (where the map folds, the crossing jumps by a pixel from column to column).
SEAM_SMOOTH = 0.03
#: Redrawn: the pixels sampling the interior or the inner BAND_SHARE of a lip's thickness, fading
#: out over the band's outer FADE_SHARE; the band's edge blurred in the frame by EDGE_BLUR_PX.
BAND_SHARE = 0.75
FADE_SHARE = 0.5
EDGE_BLUR_PX = 0.8
#: Each lip's colour: sampled BODY_SHARE of the way from its inner to its outer edge (past the
#: wet inner part, short of the skin's border), smoothed along the mouth by a Gaussian of
#: COLOUR_SMOOTH eye distances (the photo's columns streaked the covered lips, session 7).
BODY_SHARE = 0.65
COLOUR_SMOOTH = 0.03


class ClosedSeam:
    """The closed lips' inner parts and seam over one photo's open mouth (see the module)."""

    def __init__(
        self,
        *,
        photo: np.ndarray,
        contours: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        unit: float,
        grain: np.ndarray,
        blur: float,
    ) -> None:
        """Sample the photo's lips.

        Args:
            photo: (h, w, 3) uint8 RGB face region.
            contours: (m, 2) each (ROI pixels): the inner upper, inner lower, outer upper and
                outer lower lip.
            unit: The eye distance (pixels).
            grain: (GRAIN_TILE, GRAIN_TILE, 3) float32 grain at the photo's level.
            blur: The photo's blur around the mouth (Gaussian sigma, pixels).
        """
        self.unit = unit
        self.grain = grain
        self.sigma = SEAM_WIDTH * blur  # the seam's Gaussian (pixels)
        # each contour's y along x (sorted for np.interp)
        self.edges = [c[np.argsort(c[:, 0])].T.astype(np.float32) for c in contours]
        iu, il, ou, ol = self.edges
        self.x0 = float(np.floor(min(e[0].min() for e in self.edges)))
        xs = np.arange(self.x0, np.ceil(max(e[0].max() for e in self.edges)) + 1, dtype=np.float32)
        inner_u, inner_l = np.interp(xs, *iu), np.interp(xs, *il)
        body_u = inner_u + BODY_SHARE * (np.interp(xs, *ou) - inner_u)
        body_l = inner_l + BODY_SHARE * (np.interp(xs, *ol) - inner_l)
        sigma = max(COLOUR_SMOOTH * unit, 0.5)
        tables = []
        for ys in (body_u, body_l):
            at = np.stack([xs, ys], -1)[None].astype(np.float32)
            row = cv2.remap(photo, at, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            tables.append(cv2.GaussianBlur(row.astype(np.float32), (0, 0), sigma, sigmaY=1e-3))
        self.colours = tables  # (1, n, 3) each: the upper and the lower lip along x

    def pad(self) -> int:
        """Pixels the redrawn patch reaches past the band (the seam's shadow and blur)."""
        return 2 + int(np.ceil(3.0 * self.sigma))

    def paint(
        self,
        roi: np.ndarray,
        source: np.ndarray,
        box: tuple[int, int, int, int],
        corners: np.ndarray,
        weight: float,
    ) -> None:
        """Redraw the closed lips' inner parts and seam into ``roi`` in place.

        Args:
            roi: (h, w, 3) uint8 warped face region.
            source: (h, w, 2) float32 where each of its pixels samples the photo (ROI pixels).
            box: (x0, y0, x1, y1) the only pixels that may sample the lips, at least
                :meth:`pad` pixels past them.
            corners: (2, 2) the moved mouth corners (ROI pixels; the line runs between them).
            weight: Opacity (0-1: how far the lips are closed).
        """
        bx0, by0, bx1, by1 = box
        pad = self.pad()
        src = source[by0:by1, bx0:bx1]
        sx, sy = src[..., 0], src[..., 1]
        iu, il, ou, ol = (np.interp(sx, *e) for e in self.edges)
        # how deep inside the interior and the lips' inner parts (pixels of the photo)
        reach_u, reach_l = BAND_SHARE * (iu - ou), BAND_SHARE * (ol - il)
        depth = np.minimum(sy - (iu - reach_u), (il + reach_l) - sy)
        fade = FADE_SHARE * np.maximum(np.minimum(reach_u, reach_l), 1.0)
        ends = self.edges[0][0]
        depth = np.minimum(depth, np.minimum(sx - ends[0], ends[-1] - sx) + fade)
        alpha = smoothstep(depth / fade)
        rows, cols = np.nonzero(alpha > 0.0)
        if len(rows) == 0:
            return
        y0, y1 = max(int(rows.min()) - pad, 0), min(int(rows.max()) + pad + 1, by1 - by0)
        x0, x1 = max(int(cols.min()) - pad, 0), min(int(cols.max()) + pad + 1, bx1 - bx0)
        if y1 - y0 < 3 or x1 - x0 < 3:
            return
        sx, sy, alpha = sx[y0:y1, x0:x1], sy[y0:y1, x0:x1], alpha[y0:y1, x0:x1]
        middle = 0.5 * (iu + il)[y0:y1, x0:x1]
        alpha = cv2.GaussianBlur(alpha.astype(np.float32), (0, 0), EDGE_BLUR_PX)
        line, valid = _crossing(sy - middle, alpha)
        columns = np.arange(line.size, dtype=np.float32)
        # the line through the crossings, on to the corners (the mouth's ends), smoothed
        ends = corners - np.array([bx0 + x0, by0 + y0], np.float32)
        ends = ends[np.argsort(ends[:, 0])]
        inside = valid & (columns > ends[0, 0]) & (columns < ends[1, 0])
        knots_x = np.concatenate([ends[:1, 0], columns[inside], ends[1:, 0]])
        knots_y = np.concatenate([ends[:1, 1], line[inside], ends[1:, 1]])
        line = np.interp(columns, knots_x, knots_y).astype(np.float32)
        smooth = max(SEAM_SMOOTH * self.unit, 0.5)
        line = cv2.GaussianBlur(line[None], (0, 0), smooth, sigmaY=1e-3)[0]
        dy = np.arange(y1 - y0, dtype=np.float32)[:, None] - line[None]  # under the line
        below = smoothstep(dy + 0.5)[..., None]
        # each lip's colour where the pixel samples the photo, the upper over the line
        at = np.stack([sx - self.x0, np.zeros_like(sx)], -1)
        upper = cv2.remap(
            self.colours[0], at, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        lower = cv2.remap(
            self.colours[1], at, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        colour = upper * (1.0 - below) + lower * below
        a = (weight * alpha)[..., None]
        patch = roi[by0 + y0 : by0 + y1, bx0 + x0 : bx0 + x1]
        out = patch.astype(np.float32) * (1.0 - a) + colour * a
        grows = np.arange(by0 + y0, by0 + y1) % GRAIN_TILE
        gcols = np.arange(bx0 + x0, bx0 + x1) % GRAIN_TILE
        out += self.grain[np.ix_(grows, gcols)] * a
        # the shadow along the line, fading out at the corners
        length = max(float(ends[1, 0] - ends[0, 0]), 1.0)
        taper = np.minimum(columns - ends[0, 0], ends[1, 0] - columns) / (SEAM_END * length)
        shade = np.exp(-0.5 * (dy / self.sigma) ** 2) * (weight * smoothstep(taper))
        out *= 1.0 - shade[..., None] * np.asarray(SEAM_DARKEN, np.float32)
        patch[:] = np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _crossing(f: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of an (h, w) ``f`` (a pixel's sample's height under the interior's middle), the
    first row (sub-pixel) where it turns from above to below inside the band (``alpha`` > 0.5),
    and (w,) whether the column has one."""
    turns = (f[:-1] < 0.0) & (f[1:] >= 0.0) & (alpha[1:] > 0.5)
    valid = turns.any(0)
    i = np.argmax(turns, axis=0)  # the first turn
    cols = np.arange(f.shape[1])
    before, after = f[i, cols], f[i + 1, cols]
    line = i + before / np.minimum(before - after, -1e-6)
    return line.astype(np.float32), valid
