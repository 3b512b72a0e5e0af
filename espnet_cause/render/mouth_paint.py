"""What is drawn inside the mouth of a warped photo: the lips' cover, the cavity and the teeth.

The warp (:mod:`espnet_cause.render.warp`) only moves the photo's pixels. Where the AUs ask the
mouth to show what the photo does not, :class:`MouthPaint` draws it on the warped face region:

- a photo whose mouth is closed opened: the cavity, the tongue and the teeth between the parting
  inner lips (:meth:`MouthPaint.paint`, drawn by
  :class:`~espnet_cause.render.mouth_interior.Interior`), colours taken from the photo
  (:func:`mouth_colours`);
- a photo whose mouth is open opened further: its own teeth move with the lips (the nodes of
  :func:`_teeth_nodes`, added to the warp's triangulation), and the back of the mouth opening up
  between them is painted dark;
- a photo's open mouth closed: its interior squeezed between the lips is covered by the lips'
  own edges (:meth:`MouthPaint.cover`).

All coordinates are pixels of the face region (the ROI the warp works on).
"""

from __future__ import annotations

import cv2
import numpy as np

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.face.landmarker import Face
from espnet_cause.render.face_geometry import (
    EYE_LOWER,
    EYE_UPPER,
    INNER_LOWER_LIP,
    INNER_UPPER_LIP,
    OUTER_LOWER_LIP,
    OUTER_UPPER_LIP,
    face_frame,
    lip_gap,
    smoothstep,
)
from espnet_cause.render.motion_closure import CLOSE_PRESS, mouth_open
from espnet_cause.render.motion_mouth import upper_lip_raise
from espnet_cause.render.mouth_interior import (
    TEETH_FRACTION,
    TEETH_MAX,
    Interior,
    box_around,
    coverage,
)
from espnet_cause.render.mouth_seam import ClosedSeam
from espnet_cause.render.sharpen import INTERPOLATION

#: Mouth cavity and teeth colours come from the photo: the cavity is the lips' median colour times
#: CAVITY_DARKEN; the teeth are as bright as the brightest TEETH_QUANTILE of the photo's eye whites
#: (sclera) mixed with TEETH_RGB's brightness by TEETH_MIX (a photo with closed or shaded eyes
#: still gets light teeth), tinted by the light on the face: TEETH_LIGHT_CAST of the cheeks'
#: colour off grey (the median of CHEEK_SAMPLE squares around CHEEK_POINTS). Tinted by the eye
#: whites' hue, they were a grey-blue band next to warm skin (the demo photo, GRID's orange
#: light); the teeth that show on 10 dev photos carry 0.4-1.0 of the cheeks' tint, median about
#: 0.5 (0.3 and 0.9 looked at: grey-blue, peach).
CAVITY_DARKEN = 0.4
TEETH_QUANTILE = 0.8
TEETH_RGB = (236, 222, 198)
TEETH_MIX = 0.5
TEETH_LIGHT_CAST = 0.6
CHEEK_SAMPLE = 0.12
CHEEK_POINTS = (50, 280, 101, 330)
#: How much darker the middle of the mouth cavity is than its edges (0..1).
CAVITY_SHADE = 0.5
#: An open photo's teeth under every row but the mouth-opening AUs: its upper teeth (the
#: UPPER_TEETH face units under the upper lip) move with the upper lip, the LOWER_TEETH over the
#: lower lip with it, each at most TEETH_SHARE of the lip gap (the teeth of a laughing mouth
#: stretched with the whole interior).
UPPER_TEETH = 0.1
LOWER_TEETH = 0.06
TEETH_SHARE = 0.4
#: Under the mouth-opening AUs (AU25, AU26) what shows between an open photo's lips (teeth,
#: tongue) moves with them, split where the photo's dark back of the mouth begins and ends: a
#: pixel on the line between an inner upper- and lower-lip point is dark when it is under
#: DARK_LEVEL of the lips' median grey level (half-way from the painted cavity's CAVITY_DARKEN to
#: the lips: the cavity is darker, teeth, tongue and lips lighter). Whatever lies above the first
#: dark pixel moves with the upper lip, whatever lies below the last one with the lower lip (the
#: jaw), and only the dark band between them stretches; a column with no dark pixel (teeth that
#: meet) is split in its middle (the bite: moving such a row with the upper lip whole, the tracker
#: read the opening under it as smaller, single open AU25 r 0.55 -> 0.46). The split is one share
#: of the gap along the whole mouth, the median over the 9 columns (split column by column, the
#: teeth were cut out of their rows where neighbouring columns disagree: GRID brbk7n and s4 open).
#: The nodes at fixed depths above cut teeth in the band, which stretched into grey slivers
#: through the half-faded paint (single open, GRID bbaf2n open). Every other row (the closure
#: above all) keeps the fixed-depth nodes: moved for every row, the closed loop lost MEAD
#: disgusted open's AU23 (0.46 -> 0.39) and AU10 on 6 of 14 photos.
DARK_LEVEL = 0.5 * (1.0 + CAVITY_DARKEN)
#: The mouth-opening AUs (their rows of the field weights).
OPENING_AUS = (au_index("AU25"), au_index("AU26"))
#: Samples along each column's gap, and the split's margins: at least TEETH_EDGE_PX from each
#: lip, the band at least TEETH_BAND_PX tall (the nodes join the warp's triangulation: no point
#: may coincide).
GAP_SAMPLES = 33
TEETH_EDGE_PX = 1.0
TEETH_BAND_PX = 2.0
#: RGB weights of a grey level (ITU-R BT.601, as cv2.COLOR_RGB2GRAY).
GREY_WEIGHTS = (0.299, 0.587, 0.114)
#: Added lip gap (pixels) over which the cavity paint fades in.
CAVITY_FADE_PX = 3.0
#: A photo whose lips are apart (:func:`~espnet_cause.render.motion_closure.mouth_open`) by less
#: than this (face units, the widest column) is "parted", not open: narrower than the gap at which
#: the painted interior's upper teeth reach their full height
#: (:data:`~espnet_cause.render.mouth_interior.TEETH_MAX` over
#: :data:`~espnet_cause.render.mouth_interior.TEETH_FRACTION`, 0.18), it shows a thin dark line or
#: the edges of its teeth, and its teeth nodes (:func:`_teeth_nodes`) keep less than a tooth: opened
#: further, the stretched band between them was a flat dark hole under a sliver of teeth (MEAD
#: M030's "closed" frame, 0.032; eNTERFACE happy's, 0.168). Opened further it gets the interior a
#: closed photo gets (faded in over the opening's first pixels past its own gap, as on a closed
#: photo: faded in over its own gap, the teeth stretched in the band showed through the paint). A
#: photo whose mouth is open wider (0.20 and over on the 12 open dev photos) keeps its own teeth
#: (:meth:`MouthPaint._paint_open`).
PARTED_GAP = TEETH_MAX / TEETH_FRACTION
#: Closing the photo's own open mouth, its interior (teeth, tongue) squeezed between the lips is
#: covered by the lips themselves (sampled at each lip's edge): fading in from this closure
#: fraction to the one where the lips touch (without it the teeth showed as a streaky line).
COVER_FROM = 0.5
#: ... over the interior widened by this many pixels (the landmarks sit on the lips' edges, and an
#: interpolation kernel reaches up to 3 pixels past a sample).
COVER_MARGIN_PX = 3.0
#: ... each covered pixel samples the nearer lip this many pixels past the interior's widened edge
#: (the lip's own colour; the interior squeezed to a few rows mirrored into the lips showed the
#: lips' texture squeezed as horizontal streaks).
COVER_EDGE_PX = 1.0
#: ... both at most: the margin and the edge together reach at most this share of the thinner
#: lip's thickness past the interior (the median over its middle points, inner to outer edge), the
#: two shrunk in proportion. A broad laugh stretches the lips thin, and a small face has few pixels
#: across them: the laughs of a face 100 px tall (upper lip 2.2-2.8 px) sampled the skin above
#: the lip, so the closed mouth showed no line between the lips and no dark corners, and the
#: tracker read no lip-corner AU at all (AU12, AU14, AU15, AU20 at 4 read 0.0-0.3).
COVER_LIP_SHARE = 0.5
#: ... but never less than this together (pixels; one pixel: an interpolation kernel reaches it).
COVER_MIN_REACH_PX = 1.0
#: Output pixels that can sample the interior lie within this many eye distances of its box.
COVER_REACH = 1.0
#: Output pixels that sample the lips lie within this many eye distances of the moved outer lips'
#: box: the cover and the seam look for their pixels there, not over the whole cover box (2 eye
#: distances taller and wider). The warp's map is solved on a coarse grid, so a landmark's pixel
#: lands near, not on, its moved position: on the 12 open dev photos closed (every AU 0, AU12 3, AU15, AU17, AU20,
#: AU23 at 4, 24 random rows without AU10, AU25, AU26) the band reached 0.013-0.175 past that box
#: (MEAD surprised and disgusted open, the widest mouths), so 0.3 keeps every frame the same.
LIPS_REACH = 0.3


class MouthPaint:
    """The mouth of one prepared photo: its rest geometry, colours and the paint of a frame."""

    def __init__(
        self,
        *,
        image: np.ndarray,
        face: Face,
        basis: np.ndarray,
        box: tuple[int, int, int, int],
        unit: float,
    ) -> None:
        """Measure the photo's mouth.

        Args:
            image: (H, W, 3) uint8 RGB photo.
            face: Its face (landmarks in photo pixels).
            basis: (R, 478, 2) the warp's landmark displacements (pixels; the rows of
                :func:`~espnet_cause.render.basis_rows.build_basis`: 17 AUs per unit, the closure,
                head roll and shift, then the combined rows).
            box: (x0, y0, x1, y1) the face region the warp works on (photo pixels).
            unit: The eye distance (pixels).
        """
        x0, y0, x1, y1 = box
        rw, rh = x1 - x0, y1 - y0
        self.basis = basis
        self.unit = unit
        self.photo = np.ascontiguousarray(image[y0:y1, x0:x1])
        self.points = face.points.astype(np.float32) - np.array([x0, y0], np.float32)
        pts = self.points
        gap = float(lip_gap(face).max())
        self.open = mouth_open(face)
        # a parted mouth opened further is painted as a closed one is
        self.parted = self.open and gap < PARTED_GAP
        # the teeth of an open mouth keep their size as it opens further
        self.cavity_rgb, self.teeth_rgb = mouth_colours(image, face)
        # the teeth of an open mouth: carried by the lips as it opens further (the mouth-opening
        # AUs' fields, the paint), and held at fixed depths under every other row
        self.teeth_nodes = self.teeth_basis = self.held_nodes = self.held_basis = None
        if self.open:
            lip_grey = float(np.dot(self.cavity_rgb / CAVITY_DARKEN, GREY_WEIGHTS))
            self.teeth_nodes, self.teeth_basis = _opening_nodes(self.photo, pts, basis, lip_grey)
            self.held_nodes, self.held_basis = _teeth_nodes(pts, basis, unit)
        # rest positions of the inner lips, for the cavity paint
        self.inner_lips = list(INNER_UPPER_LIP + INNER_LOWER_LIP)
        self.inner_upper = pts[list(INNER_UPPER_LIP)]
        self.inner_lower = pts[list(INNER_LOWER_LIP)]
        # covering the interior as an open mouth closes (only a photo whose mouth is open); the
        # band under the upper lip its own AU10 explains stays (pixels per AU10 unit)
        self.cover_edges = None
        if self.open:
            raise_px = upper_lip_raise(face) * unit
            self.cover_edges = _lip_edges(self.inner_upper, self.inner_lower, raise_px)
            self.cover_margin, self.cover_edge = _cover_reach(pts)
            both = np.concatenate([self.inner_upper, self.inner_lower])
            reach = COVER_REACH * unit
            x0, y0 = np.floor(both.min(0) - reach).astype(int)
            x1, y1 = np.ceil(both.max(0) + reach).astype(int) + 1
            self.cover_out = (max(0, x0), max(0, y0), min(rw, x1), min(rh, y1))
        lips = pts[list(OUTER_UPPER_LIP + OUTER_LOWER_LIP)]
        colours = (self.cavity_rgb / CAVITY_DARKEN, self.cavity_rgb, self.teeth_rgb)
        self.interior = Interior(photo=self.photo, lips=lips, unit=unit, colours=colours)
        self.closed_seam = None
        if self.open:
            contours = (INNER_UPPER_LIP, INNER_LOWER_LIP, OUTER_UPPER_LIP, OUTER_LOWER_LIP)
            self.closed_seam = ClosedSeam(
                photo=self.photo,
                contours=tuple(pts[list(c)] for c in contours),
                unit=unit,
                grain=self.interior.grain,
                blur=self.interior.blur,
            )

    def opening(self, coefficients: np.ndarray) -> np.ndarray | None:
        """(n, 2) polygon (ROI pixels) where the mouth opens up further than in the photo for
        (R,) field weights: between the moved inner lips of a closed mouth, between the moved
        teeth of an open one; None where it opens no further (under half a pixel)."""
        if self.open:
            rest, basis = self._teeth(coefficients)
            moved = rest + np.tensordot(coefficients, basis, axes=1)
        else:
            rest = np.concatenate([self.inner_upper, self.inner_lower])
            moved = rest + np.tensordot(coefficients, self.basis[:, self.inner_lips], axes=1)
        half = len(rest) // 2
        added = (moved[half:] - moved[:half])[:, 1] - (rest[half:] - rest[:half])[:, 1]
        if float(added.max()) < 0.5:
            return None
        return np.concatenate([moved[:half], moved[half:][::-1]])

    def _teeth(self, coefficients: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """An open mouth's teeth nodes and their displacements for (n,) field weights: those the
        mouth-opening AUs move (:func:`_opening_nodes`) while they open it, else the held ones
        (:func:`_teeth_nodes`, as every other row moves them)."""
        if float(np.max(coefficients[list(OPENING_AUS)])) > 0.0:
            return self.teeth_nodes, self.teeth_basis
        return self.held_nodes, self.held_basis

    def cover(
        self, roi: np.ndarray, source: np.ndarray, coefficients: np.ndarray, kept_au10: float
    ) -> None:
        """As the photo's open mouth closes (the closure's weight in the (n,) field weights
        ``coefficients``), show the lips where the warp still samples its interior: each such
        pixel samples the nearer lip's edge in its own column instead, blended in over
        :data:`COVER_MARGIN_PX` at the interior's edge (both bounded by the lips' thickness,
        :func:`_cover_reach`); except the band under the upper lip the photo's AU10
        (``kept_au10`` of it still raised) exposes."""
        if self.cover_edges is None:
            return
        weight = _closed(float(coefficients[NUM_AUS]))
        if weight <= 0.0:
            return
        ux, uy, lx, ly, raise_px = self.cover_edges
        # only output pixels near the lips can sample the interior: work on that box, in 2-D
        box = self._near_lips(coefficients, 2)
        if box is None:
            return
        ox0, oy0, ox1, oy1 = box
        src = source[oy0:oy1, ox0:ox1]
        sx, sy = src[..., 0], src[..., 1]
        upper, lower = np.interp(sx, ux, uy), np.interp(sx, lx, ly)
        # how deep inside the interior widened by the margin (pixels): 0 at its edge
        margin = self.cover_margin
        depth = np.minimum(sy - upper, lower - sy) + margin
        depth = np.minimum(depth, np.minimum(sx - ux[0], ux[-1] - sx) + margin)
        if kept_au10 > 0.0:
            depth = np.minimum(depth, sy - upper - kept_au10 * np.interp(sx, ux, raise_px))
        alpha = smoothstep(depth / margin)
        rows, cols = np.nonzero(alpha > 0.0)
        if len(rows) == 0:
            return
        # only the pixels it covers, and a pixel around them (the line's anti-aliasing)
        y0, y1 = max(int(rows.min()) - 1, 0), int(rows.max()) + 2
        x0, x1 = max(int(cols.min()) - 1, 0), int(cols.max()) + 2
        sx, sy, alpha = sx[y0:y1, x0:x1], sy[y0:y1, x0:x1], alpha[y0:y1, x0:x1]
        upper, lower = upper[y0:y1, x0:x1], lower[y0:y1, x0:x1]
        # the nearer lip's edge, just past the widened interior, in the pixel's own column;
        # the lips meet where the interior's middle was, the line between them anti-aliased (a
        # pixel-wise switch drew it in steps where the closure squeezes the interior)
        edge = margin + self.cover_edge
        above = (sy < 0.5 * (upper + lower)).astype(np.float32)
        if min(above.shape) >= 3:
            above = cv2.GaussianBlur(above, (3, 3), 0)
        lips = self._sample_rows(sx, upper - edge) * above[..., None]
        lips += self._sample_rows(sx, lower + edge) * (1.0 - above[..., None])
        box = roi[oy0 + y0 : oy0 + y1, ox0 + x0 : ox0 + x1]
        before = box.astype(np.float32)
        mix = (weight * alpha)[..., None]
        box[:] = np.clip(before + mix * (lips - before) + 0.5, 0, 255).astype(np.uint8)

    def seam(self, roi: np.ndarray, source: np.ndarray, coefficients: np.ndarray) -> None:
        """While the closure presses the photo's open mouth shut (the closure field's weight in
        the (n,) field weights ``coefficients`` past the lips touching), redraw the closed lips' inner parts and the line
        where they meet over the warped ``roi``
        (:class:`~espnet_cause.render.mouth_seam.ClosedSeam`; ``source`` the warp's map). It fades
        out as the press is released (the mouth AUs' first unit, an upper lip raised by AU10):
        drawn on lips only touching, it held a parting mouth shut for the tracker (AU26 r 0.37 ->
        0.12 on eNTERFACE angry open) and painted over the teeth AU10 shows (AU10 0.93 -> 0.19 on
        eNTERFACE happy open)."""
        if self.closed_seam is None:
            return
        touching = 1.0 / CLOSE_PRESS
        pressed = (float(coefficients[NUM_AUS]) - touching) / (1.0 - touching)
        weight = float(smoothstep(np.clip(pressed, 0.0, 1.0)))
        if weight > 0.0:
            box = self._near_lips(coefficients, self.closed_seam.pad())
            if box is None:
                return
            ends = [INNER_UPPER_LIP[0], INNER_UPPER_LIP[-1]]
            corners = self.points[ends] + np.tensordot(coefficients, self.basis[:, ends], axes=1)
            self.closed_seam.paint(roi, source, box, corners, weight)

    def _near_lips(self, coefficients: np.ndarray, pad: int) -> tuple[int, int, int, int] | None:
        """(x0, y0, x1, y1) the output pixels that can sample the lips or the interior for (n,)
        field weights: within :data:`LIPS_REACH` and ``pad`` pixels of the moved outer lips'
        box, inside the cover box; None where it is thinner than 3 pixels."""
        outer = list(OUTER_UPPER_LIP + OUTER_LOWER_LIP)
        lips = self.points[outer] + np.tensordot(coefficients, self.basis[:, outer], axes=1)
        reach = LIPS_REACH * self.unit + pad
        (lx0, ly0), (lx1, ly1) = lips.min(0) - reach, lips.max(0) + reach
        cx0, cy0, cx1, cy1 = self.cover_out
        x0, y0 = max(cx0, int(np.floor(lx0))), max(cy0, int(np.floor(ly0)))
        x1, y1 = min(cx1, int(np.ceil(lx1)) + 1), min(cy1, int(np.ceil(ly1)) + 1)
        if x1 - x0 < 3 or y1 - y0 < 3:
            return None
        return x0, y0, x1, y1

    def _sample_rows(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """(h, w, 3) float32: the photo's mouth region at (h, w) ROI pixel positions ``x``, ``y``."""
        at = np.stack([x, y], -1).astype(np.float32)
        lips = cv2.remap(self.photo, at, None, INTERPOLATION, borderMode=cv2.BORDER_REPLICATE)
        return lips.astype(np.float32)

    def paint(self, roi: np.ndarray, au_row: np.ndarray) -> None:
        """Paint the mouth's interior (:class:`~espnet_cause.render.mouth_interior.Interior`)
        where the lips part further than at rest, on a closed or a parted mouth
        (:data:`PARTED_GAP`; a photo whose mouth is open keeps its own teeth: see
        :meth:`_paint_open`)."""
        if self.open and not self.parted:
            self._paint_open(roi, au_row)
            return
        disp = np.tensordot(au_row, self.basis, axes=1)  # (478, 2)
        du = disp[list(INNER_UPPER_LIP)]
        dl = disp[list(INNER_LOWER_LIP)]
        added_gap = float(np.max((dl - du)[:, 1]))
        if added_gap < 0.5:
            return
        upper = self.inner_upper + du
        lower = self.inner_lower + dl
        self.interior.paint(roi, upper, lower, min(1.0, added_gap / CAVITY_FADE_PX))

    def _paint_open(self, roi: np.ndarray, au_row: np.ndarray) -> None:
        """A photo's open mouth opened further: the back of the mouth between its upper and lower
        teeth (:func:`_teeth_nodes`) is painted dark as that band grows past its own height (the
        warp cannot stretch a thin band of the photo's interior many times without streaking)."""
        rest, basis = self._teeth(au_row)
        disp = np.tensordot(au_row, basis, axes=1)  # (18, 2)
        half = len(rest) // 2
        band = (rest[half:] - rest[:half])[:, 1]
        moved = rest + disp
        upper, lower = moved[:half], moved[half:]
        added = float(np.max((lower - upper)[:, 1] - band))
        if added < 0.5:
            return
        corners = self.points[[INNER_UPPER_LIP[0], INNER_UPPER_LIP[-1]]]
        ends = corners + np.tensordot(au_row, self.basis[:, [78, 308]], axes=1)
        upper = np.concatenate([ends[:1], upper, ends[1:]])
        lower = np.concatenate([ends[:1], lower, ends[1:]])
        box = box_around(np.concatenate([upper, lower]), 2, roi.shape)
        if box is None:
            return
        mouth = coverage(np.concatenate([upper, lower[::-1]]), box)
        alpha = min(1.0, added / max(CAVITY_FADE_PX, float(band.max())))
        self._blend(roi, box, mouth, alpha)

    def _blend(
        self,
        roi: np.ndarray,
        box: tuple[int, int, int, int],
        mouth: np.ndarray,
        alpha: float,
    ) -> None:
        """Blend the shaded cavity into ``roi`` over the (h, w) coverage ``mouth`` of ``box``
        (x0, y0, x1, y1) with opacity ``alpha``."""
        x0, y0, x1, y1 = box
        if mouth.shape[0] >= 3 and mouth.shape[1] >= 3:
            mouth = cv2.GaussianBlur(mouth, (3, 3), 0)
        # shading: the cavity darkens towards its middle row
        rows = np.linspace(0.0, 1.0, mouth.shape[0], dtype=np.float32)[:, None, None]
        shade = 1.0 - CAVITY_SHADE * np.sin(np.pi * rows)
        patch = roi[y0:y1, x0:x1].astype(np.float32)
        colour = self.cavity_rgb * shade
        a = (alpha * mouth)[..., None]
        roi[y0:y1, x0:x1] = (patch * (1 - a) + colour * a + 0.5).astype(np.uint8)


def _closed(closure: float) -> float:
    """How far a closing open mouth is covered (0-1): from the closure :data:`COVER_FROM` to the
    one where the lips touch, eased in and out."""
    weight = (closure - COVER_FROM) / (1.0 / CLOSE_PRESS - COVER_FROM)
    return float(smoothstep(np.clip(weight, 0.0, 1.0)))


def _lip_edges(
    upper: np.ndarray, lower: np.ndarray, raise_px: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The interior's edges for :meth:`MouthPaint.cover`, each sorted along x for ``np.interp``.

    Args:
        upper: (11, 2) inner upper-lip points (ROI pixels), corner to corner.
        lower: (11, 2) inner lower-lip points.
        raise_px: (11,) AU10's raise of the inner upper-lip points (pixels per intensity unit).

    Returns:
        The upper edge's x and y, the lower edge's x and y, and AU10's raise along the upper
        edge (float32).
    """
    up, lo = np.argsort(upper[:, 0]), np.argsort(lower[:, 0])
    edges = (upper[up, 0], upper[up, 1], lower[lo, 0], lower[lo, 1], raise_px[up])
    return tuple(np.asarray(e, np.float32) for e in edges)


def _cover_reach(points: np.ndarray) -> tuple[float, float]:
    """The cover's margin and edge (pixels; :data:`COVER_MARGIN_PX`, :data:`COVER_EDGE_PX`),
    shrunk in proportion so that together they reach at most :data:`COVER_LIP_SHARE` of the
    thinner lip past the interior (and at least :data:`COVER_MIN_REACH_PX`).

    Args:
        points: (478, 2) landmarks (pixels).
    """
    middle = slice(2, -2)  # the lips' middle points (the thickness tends to 0 at the corners)
    inner = np.concatenate(
        [points[list(INNER_UPPER_LIP[middle])], points[list(INNER_LOWER_LIP[middle])]]
    )
    outer = np.concatenate(
        [points[list(OUTER_UPPER_LIP[middle])], points[list(OUTER_LOWER_LIP[middle])]]
    )
    thickness = np.linalg.norm(outer - inner, axis=1).reshape(2, -1)
    thinner = float(np.median(thickness, axis=1).min())
    reach = max(COVER_LIP_SHARE * thinner, COVER_MIN_REACH_PX)
    scale = min(1.0, reach / (COVER_MARGIN_PX + COVER_EDGE_PX))
    return COVER_MARGIN_PX * scale, COVER_EDGE_PX * scale


def _teeth_nodes(
    points: np.ndarray, basis: np.ndarray, unit: float
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes inside a photo's open mouth that carry its teeth with the lips.

    Under each inner upper-lip point (corners left out) a node :data:`UPPER_TEETH` deep moves as
    that lip point does, over each inner lower-lip point one :data:`LOWER_TEETH` high as that
    one does (at most :data:`TEETH_SHARE` of the gap each): the mouth opened further stretches
    only the band between them (the dark back of the mouth), not the teeth. Under the closure and
    the head motion they move as the straight line between the lips does (the interior closes
    evenly).

    Args:
        points: (478, 2) landmarks (ROI pixels).
        basis: (R, 478, 2) the landmark displacements (the rows of
            :func:`~espnet_cause.render.basis_rows.build_basis`).
        unit: The eye distance (pixels).

    Returns:
        (18, 2) node positions and their (R, 18, 2) displacements.
    """
    upper = points[list(INNER_UPPER_LIP[1:-1])]
    lower = points[list(INNER_LOWER_LIP[1:-1])]
    gap = lower - upper
    length = np.maximum(np.linalg.norm(gap, axis=1, keepdims=True), 1e-6)
    down = np.minimum(UPPER_TEETH * unit, TEETH_SHARE * length) / length  # (9, 1) fractions
    up = np.minimum(LOWER_TEETH * unit, TEETH_SHARE * length) / length
    return _gap_nodes(upper, lower, down, up, basis)


def _opening_nodes(
    photo: np.ndarray, points: np.ndarray, basis: np.ndarray, lip_grey: float
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes inside a photo's open mouth that carry its teeth with the lips as it opens further.

    Under each inner upper-lip point (corners left out) a node at the top of the photo's dark
    band (:func:`_dark_band`) moves as that lip point does, over each inner lower-lip point one at
    its bottom as that one does: the mouth opened further stretches only the band between them
    (the dark back of the mouth), not the teeth. Under the closure and the head motion they move
    as the straight line between the lips does (the interior closes evenly).

    Args:
        photo: (h, w, 3) uint8 RGB face region.
        points: (478, 2) landmarks (ROI pixels).
        basis: (R, 478, 2) the landmark displacements (the rows of
            :func:`~espnet_cause.render.basis_rows.build_basis`).
        lip_grey: The lips' median grey level.

    Returns:
        (18, 2) node positions and their (R, 18, 2) displacements.
    """
    upper = points[list(INNER_UPPER_LIP[1:-1])]
    lower = points[list(INNER_LOWER_LIP[1:-1])]
    down, up = _dark_band(photo, upper, lower, lip_grey)  # (9, 1) fractions of each gap
    return _gap_nodes(upper, lower, down, up, basis)


def _gap_nodes(
    upper: np.ndarray, lower: np.ndarray, down: np.ndarray, up: np.ndarray, basis: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``down`` of each gap under the (n, 2) inner upper-lip points ``upper`` and ``up`` of
    it over the inner lower-lip points ``lower`` ((n, 1) fractions each), moving with their lip
    under the AUs and as the straight line between the lips under every later row of the (R,
    478, 2) ``basis``; (2n, 2) positions and (R, 2n, 2) displacements."""
    gap = lower - upper
    nodes = np.concatenate([upper + down * gap, lower - up * gap])
    b_up = basis[:, list(INNER_UPPER_LIP[1:-1])]
    b_lo = basis[:, list(INNER_LOWER_LIP[1:-1])]
    moved = np.concatenate([b_up, b_lo], axis=1)
    t = np.concatenate([down, 1.0 - up])[None]  # (1, 2n, 1) along the gap, for the closure
    between = np.concatenate([b_up, b_up], axis=1) * (1 - t) + np.concatenate([b_lo, b_lo], 1) * t
    moved[NUM_AUS:] = between[NUM_AUS:]
    return nodes.astype(np.float32), moved.astype(np.float32)


def _dark_band(
    photo: np.ndarray, upper: np.ndarray, lower: np.ndarray, lip_grey: float
) -> tuple[np.ndarray, np.ndarray]:
    """Where each column's dark band begins and ends (:data:`DARK_LEVEL`).

    Args:
        photo: (h, w, 3) uint8 RGB face region.
        upper: (n, 2) inner upper-lip points (ROI pixels), lower: (n, 2) the inner lower-lip
            points under them.
        lip_grey: The lips' median grey level.

    Returns:
        (n, 1) each: the band's top as a fraction of the gap down from the upper lip, and its
        bottom as a fraction up from the lower lip.
    """
    t = np.linspace(0.0, 1.0, GAP_SAMPLES, dtype=np.float32)
    at = (upper[:, None] + t[None, :, None] * (lower - upper)[:, None]).astype(np.float32)
    grey = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    values = cv2.remap(grey, at, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    values = values.astype(np.float32)  # (n, GAP_SAMPLES)
    dark = values < DARK_LEVEL * lip_grey
    first = np.where(dark.any(1), t[np.argmax(dark, axis=1)], 0.5)
    last = np.where(dark.any(1), t[::-1][np.argmax(dark[:, ::-1], axis=1)], 0.5)
    # one share of the gap along the whole mouth
    first = np.full(len(upper), np.median(first), np.float32)
    last = np.maximum(np.median(last), first)
    length = np.maximum(np.linalg.norm(lower - upper, axis=1), 1e-6)
    edge, band = TEETH_EDGE_PX / length, TEETH_BAND_PX / length
    # the margins: a gap too narrow for them is split in its middle
    top = np.clip(first, edge, 1.0 - edge - band)
    bottom = np.clip(last, top + band, 1.0 - edge)
    narrow = 1.0 - 2.0 * edge - band < 0.0
    top, bottom = (
        np.where(narrow, 0.5 - 0.5 * band, top),
        np.where(narrow, 0.5 + 0.5 * band, bottom),
    )
    return top[:, None].astype(np.float32), (1.0 - bottom)[:, None].astype(np.float32)


def mouth_colours(image: np.ndarray, face: Face) -> tuple[np.ndarray, np.ndarray]:
    """Cavity and teeth colours (RGB float32) taken from the photo (see :data:`CAVITY_DARKEN`)."""

    def pixels(contours) -> np.ndarray:
        mask = np.zeros(image.shape[:2], np.uint8)
        for contour in contours:
            cv2.fillPoly(mask, [np.round(face.points[list(contour)]).astype(np.int32)], 1)
        return image[mask > 0].astype(np.float32)

    lips = pixels([OUTER_UPPER_LIP + OUTER_LOWER_LIP[::-1]])
    lip = np.median(lips, axis=0) if len(lips) else np.array((150.0, 80.0, 80.0))
    cavity = (CAVITY_DARKEN * lip).astype(np.float32)
    ivory = np.array(TEETH_RGB, np.float32)
    brightness, tint = float(ivory.mean()), ivory - ivory.mean()
    eyes = pixels([up + lo[::-1] for up, lo in zip(EYE_UPPER, EYE_LOWER, strict=True)])
    if len(eyes) >= 8:
        total = eyes.sum(axis=1)
        white = float(eyes[total >= np.quantile(total, TEETH_QUANTILE)].mean())
        brightness = TEETH_MIX * white + (1 - TEETH_MIX) * brightness
    cheeks = _cheek_pixels(image, face)
    if len(cheeks) >= 8:
        skin = np.median(cheeks, axis=0)
        tint = TEETH_LIGHT_CAST * (skin - skin.mean())
    return cavity, np.clip(brightness + tint, 0.0, 255.0).astype(np.float32)


def _cheek_pixels(image: np.ndarray, face: Face) -> np.ndarray:
    """(n, 3) float32: the photo's pixels in squares around :data:`CHEEK_POINTS`."""
    half = max(int(round(CHEEK_SAMPLE * face_frame(face)[3])), 1)
    height, width = image.shape[:2]
    squares = []
    for x, y in np.round(face.points[list(CHEEK_POINTS)]).astype(int):
        y0, y1 = max(y - half, 0), min(y + half, height)
        x0, x1 = max(x - half, 0), min(x + half, width)
        squares.append(image[y0:y1, x0:x1].reshape(-1, 3))
    return np.concatenate(squares).astype(np.float32)
