"""Training-free renderer: move the face landmarks by AU and warp the photo with them.

Each AU moves a set of MediaPipe face-mesh landmarks ("drivers") in a face frame (origin at the
mouth centre, x along the eye line, y towards the chin, unit = the distance between the eye
centres); the other landmarks follow their nearby drivers with a Gaussian fall-off. Landmark
displacements are linear in the AU intensities, so each AU becomes one dense displacement field,
built once per photo on a Delaunay triangulation of the 478 landmarks plus the border of the face
region (piecewise-linear interpolation). A frame is the AU-weighted sum of the 17 fields, inverted
by a fixed-point step and applied with ``cv2.remap``; a dark mouth cavity with a band of upper teeth
is painted where the lips part further than in the photo.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import numpy as np

from espnet_cause.au import AU_INTENSITY_MAX, NUM_AUS, au_index
from espnet_cause.errors import CauseError
from espnet_cause.face.landmarker import Face, FaceLandmarker, find_face
from espnet_cause.io.image import to_rgb

logger = logging.getLogger(__name__)

# --- MediaPipe face-mesh topology (landmark indices) ---------------------------------------
OUTER_UPPER_LIP = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
OUTER_LOWER_LIP = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
INNER_UPPER_LIP = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LOWER_LIP = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
#: Upper and lower lid contours of each eye, corner to corner.
EYE_UPPER = (
    (33, 246, 161, 160, 159, 158, 157, 173, 133),
    (263, 466, 388, 387, 386, 385, 384, 398, 362),
)
EYE_LOWER = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133),
    (263, 249, 390, 373, 374, 380, 381, 382, 362),
)
#: Iris landmarks (centre first) of each eye.
IRISES = ((468, 469, 470, 471, 472), (473, 474, 475, 476, 477))
BROWS = (
    (46, 53, 52, 65, 55, 70, 63, 105, 66, 107),
    (276, 283, 282, 295, 285, 300, 293, 334, 296, 336),
)
NOSE = (168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 98, 97, 326, 327, 294, 278, 344, 440, 275)
NOSE_BRIDGE = (168, 6, 197, 195)
NOSE_WINGS = (98, 97, 2, 326, 327, 294, 64, 48, 278)
CHIN = (152, 148, 176, 149, 377, 400, 378, 199, 175)
MOUTH_CENTER = (13, 14)

# --- Motion model (face units: 1 = distance between the eye centres; y points to the chin) ---
#: Gaussian radius with which non-driver landmarks follow the drivers.
FOLLOW_SIGMA = 0.12
#: Face region warped around the landmark box, as a fraction of the box size on each side.
ROI_MARGIN = 0.35
#: Longest side of the grid on which the displacement fields are stored (upsampled per frame).
FIELD_GRID_SIDE = 256
#: Border points per side of the face region (fixed, zero displacement).
BORDER_POINTS = 8
#: Displacement (face units) at the maximum intensity, per motion.
BROW_RAISE = 0.08
BROW_LOWER = 0.07
BROW_SQUEEZE = 0.04
LID_RAISE = 0.035
LID_TIGHTEN = 0.03
BLINK_CLOSE = 0.95
CHEEK_RAISE = 0.05
NOSE_WRINKLE = 0.03
UPPER_LIP_RAISE = 0.06
CORNER_PULL = 0.10
DIMPLE = 0.03
CORNER_DEPRESS = 0.08
CHIN_RAISE = 0.05
LIP_STRETCH = 0.10
LIP_TIGHTEN = 0.04
LIPS_PART_UPPER = 0.035
LIPS_PART_LOWER = 0.10
JAW_DROP = 0.20
#: Mouth cavity and teeth colours (RGB) painted where the lips part further than in the photo.
CAVITY_RGB = (96, 38, 42)
TEETH_RGB = (236, 222, 198)
#: How much darker the middle of the mouth cavity is than its edges (0..1).
CAVITY_SHADE = 0.5
#: Teeth band height as a fraction of the added lip gap, and its maximum in face units.
TEETH_FRACTION = 0.35
TEETH_MAX = 0.06
#: Added lip gap (pixels) over which the cavity paint fades in.
CAVITY_FADE_PX = 3.0
#: AU vectors whose largest absolute value is below this are rendered as the unchanged photo.
ZERO_AU = 1e-3


def _face_frame(face: Face) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Origin, x axis, y axis (unit vectors, pixels) and unit length (eye distance, pixels)."""
    left, right = face.eye_centers()
    ex = right - left
    unit = float(np.linalg.norm(ex))
    if unit < 1.0:
        raise CauseError(f"face too small to animate (eye distance {unit:.1f} px)")
    ex = ex / unit
    ey = np.array([-ex[1], ex[0]])  # rotate +90 degrees: image y grows downwards
    origin = face.points[list(MOUTH_CENTER)].mean(axis=0)
    return origin, ex, ey, unit


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


class _Motions:
    """Per-AU driver displacements in face units, built from one face's landmark layout."""

    def __init__(self, uv: np.ndarray) -> None:
        self.uv = uv
        self.drivers: dict[int, dict[int, np.ndarray]] = {k: {} for k in range(NUM_AUS)}
        mouth = np.array(OUTER_UPPER_LIP + OUTER_LOWER_LIP)
        self.half_width = max(float(np.abs(uv[mouth, 0]).max()), 0.05)

    def set(self, au: str, indices, du, dv) -> None:
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

    def corner_weight(self, indices) -> np.ndarray:
        """0 at the mouth centre line, 1 at the lip corners."""
        return np.clip(np.abs(self.uv[list(indices), 0]) / self.half_width, 0.0, 1.0) ** 2

    def centre_weight(self, indices) -> np.ndarray:
        """1 at the mouth centre line, 0 at the lip corners."""
        u = np.clip(np.abs(self.uv[list(indices), 0]) / self.half_width, 0.0, 1.0)
        return np.cos(0.5 * np.pi * u)

    def side(self, indices) -> np.ndarray:
        return np.sign(self.uv[list(indices), 0])


def _lid_shape(uv: np.ndarray, contour) -> np.ndarray:
    """0 at the eye corners, 1 mid-lid (a half sine over the lid width)."""
    u = uv[list(contour), 0]
    t = (u - u[0]) / (u[-1] - u[0] + 1e-9)
    return np.sin(np.pi * np.clip(t, 0.0, 1.0))


def _lid_gap(uv: np.ndarray, upper, lower) -> np.ndarray:
    """Vertical distance from each upper-lid point down to the lower lid (face units)."""
    lo = np.array(lower)
    order = np.argsort(uv[lo, 0])
    lower_v = np.interp(uv[list(upper), 0], uv[lo[order], 0], uv[lo[order], 1])
    return np.maximum(lower_v - uv[list(upper), 1], 0.0)


def build_landmark_basis(face: Face) -> np.ndarray:
    """Displacement of every landmark per unit AU intensity, in pixels.

    Args:
        face: The detected face (478 landmarks).

    Returns:
        (17, 478, 2) float32: landmark displacement (x, y pixels) for intensity 1 of each AU.
    """
    origin, ex, ey, unit = _face_frame(face)
    rel = face.points.astype(np.float64) - origin
    uv = np.stack([rel @ ex, rel @ ey], axis=1) / unit
    m = _Motions(uv)
    brows = BROWS[0] + BROWS[1]
    eyes = sum(EYE_UPPER + EYE_LOWER + IRISES, ())
    lips = OUTER_UPPER_LIP + OUTER_LOWER_LIP + INNER_UPPER_LIP + INNER_LOWER_LIP
    upper_lips = OUTER_UPPER_LIP + INNER_UPPER_LIP
    lower_lips = OUTER_LOWER_LIP[1:-1] + INNER_LOWER_LIP[1:-1]

    # Brows: AU01 inner raiser, AU02 outer raiser, AU04 lowerer (down and together).
    bu = np.abs(uv[list(brows), 0])
    inner = np.clip(1.0 - (bu - 0.1) / 0.45, 0.3, 1.0)
    outer = np.clip((bu - 0.05) / 0.4, 0.2, 1.0)
    m.set("AU01", brows, 0.0, -BROW_RAISE * inner)
    m.set("AU02", brows, 0.0, -BROW_RAISE * outer)
    m.set("AU04", brows, -np.sign(uv[list(brows), 0]) * BROW_SQUEEZE * inner, BROW_LOWER * inner)
    for au in ("AU01", "AU02", "AU04"):
        m.anchor(au, eyes + NOSE)

    # Lids: AU05 raises the upper lid, AU07 tightens (lower lid up), AU45 closes the eye.
    for upper, lower, iris in zip(EYE_UPPER, EYE_LOWER, IRISES, strict=True):
        up_shape, lo_shape = _lid_shape(uv, upper), _lid_shape(uv, lower)
        gap = _lid_gap(uv, upper, lower)
        m.set("AU05", upper, 0.0, -LID_RAISE * up_shape)
        m.set("AU07", lower, 0.0, -LID_TIGHTEN * lo_shape)
        m.set("AU07", upper, 0.0, 0.3 * LID_TIGHTEN * up_shape)
        close = BLINK_CLOSE * gap
        m.set("AU45", upper, 0.0, 0.85 * close)
        m.set("AU45", lower, 0.0, -0.15 * close)
        m.set("AU06", lower, 0.0, -0.5 * LID_TIGHTEN * lo_shape)
        # irises squeeze between the moving lids
        top, bottom = float(uv[list(upper), 1].min()), float(uv[list(lower), 1].max())
        t = np.clip((uv[list(iris), 1] - top) / max(bottom - top, 1e-6), 0.0, 1.0)
        mid_close = float(close.max())
        m.set("AU45", iris, 0.0, (1 - t) * 0.85 * mid_close - t * 0.15 * mid_close)
        m.set("AU05", iris, 0.0, -(1 - t) * LID_RAISE * 0.5)
        for au in ("AU05", "AU07", "AU45", "AU06"):
            m.anchor(au, upper + lower + iris)
    for au in ("AU05", "AU07", "AU45"):
        m.anchor(au, brows + NOSE)

    # Cheeks (AU06): cheek region rises a little, as do the lip corners.
    cheek = np.where(
        (np.abs(uv[:, 0]) > 0.3) & (np.abs(uv[:, 0]) < 0.8) & (uv[:, 1] > -0.75) & (uv[:, 1] < -0.1)
    )[0]
    m.set("AU06", cheek, 0.0, -CHEEK_RAISE)
    m.set("AU06", (61, 291), 0.0, -0.3 * CHEEK_RAISE)
    m.anchor("AU06", brows + NOSE_BRIDGE + lips + CHIN)

    # Nose wrinkler (AU09) and upper lip raiser (AU10).
    m.set("AU09", NOSE_WINGS, 0.0, -NOSE_WRINKLE)
    m.set("AU09", OUTER_UPPER_LIP, 0.0, -0.6 * NOSE_WRINKLE * m.centre_weight(OUTER_UPPER_LIP))
    m.anchor("AU09", eyes + brows + NOSE_BRIDGE + lower_lips + CHIN)
    m.set("AU10", upper_lips, 0.0, -UPPER_LIP_RAISE * (0.3 + 0.7 * m.centre_weight(upper_lips)))
    m.anchor("AU10", eyes + NOSE_BRIDGE + OUTER_LOWER_LIP + INNER_LOWER_LIP + CHIN)

    # Lip corner movers: AU12 up and out, AU14 out, AU15 down, AU20 out and down, AU23 in.
    c, s = m.corner_weight(lips), m.side(lips)
    m.set("AU12", lips, s * CORNER_PULL * c, -CORNER_PULL * c)
    m.set("AU14", lips, s * DIMPLE * c, -0.3 * DIMPLE * c)
    m.set("AU15", lips, 0.1 * s * CORNER_DEPRESS * c, CORNER_DEPRESS * c)
    m.set("AU20", lips, s * LIP_STRETCH * c, 0.2 * LIP_STRETCH * c)
    tight_v = np.where(np.isin(lips, OUTER_UPPER_LIP), 0.4, -0.4) * LIP_TIGHTEN * (1 - c)
    m.set("AU23", lips, -s * LIP_TIGHTEN * c, tight_v)
    for au in ("AU12", "AU14", "AU15", "AU20", "AU23"):
        m.anchor(au, eyes + brows + NOSE_BRIDGE + (1, 4) + (152,))

    # Chin raiser (AU17): chin and lower lip up.
    m.set("AU17", CHIN, 0.0, -CHIN_RAISE)
    m.set("AU17", OUTER_LOWER_LIP, 0.0, -0.6 * CHIN_RAISE * m.centre_weight(OUTER_LOWER_LIP))
    m.anchor("AU17", eyes + NOSE + upper_lips)

    # Lips part (AU25): lips separate, jaw still.
    m.set("AU25", INNER_UPPER_LIP, 0.0, -LIPS_PART_UPPER * m.centre_weight(INNER_UPPER_LIP))
    m.set("AU25", OUTER_UPPER_LIP, 0.0, -0.6 * LIPS_PART_UPPER * m.centre_weight(OUTER_UPPER_LIP))
    m.set("AU25", INNER_LOWER_LIP, 0.0, LIPS_PART_LOWER * m.centre_weight(INNER_LOWER_LIP))
    m.set("AU25", OUTER_LOWER_LIP, 0.0, 0.8 * LIPS_PART_LOWER * m.centre_weight(OUTER_LOWER_LIP))
    m.set("AU25", CHIN, 0.0, 0.2 * LIPS_PART_LOWER)
    m.anchor("AU25", eyes + brows + NOSE)

    # Jaw drop (AU26): everything below the mouth line comes down, most at the chin.
    below = np.where(uv[:, 1] > 0.0)[0]
    below = np.setdiff1d(below, np.array(upper_lips))
    lateral = np.clip(1.0 - (np.abs(uv[below, 0]) / 1.0) ** 2, 0.15, 1.0)
    m.set("AU26", below, 0.0, JAW_DROP * _smoothstep(uv[below, 1] / 0.35) * lateral)
    m.set("AU26", INNER_LOWER_LIP, 0.0, 0.8 * JAW_DROP * m.centre_weight(INNER_LOWER_LIP))
    m.set("AU26", OUTER_LOWER_LIP, 0.0, 0.85 * JAW_DROP * m.centre_weight(OUTER_LOWER_LIP))
    m.anchor("AU26", eyes + brows + NOSE + upper_lips)

    # Non-driver landmarks follow nearby drivers (Gaussian weights, decaying far from them).
    n = len(uv)
    basis = np.zeros((NUM_AUS, n, 2))
    for k, drivers in m.drivers.items():
        if not drivers:
            continue
        idx = np.array(list(drivers))
        disp = np.stack([drivers[i] for i in idx.tolist()])
        d2 = ((uv[:, None, :] - uv[None, idx, :]) ** 2).sum(-1)
        w = np.exp(-d2 / (2 * FOLLOW_SIGMA**2))
        moved = (w @ disp) / np.maximum(w.sum(1, keepdims=True), 1.0)
        moved[idx] = disp
        basis[k] = moved
    # face units -> pixels, per unit of intensity
    pixels = (basis[..., :1] * ex + basis[..., 1:] * ey) * unit / AU_INTENSITY_MAX
    return pixels.astype(np.float32)


class WarpRenderer:
    """Animate a still photo with an AU sequence by warping it along moved face landmarks.

    Args:
        face_landmarker_path: Path to the MediaPipe ``face_landmarker.task`` model (None: the
            packaged model, see :func:`espnet_cause.face.model_file.resolve_face_landmarker`).
        face_index: Which face to animate when the photo has several (0 = largest).
        gain: Scale applied to all AU intensities (1 = as given).
    """

    def __init__(
        self,
        face_landmarker_path: str | os.PathLike | None = None,
        face_index: int = 0,
        gain: float = 1.0,
    ) -> None:
        self.face_landmarker_path = face_landmarker_path
        self._landmarker: FaceLandmarker | None = None
        self.face_index = face_index
        self.gain = gain
        self._cache_key: tuple | None = None
        self._prepared: _PreparedFace | None = None

    def prepare(self, image: np.ndarray, face: Face | None = None, source: str = "") -> None:
        """Detect the face (unless given) and build its displacement fields (done once per photo)."""
        image = to_rgb(image, source)
        if face is None:
            if self._landmarker is None:
                self._landmarker = FaceLandmarker(self.face_landmarker_path)
            face = find_face(self._landmarker, image, self.face_index, source=source)
        self._prepared = _PreparedFace(image, face)
        self._cache_key = _image_key(image)

    def render(self, image: np.ndarray, aus: np.ndarray) -> Iterator[np.ndarray]:
        """Frames of the photo moved by each AU row.

        Args:
            image: (H, W, 3) uint8 RGB photo (gray/RGBA are converted).
            aus: (T, 17) AU intensities on the 0-5 scale, OpenFace order.

        Yields:
            T frames, each (H, W, 3) uint8 RGB.
        """
        image = to_rgb(image)
        aus = np.asarray(aus, dtype=np.float32)
        if aus.ndim != 2 or aus.shape[1] != NUM_AUS:
            raise CauseError(f"AU array has shape {aus.shape}, expected (T, {NUM_AUS})")
        if self._prepared is None or self._cache_key != _image_key(image):
            self.prepare(image)
        prepared = self._prepared
        for row in np.nan_to_num(aus, nan=0.0):
            yield prepared.frame(row * self.gain)

    def close(self) -> None:
        """Release the face landmarker (if one was loaded)."""
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None


def _image_key(image: np.ndarray) -> tuple:
    sample = image[:: max(1, image.shape[0] // 16), :: max(1, image.shape[1] // 16)]
    return (image.shape, hash(sample.tobytes()))


class _PreparedFace:
    """The per-photo state: face region, dense per-AU displacement fields and mouth geometry."""

    def __init__(self, image: np.ndarray, face: Face) -> None:
        import cv2
        from scipy.spatial import Delaunay

        self.image = image
        height, width = image.shape[:2]
        self.basis = build_landmark_basis(face)  # (17, 478, 2) px per intensity unit
        self.points = face.points.astype(np.float32)
        x0, y0, x1, y1 = face.bbox
        mx, my = ROI_MARGIN * (x1 - x0), ROI_MARGIN * (y1 - y0)
        self.x0, self.y0 = max(0, int(x0 - mx)), max(0, int(y0 - my))
        self.x1, self.y1 = min(width, int(np.ceil(x1 + mx))), min(height, int(np.ceil(y1 + my)))
        rw, rh = self.x1 - self.x0, self.y1 - self.y0
        self.roi_size = (rw, rh)
        # coarse grid for the fields
        step = max(1.0, max(rw, rh) / FIELD_GRID_SIDE)
        gw, gh = max(2, int(np.ceil(rw / step))), max(2, int(np.ceil(rh / step)))
        gx = (np.arange(gw) + 0.5) * (rw / gw) - 0.5
        gy = (np.arange(gh) + 0.5) * (rh / gh) - 0.5
        # triangulation of the landmarks (ROI coordinates) plus fixed border points
        pts = self.points - np.array([self.x0, self.y0], dtype=np.float32)
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
        inside = (pts[:, 0] > lo_x) & (pts[:, 0] < hi_x) & (pts[:, 1] > lo_y) & (pts[:, 1] < hi_y)
        nodes = np.concatenate([pts[inside], border])
        node_basis = np.concatenate(
            [self.basis[:, inside], np.zeros((NUM_AUS, len(border), 2), np.float32)], axis=1
        )
        tri = Delaunay(nodes.astype(np.float64))
        xx, yy = np.meshgrid(gx, gy)
        q = np.stack([xx.ravel(), yy.ravel()], 1)
        simplex = tri.find_simplex(q)
        simplex = np.where(simplex < 0, 0, simplex)  # on-border rounding; weights clip below
        trans = tri.transform[simplex]
        b = np.einsum("nij,nj->ni", trans[:, :2], q - trans[:, 2])
        bary = np.clip(np.concatenate([b, 1 - b.sum(1, keepdims=True)], 1), 0.0, 1.0)
        bary /= bary.sum(1, keepdims=True)
        verts = tri.simplices[simplex]  # (n, 3)
        # fields (17, gh*gw*2) so a frame is one small matrix product
        fields = (node_basis[:, verts] * bary[None, :, :, None].astype(np.float32)).sum(2)
        self.fields = fields.reshape(NUM_AUS, gh * gw * 2).astype(np.float32)
        self.grid_shape = (gh, gw)
        self.scale_to_grid = (gw / rw, gh / rh)
        mx_, my_ = np.meshgrid(np.arange(rw, dtype=np.float32), np.arange(rh, dtype=np.float32))
        self.identity = np.stack([mx_, my_], -1)
        self.roi = np.ascontiguousarray(image[self.y0 : self.y1, self.x0 : self.x1])
        # mouth: rest positions of the inner lips (ROI coordinates), for the cavity paint
        self.inner_upper = pts[list(INNER_UPPER_LIP)]
        self.inner_lower = pts[list(INNER_LOWER_LIP)]
        self.unit = _face_frame(face)[3]
        self._cv2 = cv2

    def frame(self, au_row: np.ndarray) -> np.ndarray:
        """One (H, W, 3) uint8 frame for a (17,) AU row."""
        cv2 = self._cv2
        if float(np.abs(au_row).max(initial=0.0)) < ZERO_AU:
            return self.image.copy()
        rw, rh = self.roi_size
        gh, gw = self.grid_shape
        coarse = (au_row.astype(np.float32) @ self.fields).reshape(gh, gw, 2)
        field = cv2.resize(coarse, (rw, rh), interpolation=cv2.INTER_LINEAR)
        # backward map: source = x - d(x - d(x)) (one fixed-point step of inverting x + d(x))
        first = self.identity - field
        field_at = cv2.remap(field, first, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        source = self.identity - field_at
        warped = cv2.remap(self.roi, source, None, cv2.INTER_LINEAR, cv2.BORDER_REPLICATE)
        self._paint_mouth(warped, au_row)
        out = self.image.copy()
        out[self.y0 : self.y1, self.x0 : self.x1] = warped
        return out

    def _paint_mouth(self, roi: np.ndarray, au_row: np.ndarray) -> None:
        """Paint the mouth cavity (and upper teeth) where the lips part further than at rest."""
        cv2 = self._cv2
        disp = np.tensordot(au_row.astype(np.float32), self.basis, axes=1)  # (478, 2)
        du = disp[list(INNER_UPPER_LIP)]
        dl = disp[list(INNER_LOWER_LIP)]
        added_gap = float(np.max((dl - du)[:, 1]))
        if added_gap < 0.5:
            return
        upper = self.inner_upper + du
        lower = self.inner_lower + dl
        poly = np.concatenate([upper, lower[::-1]])
        x0, y0 = np.floor(poly.min(0)).astype(int) - 2
        x1, y1 = np.ceil(poly.max(0)).astype(int) + 3
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, roi.shape[1]), min(y1, roi.shape[0])
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        shift = 4  # fixed-point bits for sub-pixel polygon drawing
        off = np.array([x0, y0], dtype=np.float32)

        def fill(points: np.ndarray) -> np.ndarray:
            mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
            pts = np.round((points - off) * (1 << shift)).astype(np.int32)
            cv2.fillPoly(mask, [pts], 255, cv2.LINE_AA, shift)
            return mask.astype(np.float32) / 255.0

        mouth = fill(poly)
        teeth_h = np.minimum(TEETH_FRACTION * (lower - upper)[:, 1], TEETH_MAX * self.unit)
        teeth_line = upper + np.stack([np.zeros_like(teeth_h), np.maximum(teeth_h, 0.0)], 1)
        teeth = np.minimum(fill(np.concatenate([upper, teeth_line[::-1]])), mouth)
        alpha = min(1.0, added_gap / CAVITY_FADE_PX)
        if mouth.shape[0] >= 3 and mouth.shape[1] >= 3:
            teeth = cv2.GaussianBlur(teeth, (3, 3), 0)
            mouth = cv2.GaussianBlur(mouth, (3, 3), 0)
        # shading: the cavity darkens towards its middle row, the teeth towards their lower edge
        rows = np.linspace(0.0, 1.0, mouth.shape[0], dtype=np.float32)[:, None, None]
        shade = 1.0 - CAVITY_SHADE * np.sin(np.pi * rows)
        patch = roi[y0:y1, x0:x1].astype(np.float32)
        cavity = np.array(CAVITY_RGB, np.float32) * shade
        tooth = np.array(TEETH_RGB, np.float32) * (1.0 - 0.25 * rows)
        colour = cavity + teeth[..., None] * (tooth - cavity)
        a = (alpha * mouth)[..., None]
        roi[y0:y1, x0:x1] = (patch * (1 - a) + colour * a + 0.5).astype(np.uint8)
