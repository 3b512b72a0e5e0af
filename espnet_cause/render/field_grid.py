"""Dense displacement fields on the field grid, interpolated from the landmarks' displacements.

The landmarks in the face region and fixed border points on its edge are the nodes of a Delaunay
triangulation; each grid node's displacement blends its triangle's corners' (piecewise-linear
interpolation, :func:`grid_fields`). The fields fade to 0 away from the face's outline
(:func:`support_mask`) and are 0 on the photo's other faces (:func:`outside_mask`).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.spatial import Delaunay

#: Border points per side of the face region (fixed, zero displacement).
BORDER_POINTS = 8


def grid_fields(
    points: np.ndarray,
    basis: np.ndarray,
    roi_size: tuple[int, int],
    xx: np.ndarray,
    yy: np.ndarray,
    extra: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """(K, gh * gw, 2) float32: each basis row's displacement at the grid nodes, interpolated on
    a triangulation of the landmarks inside the face region plus :data:`BORDER_POINTS` fixed
    points a side on its edge (zero displacement).

    Args:
        points: (N, 2) float32 the landmarks in face-region pixels.
        basis: (K, N, 2) float32 each row's displacement of them (pixels).
        roi_size: The face region's width and height (pixels).
        xx: (gh, gw) the grid nodes' x (face-region pixels).
        yy: (gh, gw) the grid nodes' y.
        extra: More nodes and their displacements, (M, 2) and (K, M, 2) float32 (None: none).
    """
    rw, rh = roi_size
    t = np.linspace(0.0, 1.0, BORDER_POINTS + 1)[:-1]
    lo_x, hi_x, lo_y, hi_y = -1.0, rw, -1.0, rh
    border = np.concatenate(
        [
            np.stack([lo_x + t * (hi_x - lo_x), np.full_like(t, lo_y)], 1),
            np.stack([np.full_like(t, hi_x), lo_y + t * (hi_y - lo_y)], 1),
            np.stack([hi_x - t * (hi_x - lo_x), np.full_like(t, hi_y)], 1),
            np.stack([np.full_like(t, lo_x), hi_y - t * (hi_y - lo_y)], 1),
        ]
    ).astype(np.float32)
    pts = points
    inside = (pts[:, 0] > lo_x) & (pts[:, 0] < hi_x) & (pts[:, 1] > lo_y) & (pts[:, 1] < hi_y)
    nodes = np.concatenate([pts[inside], border])
    node_basis = np.concatenate(
        [basis[:, inside], np.zeros((len(basis), len(border), 2), np.float32)], axis=1
    )
    if extra is not None:
        nodes = np.concatenate([nodes, extra[0]])
        node_basis = np.concatenate([node_basis, extra[1]], axis=1)
    tri = Delaunay(nodes.astype(np.float64))
    q = np.stack([xx.ravel(), yy.ravel()], 1)
    simplex = tri.find_simplex(q)
    simplex = np.where(simplex < 0, 0, simplex)  # on-border rounding; weights clip below
    trans = tri.transform[simplex]
    b = np.einsum("nij,nj->ni", trans[:, :2], q - trans[:, 2])
    bary = np.clip(np.concatenate([b, 1 - b.sum(1, keepdims=True)], 1), 0.0, 1.0)
    bary /= bary.sum(1, keepdims=True)
    verts = tri.simplices[simplex]  # (n, 3)
    return (node_basis[:, verts] * bary[None, :, :, None].astype(np.float32)).sum(2)


def support_mask(points: np.ndarray, height: int, width: int, ramp: float) -> np.ndarray:
    """(height, width) float32 on the field grid: 1 inside the hull of ``points`` (grid
    coordinates), falling smoothly to 0 at ``ramp`` grid cells outside it."""
    hull = np.zeros((height, width), np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    distance = cv2.distanceTransform(1 - hull, cv2.DIST_L2, 5)
    x = np.clip(1.0 - distance / max(ramp, 1.0), 0.0, 1.0)
    return (x * x * (3.0 - 2.0 * x)).astype(np.float32)


def outside_mask(points: np.ndarray, height: int, width: int, margin: float) -> np.ndarray:
    """(height, width) float32 on the field grid: 0 on the hull of ``points`` grown by ``margin``
    grid cells (at least 2, so the upsampled field is 0 on it too), 1 elsewhere."""
    hull = np.zeros((height, width), np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    distance = cv2.distanceTransform(1 - hull, cv2.DIST_L2, 5)
    return (distance > max(margin, 2.0)).astype(np.float32)
