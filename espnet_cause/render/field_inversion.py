"""Inverting a forward displacement field on its grid: the backward map a frame samples with.

A frame's forward field ``d`` moves each photo pixel ``x`` to ``x + d(x)``; the warp needs, for
each output pixel, where it comes from: ``back`` with ``y + d(y) = x`` for ``y = x + back(x)``.
:func:`invert_field` finds it by fixed-point steps, then Newton steps on the grid nodes still off.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

#: Inverting the forward displacement field (:func:`invert_field`): fixed-point steps
#: (1 = one remap of the field), then at most NEWTON_STEPS Newton steps where a grid node is still
#: more than INVERT_TOLERANCE pixels off...
INVERT_STEPS = 2
NEWTON_STEPS = 8
INVERT_TOLERANCE = 0.5
#: ... with the Jacobian's determinant at least this (where the field folds the skin).
MIN_JACOBIAN = 0.2
#: The Newton steps work on the off nodes laid out in rows of at most this many.
NEWTON_ROW = 4096


def invert_field(
    forward: np.ndarray,
    grid_px: np.ndarray,
    scale_to_grid: np.ndarray,
    edge_px: np.ndarray,
    roi_size: tuple[int, int],
    opening: Callable[[], np.ndarray | None] | None = None,
) -> np.ndarray:
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
    nodes where the mouth opens further than in the photo (``opening()``, called only when Newton
    steps run; None, or returning None: no node left out): the lips parting stretch the rows
    between them without bound (the painted cavity covers them; Newton steps there doubled the
    time of a frame). The Newton steps start from
    ``-d(x)`` and a node keeps them only where they end nearer than the fixed-point steps
    (where the closure presses the lips past touching, the field folds: started from the
    fixed-point result, nodes on the skin converged to the interior's preimage, specks).

    Args:
        forward: (gh, gw, 2) float32 forward displacement (pixels) at the grid nodes.
        grid_px: (gh, gw, 2) float32 the nodes' positions in the face region (pixels).
        scale_to_grid: (2,) float32 grid cells per pixel in x and y.
        edge_px: (2,) float32 the face region's last pixel in x and y.
        roi_size: The face region's width and height (pixels).
        opening: Returns the (gh, gw) bool nodes the Newton steps leave to the fixed-point steps, or
            None (none).

    Returns:
        (gh, gw, 2) float32 backward displacement (pixels).
    """
    gh, gw = forward.shape[:2]

    def residual(back: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        at = (grid + back + 0.5) * scale_to_grid - 0.5  # grid coordinates
        res = back + cv2.remap(forward, at, None, cv2.INTER_LINEAR, cv2.BORDER_REPLICATE)
        return res, at

    back = -forward
    for _ in range(INVERT_STEPS):
        back = back - residual(back, grid_px)[0]
    res = residual(back, grid_px)[0]
    off = largest(res) > INVERT_TOLERANCE
    if not off.any():
        return back
    mouth = None if opening is None else opening()
    if mouth is not None:
        off &= ~mouth
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
    grid, sub = grid_px[rows, cols].reshape(shape), -forward[rows, cols].reshape(shape)
    sub = np.clip(grid + sub, 0.0, edge_px) - grid
    fixed, fixed_res = back[rows, cols].reshape(shape), res[rows, cols].reshape(shape)
    res, at = residual(sub, grid)
    cell = roi_size[0] / gw, roi_size[1] / gh  # pixels per grid step
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
        worse = taxicab(res_trial) > taxicab(res)
        if worse.any():
            sub = np.where(worse[..., None], sub - 0.5 * step, trial)
            res, at = residual(sub, grid)
        else:
            sub, res, at = trial, res_trial, at_trial
    # where the steps did not end nearer than the fixed-point steps (a fold), those
    better = taxicab(res) < taxicab(fixed_res)
    back[rows, cols] = np.where(better[..., None], sub, fixed).reshape(-1, 2)
    return back


def largest(v: np.ndarray) -> np.ndarray:
    """(...) the larger of |x| and |y| of (..., 2) vectors: ``np.abs(v).max(-1)``, written out
    (numpy's reduction over a length-2 last axis costs ~0.1 us a vector: 0.6 ms on a 68 x 68
    field grid, every frame; the same values)."""
    return np.maximum(np.abs(v[..., 0]), np.abs(v[..., 1]))


def taxicab(v: np.ndarray) -> np.ndarray:
    """(...) |x| + |y| of (..., 2) vectors: ``np.abs(v).sum(-1)`` written out (see
    :func:`largest`; the same values)."""
    return np.abs(v[..., 0]) + np.abs(v[..., 1])
