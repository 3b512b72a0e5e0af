"""The per-photo state of the warp renderer and its frames: :class:`PreparedFace`.

Built once per photo: the face region, the (29, 478, 2) landmark displacement basis (the 17 AUs
and the rows after them: closure, head pose, sad brow, un-smile, un-frown, AU07's lower lid, the
skin carried under raised brows, the fear brow, the stretched opening), its dense fields on a
coarse grid, the mouth paint and the eyeballs. A frame weights the fields by an AU row (:meth:`PreparedFace.coefficients`), inverts
their sum (:func:`~espnet_cause.render.field_inversion.invert_field`) and warps the face region
with one remap.
"""

from __future__ import annotations

import cv2
import numpy as np

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.face.landmarker import Face
from espnet_cause.render.basis_rows import (
    CARRY_ROWS,
    FEAR_BROW_ROW,
    HEAD_ROWS,
    LOWER_LID_ROW,
    SAD_BROW_ROW,
    STRETCHED_OPENING_ROW,
    UNFROWN_ROW,
    UNSMILE_ROW,
    build_basis,
)
from espnet_cause.render.eyeball import Eyeballs
from espnet_cause.render.face_geometry import face_frame
from espnet_cause.render.field_grid import grid_fields, outside_mask, support_mask
from espnet_cause.render.field_inversion import invert_field
from espnet_cause.render.motion_lids import BLINK_FULL
from espnet_cause.render.mouth_paint import MouthPaint
from espnet_cause.render.neutralise import (
    LID_RELAX_AUS,
    ZERO_AU,
    brow_reversal,
    closure,
    lid_relax,
    raise_gain,
)
from espnet_cause.render.sharpen import (
    INTERPOLATION,
    gain_tables,
    grid_phase,
    restore_detail,
    restoring_gains,
)

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
#: The mouth-opening AUs, closed by the closure field below the photo's own intensity.
MOUTH_AUS = (au_index("AU25"), au_index("AU26"))
#: The chin's lowest landmark.
CHIN_TIP = 152
AU12 = au_index("AU12")
AU01, AU02, AU04 = au_index("AU01"), au_index("AU02"), au_index("AU04")
#: The brow raisers: driven above the photo's own, they raise its brows from the raise the brows
#: show (:func:`~espnet_cause.render.neutralise.raise_gain`).
BROW_RAISERS = (AU01, AU02)
#: The AUs of the fear brow (:data:`~espnet_cause.render.basis_rows.FEAR_BROW_ROW`).
FEAR_BROW_AUS = (AU01, AU02, AU04)
#: The blink, clipped at :data:`~espnet_cause.render.motion_lids.BLINK_FULL` (eye closed).
BLINK = au_index("AU45")
#: The AUs that move the lids alone (their offsets fade out as a blink closes the eye).
LID_AUS = [au_index("AU05"), au_index("AU07")]
#: The AUs whose motion of the iris landmarks the eyeball does not follow (the lids slide over it:
#: :class:`~espnet_cause.render.eyeball.Eyeballs`).
EYEBALL_STILL_AUS = [au_index("AU05"), au_index("AU06"), au_index("AU07"), BLINK, LOWER_LID_ROW]
AU10 = au_index("AU10")
AU07 = au_index("AU07")
AU20, AU26 = au_index("AU20"), au_index("AU26")


class PreparedFace:
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
        self.unit = face_frame(face)[3]
        x0, y0, x1, y1 = face.bbox
        margin = SUPPORT_MARGIN * self.unit
        self.x0, self.y0 = max(0, int(x0 - margin)), max(0, int(y0 - margin))
        self.x1 = min(width, int(np.ceil(x1 + margin)))
        self.y1 = min(height, int(np.ceil(y1 + margin)))
        # closing the mouth, the chin rises less when little of the neck under it is in the region
        room = max(self.y1 - float(face.points[CHIN_TIP, 1]), 0.0) / self.unit
        self.basis = build_basis(face, photo_aus, room, self.unit)
        own = np.zeros(NUM_AUS, np.float32) if photo_aus is None else photo_aus
        # the brows' outer ends are AU02's alone; the inner ends come down with both AU01 and AU02
        outer = brow_reversal(face, self.basis[AU02], 1)
        undone = -min(outer, float(own[AU02])) * self.basis[AU02]
        self.brow_reversal = {
            AU01: brow_reversal(face, self.basis[AU01], 0, undone),
            AU02: outer,
            AU04: brow_reversal(face, self.basis[AU04], 0),
        }
        self.lid_relax = lid_relax(face.points, self.basis, own)
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
        xx, yy = np.meshgrid(gx, gy)
        # interpolated on a triangulation of the landmarks (ROI coordinates) and the region's edge
        offset = np.array([self.x0, self.y0], dtype=np.float32)
        pts = self.points - offset
        # the teeth keep their size as the mouth opens further
        teeth = (self.mouth.held_nodes, self.mouth.held_basis) if self.mouth.open else None
        fields = grid_fields(pts, self.basis, (rw, rh), xx, yy, teeth)
        if self.mouth.open:  # ... and move with the lips as the mouth-opening AUs open it further
            k = list(MOUTH_AUS)
            opening = (self.mouth.teeth_nodes, self.mouth.teeth_basis[k])
            fields[k] = grid_fields(pts, self.basis[k], (rw, rh), xx, yy, opening)
        # only the face moves: fade to 0 away from its outline, 0 on the other faces
        scale = np.array([gw / rw, gh / rh], np.float32)
        support = support_mask(pts * scale, gh, gw, SUPPORT_MARGIN * self.unit * scale.min())
        for other in others:
            hull = (other.points.astype(np.float32) - offset) * scale
            support *= outside_mask(hull, gh, gw, OTHER_FACE_MARGIN * self.unit * scale.min())
        fields = fields * support.reshape(1, -1, 1)
        # (29, gh*gw*2) so a frame's forward field is one small matrix product
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
        """(29,) field weights for a (17,) AU row and a (3,) head pose (roll, x, y): the AU offsets
        from the photo (absolute mode: ``max(target, 0) - photo``, the mouth AUs' part below the
        photo as the closure fraction and only their part above what the photo shows open
        (:attr:`mouth_shown`: none on sealed lips) as their own fields, AU12's as the share of the
        photo's smile undone (:data:`~espnet_cause.render.basis_rows.UNSMILE_ROW`), AU01's, AU02's
        and AU04's scaled so that 0 undoes at most
        :func:`~espnet_cause.render.neutralise.brow_reversal` (AU04's also as the share of the
        photo's frown lifted, :data:`~espnet_cause.render.basis_rows.UNFROWN_ROW`); AU45 above the
        photo's as the share of the way to closed lids at BLINK_FULL, AU05's and AU07's faded by
        it; AU07's and AU45's below the photo's scaled by
        :func:`~espnet_cause.render.neutralise.lid_relax`, AU07's above the photo's with the units
        the relaxation leaves out as :data:`~espnet_cause.render.basis_rows.LOWER_LID_ROW`), the
        head pose, the sad brow (:data:`~espnet_cause.render.basis_rows.SAD_BROW_ROW`), AU01's
        and AU02's raise above the photo's (:data:`~espnet_cause.render.basis_rows.CARRY_ROWS`),
        the fear brow (:data:`~espnet_cause.render.basis_rows.FEAR_BROW_ROW`) and the stretched
        opening (:data:`~espnet_cause.render.basis_rows.STRETCHED_OPENING_ROW`)."""
        row = np.zeros(len(self.basis), np.float32)
        if head is not None:
            row[HEAD_ROWS] = head
        if self.photo_aus is None:
            delta = au_row.copy()
        else:
            own = self.photo_aus
            delta = np.maximum(au_row, 0.0) - own
            k = list(MOUTH_AUS)
            row[NUM_AUS] = closure(np.maximum(au_row[k], 0.0), own[k], float(au_row[AU10]))
            delta[k] = np.maximum(np.maximum(au_row[k], 0.0) - self.mouth_shown, 0.0)
            if delta[AU12] < 0.0:  # the share of the photo's smile taken away (see unsmile)
                row[UNSMILE_ROW] = -float(delta[AU12]) / max(float(own[AU12]), ZERO_AU)
                delta[AU12] = 0.0
            if delta[AU04] < 0.0:  # the share of the photo's frown taken away (see unfrown)
                row[UNFROWN_ROW] = -float(delta[AU04]) / max(float(own[AU04]), ZERO_AU)
            for k, most in self.brow_reversal.items():  # undone linearly, at most to rest
                if delta[k] < 0.0:
                    delta[k] *= min(1.0, most / max(float(own[k]), ZERO_AU))
                elif k in BROW_RAISERS:  # raised above the photo's from the raise it shows
                    delta[k] *= raise_gain(float(own[k]), most)
            for k in LID_RELAX_AUS:  # the lids relax at most to a neutral opening
                if delta[k] < 0.0:
                    delta[k] *= self.lid_relax
            if delta[AU07] > 0.0:  # tightened above the photo's from the squint it shows: the
                # units the relaxed squint took away, by the lower lid alone (LOWER_LID_ROW)
                gain = raise_gain(float(own[AU07]), self.lid_relax * float(own[AU07]))
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
        row[FEAR_BROW_ROW] = max(float(delta[list(FEAR_BROW_AUS)].min()), 0.0)
        row[STRETCHED_OPENING_ROW] = max(min(float(delta[AU20]), float(au_row[AU26])), 0.0)
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
        self.mouth.cover(warped, source, au_row, float(kept_au10))
        self.mouth.seam(warped, source, au_row)
        self.mouth.paint(warped, au_row)
        self.eyeballs.paint(warped, uncovered)
        out = self.image.copy()
        out[self.y0 : self.y1, self.x0 : self.x1] = warped
        return out

    def source_map(self, coefficients: np.ndarray) -> np.ndarray:
        """(rh, rw, 2) float32: where each pixel of the face region samples the photo (ROI pixel
        x, y) for (29,) field weights (:meth:`coefficients`)."""
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
        """(gh, gw, 2) backward displacement of a forward one on the field grid
        (:func:`~espnet_cause.render.field_inversion.invert_field`); the nodes where the mouth
        opens further than in the photo (:meth:`_opening` of ``coefficients``, computed only when
        Newton steps run; None: no node left out) are left to the fixed-point steps."""
        opening = None if coefficients is None else lambda: self._opening(coefficients)
        return invert_field(
            forward, self.grid_px, self.scale_to_grid, self.edge_px, self.roi_size, opening
        )
