"""The eyes' motions: the lids (AU05, AU07, AU45) and the cheek raiser under them (AU06).

The lids move by a half sine over their width (:func:`_lid_shape`); the blink closes the photo's
whole lid gap at :data:`BLINK_FULL`; the iris landmarks a lid covers move with it, the visible
ones stay or squeeze between the lids (:func:`_iris_motion`). :func:`eye_motions` sets them on the
per-AU drivers, :func:`build_lower_lid_basis` gives AU07's lower lid alone a field of its own.
Displacements are in face units (1 = the distance between the eye centres; y points to the
chin) at the maximum intensity.
"""

from __future__ import annotations

import numpy as np

from espnet_cause.au import AU_INTENSITY_MAX, au_index
from espnet_cause.face.landmarker import Face
from espnet_cause.render.face_geometry import (
    BOTH_BROWS,
    CHIN,
    EYE_LOWER,
    EYE_UPPER,
    IRISES,
    LIPS,
    NOSE,
    NOSE_BRIDGE,
    face_uv,
    lid_line,
)
from espnet_cause.render.motion_drivers import Motions, follow, to_pixels

#: Displacement (face units) at the maximum intensity, per motion: the upper lid's raise (AU05),
#: the lower lid's (AU07), mid-lid.
LID_RAISE = 0.07
LID_TIGHTEN = 0.15
#: AU07 lowers the upper lid this share of its lower lid's raise.
LID_TIGHTEN_UPPER = 0.3
#: AU45 closes the eye fully (the photo's whole lid gap) at BLINK_FULL; above it the lids stay
#: closed (the renderer clips AU45 there).
BLINK_FULL = 4.0
BLINK_CLOSE = AU_INTENSITY_MAX / BLINK_FULL
#: ... the lower lid rising this share of the lid gap, the upper lid coming down the rest (FACS
#: AU45: the upper lid drops, the lower one hardly moves). At 0.15 the closing eye's lower lid
#: rose as in a squint, and the tracker read the blink's frames as AU07 (eyeSquint) more than it
#: does with the upper lid alone closing (AU07's closed-loop r 0.54-0.64 -> 0.56-0.72, 6 photos).
BLINK_LOWER_SHARE = 0.0
#: AU06 (the cheek raiser) pushes the lower lid up this share of AU07's raise (:data:`LID_TIGHTEN`):
#: the cheek narrows the eye from below (FACS), less than the lid tightener. At 0.5 the tracker,
#: which never reads AU06 (``cheekSquint`` 0 on every frame), read AU06's raise as AU07 (0.5-1.3
#: units at 4).
CHEEK_LID_SHARE = 0.25
CHEEK_RAISE = 0.09


def eye_motions(m: Motions) -> None:
    """The eyes' AUs: AU05 raises the upper lid, AU07 tightens the lids (the lower lid up), AU45
    closes the eye, AU06 raises the cheeks and with them the lower lid; the iris landmarks squeeze
    between the lids or stay under them (:func:`_iris_motion`), the brows and the nose stay."""
    uv = m.uv

    # Lids: AU05 raises the upper lid, AU07 tightens (lower lid up), AU45 closes the eye.
    for upper, lower, iris in zip(EYE_UPPER, EYE_LOWER, IRISES, strict=True):
        up_shape, lo_shape = _lid_shape(uv, upper), _lid_shape(uv, lower)
        gap = _lid_gap(uv, upper, lower)
        m.set("AU05", upper, 0.0, -LID_RAISE * up_shape)
        m.set("AU07", lower, 0.0, -LID_TIGHTEN * lo_shape)
        m.set("AU07", upper, 0.0, LID_TIGHTEN_UPPER * LID_TIGHTEN * up_shape)
        close = BLINK_CLOSE * gap
        m.set("AU45", upper, 0.0, (1 - BLINK_LOWER_SHARE) * close)
        m.set("AU45", lower, 0.0, -BLINK_LOWER_SHARE * close)
        m.set("AU06", lower, 0.0, -CHEEK_LID_SHARE * LID_TIGHTEN * lo_shape)
        # irises squeeze between the moving lids
        top, bottom = float(uv[list(upper), 1].min()), float(uv[list(lower), 1].max())
        t = np.clip((uv[list(iris), 1] - top) / max(bottom - top, 1e-6), 0.0, 1.0)
        mid_close = float(close.max())
        lo_share = BLINK_LOWER_SHARE
        m.set("AU45", iris, 0.0, ((1 - t) * (1 - lo_share) - t * lo_share) * mid_close)
        # ... the lid raiser slides the upper lid over a still eyeball; the tighteners squeeze it
        lids = (uv, upper, lower, iris)
        m.set("AU05", iris, 0.0, _iris_motion(*lids, -LID_RAISE, 0.0, still=True))
        tighten = LID_TIGHTEN_UPPER * LID_TIGHTEN, -LID_TIGHTEN
        m.set("AU07", iris, 0.0, _iris_motion(*lids, *tighten, still=False))
        cheek = -CHEEK_LID_SHARE * LID_TIGHTEN
        m.set("AU06", iris, 0.0, _iris_motion(*lids, 0.0, cheek, still=False))
        for au in ("AU05", "AU07", "AU45", "AU06"):
            m.anchor(au, upper + lower + iris)
    for au in ("AU05", "AU07", "AU45"):
        m.anchor(au, BOTH_BROWS + NOSE)

    # Cheeks (AU06): cheek region rises a little, as do the lip corners.
    cheek = np.where(
        (np.abs(uv[:, 0]) > 0.3) & (np.abs(uv[:, 0]) < 0.8) & (uv[:, 1] > -0.75) & (uv[:, 1] < -0.1)
    )[0]
    m.set("AU06", cheek, 0.0, -CHEEK_RAISE)
    m.set("AU06", (61, 291), 0.0, -0.3 * CHEEK_RAISE)
    m.anchor("AU06", BOTH_BROWS + NOSE_BRIDGE + LIPS + CHIN)


def _lid_shape(uv: np.ndarray, contour, u: np.ndarray | None = None) -> np.ndarray:
    """0 at the eye corners, 1 mid-lid (a half sine over the lid width), at the lid's own
    landmarks (``u`` None) or at the positions ``u`` across the eye (face units); (n,)."""
    u = uv[list(contour), 0] if u is None else u
    u0, u1 = uv[contour[0], 0], uv[contour[-1], 0]
    t = (u - u0) / (u1 - u0 + 1e-9)
    return np.sin(np.pi * np.clip(t, 0.0, 1.0))


def _lid_gap(uv: np.ndarray, upper, lower) -> np.ndarray:
    """Vertical distance from each upper-lid point down to the lower lid (face units)."""
    lower_v = lid_line(uv, lower, uv[list(upper), 0])
    return np.maximum(lower_v - uv[list(upper), 1], 0.0)


def _iris_motion(
    uv: np.ndarray, upper, lower, iris, upper_motion: float, lower_motion: float, still: bool
) -> np.ndarray:
    """(n,) how far (v, face units) each iris landmark moves while the lids' middles move by
    ``upper_motion`` and ``lower_motion`` (each lid by its half-sine shape at the landmark).

    An iris landmark that a lid covers in the photo (above the upper lid's line or below the
    lower one's: MediaPipe places the iris circle whole, under the lids too) is skin of that lid
    in the image and moves with it. The visible ones stay where they are when ``still`` (AU05:
    the lid slides up over a still eyeball) and otherwise squeeze between the moving lids by
    their height between them (as a blink squeezes them). Held still under a moving lid, the
    covered ones were crossed by it: the field folded there (AU05 at 4 put the upper lid's
    middle 0.03-0.06 eye distances above the still landmark it had covered, a notch in the lash
    line on MEAD M030; AU07 at 4 the lower lid 0.05-0.08 above the still bottom of the iris).
    """
    u, v = uv[list(iris), 0], uv[list(iris), 1]
    top, bottom = lid_line(uv, upper, u), lid_line(uv, lower, u)
    t = np.clip((v - top) / np.maximum(bottom - top, 1e-6), 0.0, 1.0)
    up = upper_motion * _lid_shape(uv, upper, u)
    lo = lower_motion * _lid_shape(uv, lower, u)
    visible = np.zeros_like(t) if still else (1.0 - t) * up + t * lo
    return np.where(v < top, up, np.where(v > bottom, lo, visible))


def build_lower_lid_basis(face: Face) -> np.ndarray:
    """Displacement per unit of AU07's lower lid alone: its lower-lid raise (:data:`LID_TIGHTEN`),
    the visible iris landmarks squeezed towards the still upper lid, the covered ones moving with
    the lower lid (:func:`_iris_motion`); the upper lid stays.

    Returns:
        (478, 2) float32 pixels per unit.
    """
    uv, ex, ey, unit = face_uv(face)
    m = Motions(uv)
    for upper, lower, iris in zip(EYE_UPPER, EYE_LOWER, IRISES, strict=True):
        m.set("AU07", lower, 0.0, -LID_TIGHTEN * _lid_shape(uv, lower))
        m.set("AU07", iris, 0.0, _iris_motion(uv, upper, lower, iris, 0.0, -LID_TIGHTEN, False))
        m.anchor("AU07", upper + lower + iris)
    m.anchor("AU07", BOTH_BROWS + NOSE)
    return to_pixels(follow(uv, m.drivers[au_index("AU07")]), ex, ey, unit / AU_INTENSITY_MAX)
