"""The painted interior of a closed-mouth photo opened (issue 28, session 11): a smooth outline, a
shaded cavity, teeth of a fixed size, matched to the photo's sharpness."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from made_fixtures import au_row

from espnet_cause.render.face_geometry import INNER_LOWER_LIP, INNER_UPPER_LIP, lip_gap
from espnet_cause.render.motion_closure import OPEN_MOUTH_GAP
from espnet_cause.render.mouth_interior import (
    GRAIN_TILE,
    TEETH_MAX,
    Interior,
    box_around,
    catmull_rom,
    coverage,
    photo_blur_sigma,
    photo_noise_sigma,
)
from espnet_cause.render.mouth_paint import PARTED_GAP
from espnet_cause.render.warp import WarpRenderer

#: Jaw-drop openings (the parted lips alone, AU25, still lower the corners with the lower lip under
#: an upper lip whose sides stay: docs/render.md, "Mouth interior (session 11)").
OPENINGS = (
    {"AU26": 4.0},
    {"AU26": 3.0},
    {"AU25": 1.0, "AU26": 4.0},
    {"AU25": 2.0, "AU26": 4.0},
)


@pytest.fixture(scope="module")
def prepared(landmarker_path, grace):
    """The demo photo (closed mouth) prepared by the warp renderer (AUs as offsets)."""
    renderer = WarpRenderer(landmarker_path, absolute=False)
    renderer.prepare(grace)
    yield renderer._prepared
    renderer.close()


def _paint_alone(prepared, opening: dict) -> tuple[np.ndarray, np.ndarray]:
    """(h, w, 3) float colour and (h, w) coverage of the mouth paint alone (painted on black and on
    white, so that the coverage is what the two differ by)."""
    row = prepared.coefficients(au_row(**opening))
    black, white = np.zeros_like(prepared.roi), np.full_like(prepared.roi, 255)
    prepared.mouth.paint(black, row)
    prepared.mouth.paint(white, row)
    alpha = 1.0 - (white.astype(np.float32) - black.astype(np.float32)).mean(2) / 255.0
    colour = black.astype(np.float32) / np.maximum(alpha, 1e-3)[..., None]
    return colour, alpha


def _teeth_rows(prepared, opening: dict) -> tuple[int, float]:
    """Rows of the paint as bright as teeth (over 0.6 of the teeth colour) in the middle 5 columns
    of the opening, and :data:`TEETH_MAX` face units in pixels."""
    teeth = float(prepared.mouth.teeth_rgb.mean())
    colour, alpha = _paint_alone(prepared, opening)
    xs = np.nonzero(alpha.max(0) > 0.5)[0]
    middle = int(round(0.5 * (xs.min() + xs.max())))
    column = (colour * alpha[..., None])[:, middle - 2 : middle + 3].mean(axis=(1, 2))
    return int((column > 0.6 * teeth).sum()), TEETH_MAX * prepared.mouth.unit


def _cavity_spread(prepared, opening: dict) -> float:
    """The cavity's luminance (the opening away from the teeth) from its 5th to its 95th
    percentile, over its mean."""
    teeth = float(prepared.mouth.teeth_rgb.mean())
    colour, alpha = _paint_alone(prepared, opening)
    luminance = colour.mean(2)
    cavity = (alpha > 0.98) & (luminance < 0.6 * teeth)
    low, high = np.percentile(luminance[cavity], [5, 95])
    return float((high - low) / luminance[cavity].mean())


def _turning_angles(alpha: np.ndarray, arc: int) -> tuple[np.ndarray, np.ndarray]:
    """(n,) angle (degrees) at each point of the opening's outline between the points ``arc``
    steps before and after it (180: straight), and the outline's (n, 2) points."""
    contours, _ = cv2.findContours(
        (alpha > 0.5).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE
    )
    outline = max(contours, key=len)[:, 0].astype(np.float64)
    n = len(outline)
    before = outline[(np.arange(n) - arc) % n] - outline
    after = outline[(np.arange(n) + arc) % n] - outline
    cos = (before * after).sum(1) / np.linalg.norm(before, axis=1) / np.linalg.norm(after, axis=1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))), outline


@pytest.mark.parametrize(
    "opening", OPENINGS, ids=lambda o: "+".join(f"{k}={v}" for k, v in o.items())
)
def test_the_opening_is_a_smooth_curve_without_corners(prepared, opening):
    """The opening's outline turns gently everywhere but at the lip corners (over 5 outline pixels
    each way, at least 140 degrees; the landmarks' polygon with the upper lip's sides held up
    beside the lowered corners turned 123-132 degrees at its shoulders with AU25 at 1-2), and the
    lip corners themselves are no spikes (at least 60 degrees; 14-57 degrees before)."""
    _, alpha = _paint_alone(prepared, opening)
    arc = 5
    angle, outline = _turning_angles(alpha, arc)
    n = len(outline)
    index = np.arange(n)
    corners = [int(np.argmin(outline[:, 0])), int(np.argmax(outline[:, 0]))]
    near = np.zeros(n, bool)
    for c in corners:
        steps = np.minimum(np.abs(index - c), n - np.abs(index - c))
        near |= steps <= 2 * arc
    assert angle[~near].min() > 140.0, (angle[~near].min(), outline[~near][np.argmin(angle[~near])])
    assert angle[corners].min() > 60.0, angle[corners]


def test_the_cavity_darkens_with_depth(prepared):
    """The cavity is not one flat colour: inside the opening, away from the teeth, the luminance
    spreads over more than its mean (the 5th to 95th percentile; darker at the back and the
    corners, the tongue lighter; 0.51-0.66 of the mean before: one colour shaded by rows)."""
    for opening in ({"AU25": 3.0, "AU26": 2.0}, {"AU25": 4.0, "AU26": 4.0}):
        assert _cavity_spread(prepared, opening) > 1.0, opening


def test_the_upper_teeth_keep_their_size_as_the_mouth_opens(prepared):
    """The upper teeth hang from the upper lip at :data:`TEETH_MAX` face units in the middle of the
    mouth at every opening wide enough to show them whole (a tooth does not grow)."""
    for opening in (
        {"AU25": 3.0, "AU26": 2.0},
        {"AU25": 4.0, "AU26": 2.0},
        {"AU25": 4.0, "AU26": 4.0},
    ):
        rows, size = _teeth_rows(prepared, opening)
        assert abs(rows - size) <= 1.5, (opening, rows, size)


def test_the_paint_is_as_sharp_as_a_soft_photo(landmarker_path, grace):
    """On a soft photo (the demo photo blurred by 2 pixels) the opened mouth keeps the photo's
    detail level: the variance of the Laplacian over the opening is at most twice the photo's over
    its closed lips (a razor-sharp paint: 2.4-3.4 times)."""
    soft = cv2.GaussianBlur(grace, (0, 0), 2.0)
    renderer = WarpRenderer(landmarker_path, absolute=False)
    renderer.prepare(soft)
    p = renderer._prepared
    renderer.close()

    def detail(image: np.ndarray) -> float:
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
        return float(cv2.Laplacian(grey, cv2.CV_32F).var())

    pts = p.points
    lips = p.roi[
        int(pts[0, 1]) - 5 : int(pts[17, 1]) + 5, int(pts[61, 0]) - 5 : int(pts[291, 0]) + 5
    ]
    for opening in (
        {"AU25": 2.0, "AU26": 1.0},
        {"AU25": 3.0, "AU26": 2.0},
        {"AU25": 4.0, "AU26": 4.0},
    ):
        _, alpha = _paint_alone(p, opening)
        ys, xs = np.nonzero(alpha > 0.5)
        frame = p.frame(au_row(**opening))[p.y0 : p.y1, p.x0 : p.x1]
        mouth = frame[ys.min() - 3 : ys.max() + 4, xs.min() - 3 : xs.max() + 4]
        assert detail(mouth) < 2.0 * detail(lips), (opening, detail(mouth), detail(lips))


def test_the_photo_blur_and_grain_are_measured():
    """The blur of a step edge blurred by a known Gaussian, and the level of added white noise,
    are read back (a blur within 0.35 pixels, the noise within a fifth)."""
    rng = np.random.default_rng(1)
    step = np.zeros((64, 64), np.float32)
    step[:, 32:] = 200.0
    step[32:, :] += 40.0  # edges both ways
    for sigma in (1.0, 2.0):
        assert abs(photo_blur_sigma(cv2.GaussianBlur(step, (0, 0), sigma)) - sigma) < 0.35, sigma
    flat = np.full((64, 64), 120.0, np.float32)
    for level in (2.0, 5.0):
        noisy = flat + rng.standard_normal(flat.shape).astype(np.float32) * level
        assert abs(photo_noise_sigma(noisy) - level) < 0.2 * level, level
    assert photo_noise_sigma(flat) == 0.0


def test_the_spline_passes_through_its_points_and_stays_near_them():
    """The outline's spline goes through every landmark in order, and between two of them it
    stays within their span (no loops)."""
    points = np.array([[0, 0], [4, 3], [10, 4], [16, 3], [20, 0]], np.float32)
    curve = catmull_rom(points, 6)
    assert len(curve) == 4 * 6 + 1
    np.testing.assert_allclose(curve[::6], points, atol=1e-5)
    assert np.all(np.diff(curve[:, 0]) > 0.0)
    assert curve[:, 1].max() < 4.5 and curve[:, 1].min() > -0.5


@pytest.fixture(scope="module")
def parted(landmarker_path, landmarker, grace):
    """A photo whose lips are slightly parted: the demo photo with its lips parted a little (AU25
    0.5 as an offset, by the renderer itself) and the thin gap between them filled dark (as a real
    parted mouth shows it), prepared by the warp renderer (AUs as offsets)."""
    renderer = WarpRenderer(landmarker_path, absolute=False)
    image = next(renderer.render(grace, au_row(AU25=0.5)[None]))
    face = landmarker.detect(image)[0]
    inner = face.points[list(INNER_UPPER_LIP + INNER_LOWER_LIP[::-1])]
    cv2.fillPoly(image, [np.round(inner).astype(np.int32)], (40, 18, 20), cv2.LINE_AA)
    renderer.prepare(image)
    yield renderer._prepared, float(lip_gap(landmarker.detect(image)[0]).max())
    renderer.close()


def test_a_slightly_parted_mouth_opened_gets_the_painted_interior(parted):
    """A photo whose lips are slightly apart (less than :data:`PARTED_GAP`) takes the open
    mouth's warp (its thin gap stretches between the teeth nodes) but is painted as a closed
    mouth is when opened further: upper teeth :data:`TEETH_MAX` tall in the middle and a cavity
    shaded with depth (before: the stretched gap painted one flat dark colour, no teeth, the
    luminance spread 0.49-0.55 of its mean)."""
    parted, gap = parted
    assert OPEN_MOUTH_GAP <= gap < PARTED_GAP, gap  # the fixture is what it should be
    assert parted.mouth.open
    for opening in ({"AU25": 3.0, "AU26": 2.0}, {"AU25": 4.0, "AU26": 4.0}):
        rows, size = _teeth_rows(parted, opening)
        assert abs(rows - size) <= 1.5, (opening, rows, size)
        assert _cavity_spread(parted, opening) > 1.0, opening


@pytest.mark.parametrize(
    ("centre", "drop"), [((60.0, 50.0), 28.0), ((GRAIN_TILE, 70.0), 28.0), ((60.0, 50.0), 8.0)]
)
def test_the_paint_equals_its_colours_over_the_whole_box(centre, drop):
    """The paint works its colours out only over the rows and columns the opening covers and
    takes the grain from one tile when it can (speed, session 12): the same pixels as the colours
    over the whole box (its blur margin too) and the grain indexed pixel by pixel, for a tilted
    opening with teeth, tongue and lower teeth, inside one grain tile and across two, and a narrow
    one (no lower teeth)."""
    rng = np.random.default_rng(3)
    photo = rng.integers(60, 200, (140, 200, 3), dtype=np.uint8)
    photo = cv2.GaussianBlur(photo, (0, 0), 1.5)
    unit = 60.0
    x = np.linspace(-1.0, 1.0, 11, dtype=np.float32)
    lips = np.stack([20 * x + centre[0], 8 * (x * x - 1) + centre[1]], 1)
    lips = np.concatenate([lips, lips * [1, -1] + [0, 2 * centre[1]]])
    colours = (np.float32([150, 80, 80]), np.float32([60, 32, 32]), np.float32([220, 210, 190]))
    interior = Interior(photo=photo, lips=lips, unit=unit, colours=colours)
    assert interior.noise > 0.0
    tilt = np.float32([[1.0, 0.15], [-0.15, 1.0]])  # the opening turned by about 9 degrees
    upper = np.stack([22 * x, 3 * (x * x - 1)], 1) @ tilt + centre
    lower = np.stack([22 * x, drop * (1 - x * x)], 1) @ tilt + centre
    roi = photo.copy()
    interior.paint(roi, upper, lower, 0.8)

    top, bottom = catmull_rom(upper), catmull_rom(lower)
    outline = np.concatenate([top, bottom[::-1]])
    box = box_around(outline, 2 + int(np.ceil(2.5 * interior.blur)), photo.shape)
    x0, y0, x1, y1 = box
    a = coverage(outline, box) * 0.8
    pre = cv2.GaussianBlur(
        interior._colours(top, bottom, box) * a[..., None], (0, 0), interior.blur
    )
    a = cv2.GaussianBlur(a, (0, 0), interior.blur)[..., None]
    rows, cols = np.arange(y0, y1) % GRAIN_TILE, np.arange(x0, x1) % GRAIN_TILE
    out = photo[y0:y1, x0:x1].astype(np.float32) * (1.0 - a) + pre
    out += interior.grain[np.ix_(rows, cols)] * a
    expected = photo.copy()
    expected[y0:y1, x0:x1] = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    assert (x0 < GRAIN_TILE <= x1) == (centre[0] == GRAIN_TILE)
    assert (roi != photo).any(axis=2).sum() > 200
    np.testing.assert_array_equal(roi, expected)
