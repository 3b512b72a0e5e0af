"""Squinting photos: AU07 tightens their lids over its whole range, and a relaxed squint shows
an eye, not the photo's narrow strip stretched."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from espnet_cause.au import AU_INTENSITY_MAX, NUM_AUS, au_index
from espnet_cause.face.landmarker import Face
from espnet_cause.render.eyeball import Eyeballs
from espnet_cause.render.eyeball_texture import eyeball_texture
from espnet_cause.render.face_geometry import EYE_LOWER, EYE_UPPER, IRISES
from espnet_cause.render.warp import WarpRenderer

AU07 = au_index("AU07")
#: The demo photo's own AUs as the tracker reads it: a squint (AU07 3.1), a little of a blink.
OWN = {"AU07": 3.1, "AU45": 0.3}


@pytest.fixture(scope="module")
def squinting(landmarker_path, landmarker, grace):
    """The demo photo in absolute mode with its own squint, and its face."""
    face = landmarker.detect(grace)[0]
    own = np.zeros(NUM_AUS, np.float32)
    for name, value in OWN.items():
        own[au_index(name)] = value
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(grace, face=face, photo_aus=own)
    yield renderer._prepared, face
    renderer.close()


def test_tightening_above_a_squinting_photos_own_spans_the_whole_scale(squinting):
    """AU07 driven from 0 to 5 on a squinting photo raises the lower lid as far as 5 units of AU07
    raise it on a photo without a squint: 0 relaxes only part of the photo's squint (to the
    neutral opening), so the units above the photo's own carry the rest (the brows' rule,
    ``_raise_gain``), by the lower lid alone (the upper lid coming down read as a blink). Main
    moved it 0.65 of that: the closed loop's sweep 0 -> 4 spanned less than half of AU07's range
    on the demo photo."""
    prepared, face = squinting
    basis = prepared.basis[AU07]
    row = np.zeros(NUM_AUS, np.float32)
    relaxed = prepared.moved_points(row)
    row[AU07] = AU_INTENSITY_MAX
    tight = prepared.moved_points(row)
    lower_middles = [lower[len(lower) // 2] for lower in EYE_LOWER]
    full = -AU_INTENSITY_MAX * basis[lower_middles, 1]
    assert (full > 1.0).all()
    np.testing.assert_allclose((relaxed - tight)[lower_middles, 1], full, rtol=0.02)
    # the photo's own AUs leave the lids where they are; above them the upper lid moves as AU07's
    # own motion says (no more)
    row[AU07], row[au_index("AU45")] = OWN["AU07"], OWN["AU45"]
    at_own = prepared.moved_points(row)
    np.testing.assert_allclose(at_own, face.points, atol=1e-3)
    row[AU07] = AU_INTENSITY_MAX
    upper_middles = [upper[len(upper) // 2] for upper in EYE_UPPER]
    above = (AU_INTENSITY_MAX - OWN["AU07"]) * basis[upper_middles, 1]
    moved = prepared.moved_points(row) - at_own
    np.testing.assert_allclose(moved[upper_middles, 1], above, rtol=0.02)


#: The built eye's colours: its sclera, iris and light.
SCLERA, IRIS, LIGHT = (225, 222, 218), (95, 60, 40), (255, 255, 255)
#: The built photo's squint: AU07 at 2 narrows the demo photo's eyes to 0.05 eye distances at
#: the iris (MEAD M030's squint: 0.07).
SQUINT = 2.0


def _opening(points: np.ndarray, shape: tuple[int, ...], upper, lower, inset: int) -> np.ndarray:
    """(H, W) bool: inside one eye's lid outline, ``inset`` pixels in from it."""
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points[list(upper) + list(lower[::-1])]).astype(np.int32)], 1)
    return cv2.erode(mask, np.ones((2 * inset + 1,) * 2, np.uint8)).astype(bool)


@pytest.fixture(scope="module")
def built_squint(landmarker_path, landmarker, grace):
    """(eyes, squint, face, lights): the demo photo with built eyes (a sclera, an iris disc on
    MediaPipe's iris circle, a 2 px light level with its centre), the same narrowed by the
    renderer (AU07 at :data:`SQUINT` as offsets: the lids slide over the still eyeball) and its
    face (the moved lids, the iris circle where it was: MediaPipe places it whole), and the
    lights' (x, y)."""
    face = landmarker.detect(grace)[0]
    eyes, points, lights = grace.copy(), face.points, []
    yy, xx = np.mgrid[: grace.shape[0], : grace.shape[1]]
    for upper, lower, iris in zip(EYE_UPPER, EYE_LOWER, IRISES, strict=True):
        centre = points[iris[0]]
        radius = np.linalg.norm(points[list(iris[1:])] - centre, axis=1).mean()
        opening = _opening(points, grace.shape, upper, lower, 0)
        eyes[opening] = SCLERA
        eyes[opening & ((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 < radius**2)] = IRIS
        x, y = int(round(centre[0] + 0.3 * radius)), int(round(centre[1]))
        eyes[y - 1 : y + 1, x - 1 : x + 1] = LIGHT
        lights.append((x, y))
    row = np.zeros(NUM_AUS, np.float32)
    row[AU07] = SQUINT
    renderer = WarpRenderer(landmarker_path, absolute=False)
    renderer.prepare(eyes, face=face, photo_aus=np.zeros(NUM_AUS, np.float32))
    squint = renderer._prepared.frame(row)
    moved = renderer._prepared.moved_points(row)
    renderer.close()
    irises = [i for iris in IRISES for i in iris]
    moved[irises] = points[irises]
    landmarks = face.landmarks.copy()
    landmarks[:, :2] = moved
    return eyes, squint, Face(landmarks), lights


def test_a_relaxed_squint_shows_a_round_iris_with_its_light(landmarker_path, built_squint):
    """AU07 at 0 on a photo that squints opens its lids over the eyeball they covered: a round
    iris on a sclera, the light a spot where it was. The warp stretched the photo's narrow strip
    into the opened eye (main ce1ce32: the iris a tall oval filling the opening, the light drawn
    into a bar 3 px tall; a mean difference of 21 and 18 grey levels from the built eye inside
    the opened lids, 13 and 12 with the eyeball drawn)."""
    eyes, squint, face, lights = built_squint
    own = np.zeros(NUM_AUS, np.float32)
    own[AU07] = SQUINT
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(squint, face=face, photo_aus=own)
    relaxed = renderer._prepared.frame(np.zeros(NUM_AUS, np.float32))
    opened = renderer._prepared.moved_points(np.zeros(NUM_AUS, np.float32))
    renderer.close()
    for upper, lower, (x, y) in zip(EYE_UPPER, EYE_LOWER, lights, strict=True):
        # the lids opened (the built eye shows at least twice the squint's strip there)
        inside = _opening(opened, eyes.shape, upper, lower, 2)
        assert inside.sum() > 2 * _opening(face.points, eyes.shape, upper, lower, 2).sum()
        diff = np.abs(relaxed.astype(np.float32) - eyes.astype(np.float32))[inside].mean()
        assert diff < 15.0, diff
        # the light: the bright rows of a window round it inside the iris
        light = relaxed[y - 4 : y + 4, x - 2 : x + 2].astype(np.float32).mean(-1) > 180
        rows = np.nonzero(light.any(1))[0]
        assert 1 <= len(rows) <= 2, rows


def _built_eye() -> tuple[np.ndarray, tuple, float]:
    """A built photo of one narrowed eye: skin, a white sclera, a brown iris (radius 8 px) with a
    white light, the lids covering the iris's top and bottom; and the eye (lid lines, iris centre
    and radius) as :func:`eyeball_texture` takes it."""
    image = np.full((60, 80, 3), (200, 150, 120), np.uint8)
    xs = np.arange(10, 71, dtype=np.float64)
    upper = np.stack([xs, 30 - 5 * np.sin(np.pi * (xs - 10) / 60)], 1)
    lower = np.stack([xs, 30 + 4 * np.sin(np.pi * (xs - 10) / 60)], 1)
    yy, xx = np.mgrid[:60, :80]
    top = np.interp(xx, upper[:, 0], upper[:, 1])
    bottom = np.interp(xx, lower[:, 0], lower[:, 1])
    opening = (yy > top) & (yy < bottom) & (xx > 10) & (xx < 70)
    image[opening] = (230, 228, 222)
    iris = opening & ((xx - 40) ** 2 + (yy - 30) ** 2 < 8**2)
    image[iris] = (90, 55, 30)
    image[27:29, 42:44] = 255  # the light
    return image, (upper, lower, np.array([40.0, 30.0]), 8.0), 2.0


def test_the_uncovered_eyeball_is_made_up_without_copying_the_lights():
    """Where the photo's lids hide the eyeball, the texture a relaxed squint uncovers is the iris
    inside the iris circle and the sclera outside it, in the photo's own colours, with no light
    copied into it (the warp stretched the visible strip: the lights drawn into bars); where the
    photo shows the eye it is the photo."""
    image, eye, margin = _built_eye()
    texture = eyeball_texture(image, (0, 0, 80, 60), [eye], [margin])
    hidden_iris = texture[36:38, 38:43]  # under the lower lid, inside the iris circle
    np.testing.assert_allclose(hidden_iris.reshape(-1, 3).mean(0), (90, 55, 30), atol=12)
    hidden_sclera = texture[31:33, 20:25]  # under the lower lid, beside the iris
    assert hidden_sclera[..., 2].min() > 150  # the sclera's blue (the skin's is 120)
    for rows in (slice(23, 26), slice(34, 37)):  # the iris above and below the visible strip
        assert texture[rows, 37:44].max() < 150  # no light copied (the light is 255)
    shown = (slice(29, 31), slice(36, 40))  # the visible iris: the photo's
    np.testing.assert_array_equal(texture[shown], image[shown].astype(np.float32))


def test_no_eyeball_is_drawn_when_one_eye_is_shut_in_the_photo(landmarker, grace):
    """An eye shut in the photo (lids closer than ``MIN_UNCOVER``) beside an open one is a blink
    or a wink, not a squint: neither eye gets a drawn eyeball (on a dev photo with shut eyes the
    other eye's lid was drawn as a flat iris on a white almond)."""
    points = landmarker.detect(grace)[0].points.astype(np.float64)
    unit = float(np.linalg.norm(points[IRISES[0][0]] - points[IRISES[1][0]]))
    basis = np.zeros((3, len(points), 2), np.float32)
    assert Eyeballs(points, basis, unit, [], 0, grace).texture is not None
    shut = points.copy()
    upper, lower = EYE_UPPER[0], EYE_LOWER[0]
    # the lower lid on the upper one: the lids meet along the upper lid's line
    for i in lower:
        xs = points[list(upper), 0]
        order = np.argsort(xs)
        shut[i, 1] = np.interp(points[i, 0], xs[order], points[list(upper), 1][order]) + 0.5
    assert Eyeballs(shut, basis, unit, [], 0, grace).texture is None
