"""The motion model's drivers: per-AU landmark motions in face units, followed and drawn in pixels.

Each AU moves a set of face-mesh landmarks ("drivers", :class:`Motions`) in the face frame
(:func:`~espnet_cause.render.face_geometry.face_uv`); the other landmarks follow their nearby
drivers with a Gaussian fall-off (:func:`follow`), and :func:`to_pixels` turns face units back
into image pixels.
"""

from __future__ import annotations

import numpy as np

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.render.face_geometry import OUTER_LOWER_LIP, OUTER_UPPER_LIP

#: Gaussian radius with which non-driver landmarks follow the drivers.
FOLLOW_SIGMA = 0.12


class Motions:
    """Per-AU driver displacements in face units, built from one face's landmark layout."""

    def __init__(self, uv: np.ndarray) -> None:
        self.uv = uv
        self.drivers: dict[int, dict[int, np.ndarray]] = {k: {} for k in range(NUM_AUS)}
        mouth = np.array(OUTER_UPPER_LIP + OUTER_LOWER_LIP)
        self.half_width = max(float(np.abs(uv[mouth, 0]).max()), 0.05)

    def set(self, au: str, indices, du, dv) -> None:
        """Drive the landmarks ``indices`` for this AU by ``du`` across and ``dv`` down (face
        units at the maximum intensity; scalars or one per landmark)."""
        k = au_index(au)
        indices = np.atleast_1d(np.asarray(indices))
        du = np.broadcast_to(np.asarray(du, dtype=np.float64), indices.shape)
        dv = np.broadcast_to(np.asarray(dv, dtype=np.float64), indices.shape)
        for i, a, b in zip(indices.tolist(), du.tolist(), dv.tolist(), strict=True):
            self.drivers[k][i] = np.array([a, b])

    def anchor(self, au: str, indices) -> None:
        """Landmarks that must stay where they are for this AU (unless already driven)."""
        k = au_index(au)
        for i in np.atleast_1d(np.asarray(indices)).tolist():
            self.drivers[k].setdefault(i, np.zeros(2))

    def across(self, indices) -> np.ndarray:
        """The share of the way from the mouth centre line out to the lip corners (0 to 1)."""
        return np.clip(np.abs(self.uv[list(indices), 0]) / self.half_width, 0.0, 1.0)

    def corner_weight(self, indices) -> np.ndarray:
        """0 at the mouth centre line, 1 at the lip corners (the square of :meth:`across`)."""
        return self.across(indices) ** 2

    def centre_weight(self, indices) -> np.ndarray:
        """1 at the mouth centre line, 0 at the lip corners."""
        return np.cos(0.5 * np.pi * self.across(indices))

    def side(self, indices) -> np.ndarray:
        """-1 left of the mouth centre line, 1 right of it (0 on it)."""
        return np.sign(self.uv[list(indices), 0])


def follow(uv: np.ndarray, drivers: dict[int, np.ndarray]) -> np.ndarray:
    """(478, 2) displacement: the drivers' own, the other landmarks follow nearby drivers
    (Gaussian weights of radius :data:`FOLLOW_SIGMA`, decaying far from every driver)."""
    moved = np.zeros((len(uv), 2))
    if not drivers:
        return moved
    idx = np.array(list(drivers))
    disp = np.stack([drivers[i] for i in idx.tolist()])
    d2 = ((uv[:, None, :] - uv[None, idx, :]) ** 2).sum(-1)
    w = np.exp(-d2 / (2 * FOLLOW_SIGMA**2))
    moved = (w @ disp) / np.maximum(w.sum(1, keepdims=True), 1.0)
    moved[idx] = disp
    return moved


def to_pixels(disp: np.ndarray, ex: np.ndarray, ey: np.ndarray, scale: float) -> np.ndarray:
    """Face-unit displacements (..., 2) -> pixels (float32), times ``scale``."""
    return ((disp[..., :1] * ex + disp[..., 1:] * ey) * scale).astype(np.float32)
