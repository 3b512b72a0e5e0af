"""The eyeball a lid uncovers: the photo's eye where it shows it, a smooth eyeball elsewhere.

Relaxing a squinting photo's lids (AU07 below the photo's own) and raising a hooded upper lid
(AU05) uncover eyeball the photo does not show. The warp stretched the photo's narrow opening
into the new one: a dark band with the iris lights drawn into vertical bars and a drip under it
(MEAD M030, MEAD sad, the demo photo), which the tracker did not read as an open eye (its lid
opening rose 0.19 -> 0.31 while the drawn one rose to 0.45). :func:`eyeball_texture` draws both
eyeballs once per photo, in the photo's pixels: inside each eye's opening (a little in from the
lid lines) the photo itself, elsewhere a made-up eyeball with no texture to copy: the iris as a
disc (MediaPipe's iris circle) whose colour at each radius is the median of the photo's visible
iris at that radius (the highlights are few pixels of a ring: the median leaves them out), the
sclera in the colour of the photo's visible sclera (no darker than a light grey of the skin
round the eye: a squint's visible sclera is in the lids' shade), darkened towards the top, where
the upper lid shades a real eyeball; the photo's lights on its visible iris are kept. Copying the visible texture (mirrored, turned about the iris centre)
drew second highlights, rings and seams (session 10, docs/render.md "Eyelids (session 10)").
"""

from __future__ import annotations

import cv2
import numpy as np

#: The iris colour is a median per ring of this many rings from the centre to the iris's edge.
IRIS_RINGS = 5
#: Visible pixels farther than this many iris radii from the iris centre are sclera (nearer the
#: limbus blends iris and sclera).
SCLERA_FROM = 1.25
#: The sclera's colour: this percentile (by brightness) of its visible pixels (the visible sclera
#: of a narrowed eye is partly in the lashes' shadow; the median drew a grey eyeball).
SCLERA_PERCENTILE = 75
#: Neither eye shows enough sclera to read its colour: the iris's outer ring's colour, lightened
#: this share of the way to white.
SCLERA_FALLBACK_LIGHTEN = 0.35
#: The made-up sclera is drawn at least this bright, per channel: this share of a light grey of
#: the skin round the eye (:func:`_skin_grey`: its :data:`SKIN_PERCENTILE` per channel,
#: :data:`SCLERA_SKIN_TINT` of the way from grey to its hue). A squint's visible "sclera" is in the lids' shade (MEAD M030's
#: a dark grey, eNTERFACE happy's brown): drawn that dark the opened eye read as narrower than
#: the warp's stretched band (a tighter squint, no wider under AU05: the closed loop's AU05 on
#: eNTERFACE happy closed 0.47 -> 0.31); at 0.85 it read 0.58, at 1.0 it looked painted white.
SCLERA_FLOOR = 0.85
SCLERA_SKIN_TINT = 0.3
SKIN_PERCENTILE = 75
#: The iris's lights: pixels of the photo's visible iris (up to the lid lines) this many grey
#: levels brighter than the made-up iris there and nearly grey (a spread of less than
#: :data:`LIGHT_CHROMA` grey levels between the channels: the lids' red margins inside the
#: landmarks' outline are not lights) are kept on it (left out, a squint's lights near its lid
#: lines were lost: a dull iris).
LIGHT_ABOVE = 40.0
LIGHT_CHROMA = 60.0
#: Fewest visible pixels to read a colour from.
MIN_PIXELS = 4
#: The sclera's colour at each point is the visible sclera's nearby, weighted by a Gaussian of
#: this many iris radii (a smooth field: no texture, no highlights copied), the colour above
#: where none is near.
SCLERA_SIGMA = 1.0
#: ... "near": this much Gaussian weight (of one pixel's) or more.
SCLERA_NEAR = 0.02
#: The upper lid's shade on the made-up eyeball: this share darker at the top of the iris circle's
#: box, none at its bottom.
TOP_SHADE = 0.15
#: The photo's eye blends into the made-up one over this many pixels.
FEATHER_PX = 1.5


def _ring_colours(
    pixels: np.ndarray, radius: np.ndarray, iris_radius: float, fallback: np.ndarray
) -> np.ndarray:
    """(IRIS_RINGS, 3) the median colour of the ``pixels`` ((n, 3)) in each ring of the iris
    (``radius`` (n,) their distances from its centre); rings with too few pixels take the
    nearest ring's colour (``fallback`` when no ring has enough)."""
    ring = np.minimum((radius / max(iris_radius, 1e-6) * IRIS_RINGS).astype(int), IRIS_RINGS - 1)
    colours = np.full((IRIS_RINGS, 3), np.nan, np.float32)
    for k in range(IRIS_RINGS):
        if (ring == k).sum() >= MIN_PIXELS:
            colours[k] = np.median(pixels[ring == k], axis=0)
    known = np.nonzero(~np.isnan(colours[:, 0]))[0]
    if len(known) == 0:
        return np.tile(fallback.astype(np.float32), (IRIS_RINGS, 1))
    for k in range(IRIS_RINGS):
        colours[k] = colours[known[np.argmin(np.abs(known - k))]]
    return colours


def _skin_grey(skin: np.ndarray) -> np.ndarray:
    """(3,) a light grey of the (n, 3) ``skin`` pixels round an eye: their
    :data:`SKIN_PERCENTILE` per channel, :data:`SCLERA_SKIN_TINT` of the way from grey to its
    hue (zeros when there are too few)."""
    if len(skin) < MIN_PIXELS:
        return np.zeros(3, np.float32)
    light = np.percentile(skin, SKIN_PERCENTILE, axis=0)
    grey = np.full(3, light.mean())
    return (grey + SCLERA_SKIN_TINT * (light - grey)).astype(np.float32)


def _sclera_colour(pixels: np.ndarray, iris_edge: np.ndarray, skin_grey: np.ndarray) -> np.ndarray:
    """(3,) the visible sclera's colour from its (n, 3) ``pixels``; too few: ``iris_edge``, the
    iris's outer ring, lightened, or ``skin_grey`` (:func:`_skin_grey`) if the ring is darker
    than it (a dark iris on a squint that shows no sclera: lightened, it drew a brown ring)."""
    if len(pixels) >= MIN_PIXELS:
        brightness = pixels.sum(1)
        cut = np.percentile(brightness, SCLERA_PERCENTILE)
        return np.median(pixels[brightness >= cut], axis=0).astype(np.float32)
    if iris_edge.mean() < skin_grey.mean():
        return skin_grey
    return (iris_edge + SCLERA_FALLBACK_LIGHTEN * (255.0 - iris_edge)).astype(np.float32)


def _sclera_field(
    photo: np.ndarray, seen: np.ndarray, colour: np.ndarray, iris_radius: float
) -> np.ndarray:
    """(h, w, 3) the sclera's colour at each pixel: the visible sclera (``seen`` (h, w) 1) nearby
    (:data:`SCLERA_SIGMA`), ``colour`` (3,) where none is near."""
    sigma = max(SCLERA_SIGMA * iris_radius, 1.0)
    weight = cv2.GaussianBlur(seen, (0, 0), sigma)[..., None]
    summed = cv2.GaussianBlur(photo * seen[..., None], (0, 0), sigma)
    near = np.clip(weight / SCLERA_NEAR, 0.0, 1.0)
    return near * summed / np.maximum(weight, 1e-6) + (1.0 - near) * colour


def eyeball_texture(
    image: np.ndarray,
    box: tuple[int, int, int, int],
    eyes: list[tuple[np.ndarray, np.ndarray, np.ndarray, float]],
    margin: np.ndarray | list[float],
) -> np.ndarray:
    """Both eyeballs drawn over ``box`` of the photo.

    Args:
        image: (H, W, 3) uint8 the photo (the warped region).
        box: (x0, y0, x1, y1) pixels of ``image`` to draw.
        eyes: Per eye: its upper and lower lid lines ((k, 2) points, left to right), its iris
            centre (2,) and iris radius (pixels).
        margin: Per eye, the photo's eye is kept this many pixels in from its lid lines (the
            lash line).

    Returns:
        (y1 - y0, x1 - x0, 3) float32 colours.
    """
    x0, y0, x1, y1 = box
    photo = image[y0:y1, x0:x1].astype(np.float32)
    out = photo.copy()
    xs = np.arange(x0, x1, dtype=np.float64)
    ys = np.arange(y0, y1, dtype=np.float64)[:, None]
    # per eye: its columns, how far each pixel is inside its opening, the distance to its iris
    # centre; the sclera both eyes show (an eye that shows none takes the other's colour)
    layout = []
    for (upper, lower, centre, iris_radius), in_px in zip(eyes, margin, strict=True):
        left, right = min(upper[0, 0], lower[0, 0]), max(upper[-1, 0], lower[-1, 0])
        cols = (xs >= left - 1) & (xs <= right + 1)
        top = np.interp(xs, upper[:, 0], upper[:, 1])
        bottom = np.interp(xs, lower[:, 0], lower[:, 1])
        inside = np.minimum(ys - top, bottom - ys) - in_px  # (h, w) px into the opening
        visible = (inside >= 0) & cols
        radius = np.hypot(xs - centre[0], ys - centre[1])
        layout.append((cols, inside, visible, radius, centre, iris_radius))
    seen_both = np.zeros(photo.shape[:2], bool)
    for _, _, visible, radius, _, iris_radius in layout:
        seen_both |= visible & (radius > SCLERA_FROM * iris_radius)
    for cols, inside, visible, radius, centre, iris_radius in layout:
        iris_px = visible & (radius < iris_radius)
        fallback = np.median(photo[visible], axis=0) if visible.any() else photo.mean((0, 1))
        rings = _ring_colours(photo[iris_px], radius[iris_px], iris_radius, fallback)
        seen = visible & (radius > SCLERA_FROM * iris_radius)
        # (the lids and the skin round the eye)
        skin_grey = _skin_grey(photo[cols[None, :] & (inside < -in_px)])
        shown = photo[seen if seen.sum() >= MIN_PIXELS else seen_both]
        colour = _sclera_colour(shown, rings[-1], skin_grey)
        sclera = _sclera_field(photo, seen.astype(np.float32), colour, iris_radius)
        sclera = np.maximum(sclera, SCLERA_FLOOR * skin_grey)
        # the made-up eyeball: the iris's rings (interpolated between their middles), its edge
        # blended into the sclera over a pixel, the top shaded
        middles = (np.arange(IRIS_RINGS) + 0.5) / IRIS_RINGS * iris_radius
        disc = np.stack([np.interp(radius, middles, rings[:, c]) for c in range(3)], -1)
        edge = np.clip(iris_radius + 0.5 - radius, 0.0, 1.0)[..., None]
        made = edge * disc + (1.0 - edge) * sclera
        shade = np.clip((centre[1] + iris_radius - ys) / (2.0 * iris_radius), 0.0, 1.0)
        made *= (1.0 - TOP_SHADE * shade)[..., None]
        # the photo's lights on its visible iris (up to the lid lines), kept where brighter
        shown_iris = (inside + in_px >= 0) & cols & (radius < iris_radius)
        chroma = photo.max(-1) - photo.min(-1)
        lit = shown_iris & (photo.mean(-1) > made.mean(-1) + LIGHT_ABOVE) & (chroma < LIGHT_CHROMA)
        made = np.where(lit[..., None], photo, made)
        keep = np.clip(inside / FEATHER_PX + 0.5, 0.0, 1.0)[..., None]
        out = np.where(cols[None, :, None], keep * photo + (1.0 - keep) * made, out)
    return out.astype(np.float32)
