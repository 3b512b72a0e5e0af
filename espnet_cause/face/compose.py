"""Crop an aligned face out of a photo and paste rendered crops back with a feathered mask."""

from __future__ import annotations

import numpy as np

from espnet_cause.face.align import CROP_SIZE, align_crop
from espnet_cause.face.landmarker import Face

#: Width of the soft edge of the paste-back mask, as a fraction of the crop side.
FEATHER = 0.12


def feather_mask(size: int, feather: float = FEATHER) -> np.ndarray:
    """(size, size) float32 mask: 1 inside, ramping smoothly to 0 at the crop border."""
    ramp = max(feather * size, 1.0)
    pos = np.arange(size, dtype=np.float32) + 0.5
    edge = np.clip(np.minimum(pos, size - pos) / ramp, 0.0, 1.0)
    edge = edge * edge * (3.0 - 2.0 * edge)
    return np.minimum(edge[:, None], edge[None, :])


class CropCompositor:
    """The aligned crop of one face in one photo, and the way back into the photo.

    The inverse transform and the feathered mask in photo coordinates are computed once, so
    pasting a frame is one small ``warpAffine`` and ``cv2.blendLinear`` inside the face's
    bounding box (a numpy float blend took 0.43 ms of a 0.8 ms paste of the demo photo's 128 px
    crop, blendLinear 0.29); only around the rectangle where the mask is 1 (:func:`_solid`: half
    the demo photo's box), which takes the crop's pixels as they are (what the blend gives there).

    Args:
        image: (H, W, 3) uint8 RGB photo.
        face: The face to crop.
        size: Crop side in pixels.
        feather: Soft edge of the mask as a fraction of the crop side.
    """

    def __init__(
        self, image: np.ndarray, face: Face, size: int = CROP_SIZE, feather: float = FEATHER
    ) -> None:
        import cv2

        self.image = image
        self.size = size
        self.crop, self.matrix = align_crop(image, face, size)
        inverse = cv2.invertAffineTransform(self.matrix)
        height, width = image.shape[:2]
        corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], np.float64)
        box = corners @ inverse.T
        self.x0 = int(np.clip(np.floor(box[:, 0].min()), 0, width))
        self.y0 = int(np.clip(np.floor(box[:, 1].min()), 0, height))
        self.x1 = int(np.clip(np.ceil(box[:, 0].max()) + 1, 0, width))
        self.y1 = int(np.clip(np.ceil(box[:, 1].max()) + 1, 0, height))
        # crop -> box-local photo coordinates
        self.to_box = inverse.copy()
        self.to_box[:, 2] -= (self.x0, self.y0)
        self.box_size = (self.x1 - self.x0, self.y1 - self.y0)
        mask = cv2.warpAffine(
            feather_mask(size, feather), self.to_box, self.box_size, flags=cv2.INTER_LINEAR
        )
        self.mask = np.ascontiguousarray(mask, np.float32)  # (h, w) weight of the crop
        self.keep = np.ascontiguousarray(1.0 - self.mask)  # ... and of the photo
        self.background = np.ascontiguousarray(image[self.y0 : self.y1, self.x0 : self.x1])
        # the box's pixels blended: all but the rectangle where the crop shows alone, as strips
        # (rows above and below it, columns beside it)
        r0, r1, c0, c1 = _solid((self.mask == 1.0) & (self.keep == 0.0))
        h, w = self.mask.shape
        self.solid = (slice(r0, r1), slice(c0, c1))
        self.strips = [
            strip
            for strip in (
                (slice(0, r0), slice(0, w)),
                (slice(r1, h), slice(0, w)),
                (slice(r0, r1), slice(0, c0)),
                (slice(r0, r1), slice(c1, w)),
            )
            if strip[0].stop > strip[0].start and strip[1].stop > strip[1].start
        ]
        self._cv2 = cv2

    def paste(self, crop: np.ndarray) -> np.ndarray:
        """The photo with a rendered (size, size, 3) uint8 crop blended in; (H, W, 3) uint8."""
        cv2 = self._cv2
        out = self.image.copy()
        if self.box_size[0] <= 0 or self.box_size[1] <= 0:
            return out
        patch = cv2.warpAffine(
            np.ascontiguousarray(crop),
            self.to_box,
            self.box_size,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        box = out[self.y0 : self.y1, self.x0 : self.x1]
        box[self.solid] = patch[self.solid]
        for strip in self.strips:
            box[strip] = cv2.blendLinear(
                patch[strip], self.background[strip], self.mask[strip], self.keep[strip]
            )
        return out


def _solid(inside: np.ndarray) -> tuple[int, int, int, int]:
    """(r0, r1, c0, c1): a rectangle ``[r0:r1, c0:c1]`` all inside an (h, w) bool region (grown
    from its middle a row or a column at a time while it stays inside; empty when the middle is
    not inside)."""
    h, w = inside.shape
    r0, c0 = h // 2, w // 2
    if not inside[r0, c0]:
        return r0, r0, c0, c0
    r1, c1 = r0 + 1, c0 + 1
    grown = True
    while grown:
        grown = False
        if r0 > 0 and inside[r0 - 1, c0:c1].all():
            r0, grown = r0 - 1, True
        if r1 < h and inside[r1, c0:c1].all():
            r1, grown = r1 + 1, True
        if c0 > 0 and inside[r0:r1, c0 - 1].all():
            c0, grown = c0 - 1, True
        if c1 < w and inside[r0:r1, c1].all():
            c1, grown = c1 + 1, True
    return r0, r1, c0, c1
