"""Restoring the detail a resampling between pixels takes away, the same at every sub-pixel phase.

Any interpolation at a fractional offset attenuates the finest detail, the more the closer the
offset is to half a pixel (there it takes the highest frequency to 0), and separately along x and
y: a photo whose detail runs one way (the line pairs of an interlaced video frame) loses almost
nothing at half a pixel in x and two thirds of its detail at half a pixel in y. So each axis is
restored on its own: the frame plus its unsharp mask along x (the frame minus its 1-D Gaussian
blur), weighted per pixel by a gain that depends on how far between pixels that pixel sampled in
x, then the same along y. The gains (per axis, at the phases :data:`RESTORE_PHASES`, linear in
between and 0 on the pixel grid, so parts that do not move stay the photo's own pixels) are set
once per photo: at each phase, the gain with which the face box shifted by that phase keeps the
photo's detail (the variance of the Laplacian).

A single gain for both axes, weighted by the distance to the grid (the previous restoration), kept
the photo's detail on average over phases but not at each: 0.52-1.57 over the 64 shifts of an
eighth of a pixel of an eNTERFACE frame, 0.84-1.22 of a MEAD one, so a moving face shimmered
between soft and over-sharp frames; per axis and phase: 1.00-1.03 and 0.98-1.03.
"""

from __future__ import annotations

import cv2
import numpy as np

#: How the photo is resampled along the map (once per output pixel): bicubic (4x4), with the
#: detail it attenuates restored here. Face detail with the idle head motion on the 25 dev
#: photos: bilinear 0.43-0.68 of the photo's, bicubic 0.67-0.91, Lanczos (8x8) 0.76-0.97, and
#: bicubic costs a third of Lanczos (0.8 vs 2.6 ms for a 128 px region).
INTERPOLATION = cv2.INTER_CUBIC
#: Sigma (pixels) and taps of the 1-D Gaussian blur whose difference from the frame is restored.
RESTORE_SIGMA = 0.8
RESTORE_TAPS = 7
#: Largest gain (an interlaced frame's y detail at half a pixel needs 1.6).
RESTORE_MAX = 2.0
#: Sub-pixel phases (distance to the pixel grid) at which the gains are set.
RESTORE_PHASES = (0.125, 0.25, 0.375, 0.5)
#: Entries of the lookup table from a pixel's phase to its gain.
LUT_SIZE = 256


def grid_phase(source: np.ndarray) -> np.ndarray:
    """(h, w, 2) uint8 for an (h, w, 2) sampling map: each pixel's distance to the photo's pixel
    grid along x and y, 0 on the grid to 255 half way between pixels."""
    frac = source - np.floor(source)
    np.minimum(frac, 1.0 - frac, out=frac)
    return (frac * (2.0 * (LUT_SIZE - 1)) + 0.5).astype(np.uint8)


def gain_tables(gains: np.ndarray) -> np.ndarray:
    """(2, 256) float32 lookup tables (x, y) from :func:`grid_phase` to the restoring gain:
    ``gains`` (2, P) at :data:`RESTORE_PHASES`, linear in between, 0 on the grid."""
    phase = np.linspace(0.0, 0.5, LUT_SIZE)
    knots = np.r_[0.0, RESTORE_PHASES]
    return np.stack([np.interp(phase, knots, np.r_[0.0, g]) for g in gains]).astype(np.float32)


def restore_detail(warped: np.ndarray, phase: np.ndarray, tables: np.ndarray) -> np.ndarray:
    """(h, w, 3) uint8 ``warped`` with its detail restored along x, then along y.

    Args:
        warped: (h, w, 3) uint8 frame sampled along a map.
        phase: (h, w, 2) uint8 :func:`grid_phase` of that map.
        tables: (2, 256) float32 :func:`gain_tables`.
    """
    if not tables.any():
        return warped
    frame = warped.astype(np.float32)
    for axis, ksize in ((0, (RESTORE_TAPS, 1)), (1, (1, RESTORE_TAPS))):
        if not tables[axis].any():
            continue
        detail = cv2.GaussianBlur(frame, ksize, RESTORE_SIGMA)
        np.subtract(frame, detail, out=detail)
        gain = cv2.LUT(np.ascontiguousarray(phase[..., axis]), tables[axis])
        detail *= cv2.merge([gain, gain, gain])  # (a broadcast gain[..., None] is 4x slower)
        frame += detail
    frame += 0.5
    return np.clip(frame, 0, 255, out=frame).astype(np.uint8)


def restoring_gains(roi: np.ndarray, box: np.ndarray, steps: int = 8) -> np.ndarray:
    """(2, P) gains (0 to :data:`RESTORE_MAX`; x, y at :data:`RESTORE_PHASES`): at each phase and
    axis, the gain with which the face box shifted by that phase keeps the photo's detail.

    Args:
        roi: (h, w, 3) uint8 face region of the photo.
        box: (4,) the face's box (x0, y0, x1, y1) in ``roi`` pixels.
        steps: Bisection steps.
    """
    gains = np.zeros((2, len(RESTORE_PHASES)), np.float32)
    h, w = roi.shape[:2]
    x0, y0 = max(0, int(box[0])), max(0, int(box[1]))
    x1, y1 = min(w, int(box[2]) + 1), min(h, int(box[3]) + 1)
    if x1 - x0 < 16 or y1 - y0 < 16:
        return gains
    face = np.ascontiguousarray(roi[y0:y1, x0:x1])

    def detail(image: np.ndarray) -> float:
        grey = cv2.cvtColor(image[4:-4, 4:-4], cv2.COLOR_RGB2GRAY)  # away from the edge padding
        return float(cv2.Laplacian(grey, cv2.CV_64F).var())

    photo = detail(face)
    if photo <= 0.0:
        return gains
    grid = np.stack(
        np.meshgrid(np.arange(x1 - x0, dtype=np.float32), np.arange(y1 - y0, dtype=np.float32)), -1
    )
    for axis in (0, 1):
        for k, shift in enumerate(RESTORE_PHASES):
            source = grid.copy()
            source[..., axis] += np.float32(shift)
            shifted = cv2.remap(face, source, None, INTERPOLATION, borderMode=cv2.BORDER_REPLICATE)
            phase = grid_phase(source)

            def kept(gain: float, shifted=shifted, phase=phase, axis=axis, k=k) -> float:
                trial = gains.copy()
                trial[axis, :] = 0.0
                trial[axis, k] = gain
                return detail(restore_detail(shifted, phase, gain_tables(trial))) / photo

            lo, hi = 0.0, RESTORE_MAX
            if kept(hi) <= 1.0:
                gains[axis, k] = hi
                continue
            if kept(lo) >= 1.0:
                continue
            for _ in range(steps):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if kept(mid) < 1.0 else (lo, mid)
            gains[axis, k] = 0.5 * (lo + hi)
    return gains
