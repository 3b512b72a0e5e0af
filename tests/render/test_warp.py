"""The training-free warp renderer: still at zero AUs, the mouth opens with AU25/AU26."""

from __future__ import annotations

import numpy as np
import pytest
from made_fixtures import au_row

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.errors import CauseError
from espnet_cause.render.face_geometry import INNER_LOWER_LIP, OUTER_LOWER_LIP
from espnet_cause.render.field_inversion import largest, taxicab
from espnet_cause.render.warp import WarpRenderer
from espnet_cause.render.warp_motion import build_landmark_basis


@pytest.fixture(scope="module")
def renderer(landmarker_path):
    r = WarpRenderer(landmarker_path, absolute=False)  # AUs as offsets (test_absolute.py: targets)
    yield r
    r.close()


def _mouth_box(face, margin=0.5):
    pts = face.points[list(OUTER_LOWER_LIP + INNER_LOWER_LIP)]
    x0, y0 = pts.min(0)
    x1, y1 = pts.max(0)
    h = y1 - y0
    return int(x0), int(y0 - margin * h), int(x1), int(y1 + 2 * h)


def test_zero_aus_leave_the_photo_unchanged(renderer, grace):
    frames = list(renderer.render(grace, np.zeros((3, NUM_AUS), np.float32)))
    assert len(frames) == 3
    for frame in frames:
        assert frame.shape == grace.shape and frame.dtype == np.uint8
        assert np.abs(frame.astype(int) - grace).max() <= 1


def test_tiny_aus_barely_change_the_photo(renderer, grace):
    aus = np.full((1, NUM_AUS), 0.01, np.float32)
    frame = next(renderer.render(grace, aus))
    assert np.abs(frame.astype(float) - grace).mean() < 0.5


def test_mouth_opens_with_au25_au26(renderer, grace, landmarker):
    face = landmarker.detect(grace)[0]
    aus = np.zeros((2, NUM_AUS), np.float32)
    aus[1, au_index("AU25")] = 4.0
    aus[1, au_index("AU26")] = 4.0
    closed, opened = list(renderer.render(grace, aus))
    x0, y0, x1, y1 = _mouth_box(face)
    diff = np.abs(opened.astype(float) - closed)
    assert diff[y0:y1, x0:x1].mean() > 10.0
    # the photo far from the face (the corners) does not move
    assert diff[:40, :40].max() == 0 and diff[-40:, -40:].max() == 0
    # the opened mouth is darker (cavity) in its centre
    cx, cy = face.points[[13, 14]].mean(0).astype(int)
    assert opened[cy + 2 : cy + 8, cx - 3 : cx + 3].mean() < closed[cy - 3 : cy + 3].mean()


@pytest.mark.parametrize("au", ["AU01", "AU04", "AU12", "AU15", "AU20", "AU45", "AU05", "AU17"])
def test_every_driven_au_moves_the_face(renderer, grace, au):
    aus = np.zeros((1, NUM_AUS), np.float32)
    aus[0, au_index(au)] = 5.0
    frame = next(renderer.render(grace, aus))
    assert np.abs(frame.astype(float) - grace).max() > 30


def test_bad_au_shape(renderer, grace):
    with pytest.raises(CauseError, match="shape"):
        next(renderer.render(grace, np.zeros((4, 5))))


def test_no_face_error(renderer):
    noise = np.random.default_rng(1).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    with pytest.raises(CauseError, match="no face"):
        next(renderer.render(noise, np.zeros((1, NUM_AUS))))


def test_jaw_drop_moves_the_chin_and_lower_lip_down(landmarker, grace):
    from espnet_cause.render.face_geometry import CHIN, face_frame
    from espnet_cause.render.warp_motion import build_landmark_basis

    face = landmarker.detect(grace)[0]
    basis = build_landmark_basis(face)[au_index("AU26")]  # (478, 2) px per intensity unit
    _, _, ey, unit = face_frame(face)
    down = basis @ ey / unit  # face units towards the chin
    assert down[list(CHIN)].min() > 0.05  # the whole chin comes down
    assert down[list(OUTER_LOWER_LIP)].min() > 0.01  # the lower lip too, corners included
    assert down[17] > 0.05  # its middle most
    assert abs(down[[10, 168, 1]]).max() < 1e-6  # forehead, nose bridge and tip stay
    # AU25 parts the lips with (almost) no jaw
    lips = build_landmark_basis(face)[au_index("AU25")] @ ey / unit
    assert lips[14] > 0.02 and lips[list(CHIN)].max() < 0.5 * down[list(CHIN)].min()


def test_mouth_interior_is_shaded_from_the_photo(grace, landmarker):
    from espnet_cause.render.mouth_paint import mouth_colours

    face = landmarker.detect(grace)[0]
    cavity, teeth = mouth_colours(grace, face)
    tinted = grace.copy()
    tinted[..., 2] //= 3  # a photo with less blue gets a less blue mouth interior
    cavity_tinted, teeth_tinted = mouth_colours(tinted, face)
    assert cavity_tinted[2] < cavity[2] and teeth_tinted[2] < teeth[2]
    assert cavity.mean() < 0.6 * teeth.mean()  # dark cavity, light teeth


def test_painted_teeth_take_the_light_on_the_face(grace, landmarker):
    """The painted teeth carry the tint of the light on the face (the cheeks' colour off grey),
    so next to warm skin they are ivory, not a grey-blue band: the demo photo's teeth are more
    than 0.45 as much redder than blue as its cheeks (0.28 with the eye whites' hue)."""
    from espnet_cause.render.mouth_paint import _cheek_pixels, mouth_colours

    face = landmarker.detect(grace)[0]
    teeth = mouth_colours(grace, face)[1]
    skin = np.median(_cheek_pixels(grace, face), axis=0)
    assert skin[0] - skin[2] > 60  # the demo photo: warm skin
    assert teeth[0] - teeth[2] > 0.45 * (skin[0] - skin[2]), (teeth, skin)
    assert teeth.mean() > skin.mean()  # lighter than the skin


def test_lip_corner_motions_follow_facs(landmarker, grace):
    """AU14 draws the corners in (towards the centre line) and a little up, not out as AU20's
    stretch; AU15 takes the corners down and the lower lip's middle with them, less far."""
    from espnet_cause.render.face_geometry import face_frame
    from espnet_cause.render.warp_motion import build_landmark_basis

    face = landmarker.detect(grace)[0]
    basis = build_landmark_basis(face)
    origin, ex, ey, unit = face_frame(face)
    corners = [61, 291]
    side = np.sign((face.points[corners] - origin) @ ex)  # -1 left corner, +1 right corner
    for au, inward in (("AU14", True), ("AU20", False)):
        out = side * (basis[au_index(au)][corners] @ ex) / unit
        assert (out < -0.005).all() if inward else (out > 0.005).all(), (au, out)
    assert ((basis[au_index("AU14")][corners] @ ey) / unit < -0.005).all()  # up
    down = basis[au_index("AU15")] @ ey / unit
    assert down[corners].min() > 0.03
    assert 0.004 < down[17] < 0.5 * down[corners].min()  # the lower lip's middle comes down less


def test_blink_stays_closed_above_full_closure(renderer, grace):
    from espnet_cause.render.motion_lids import BLINK_FULL

    aus = np.zeros((2, NUM_AUS), np.float32)
    aus[0, au_index("AU45")] = BLINK_FULL
    aus[1, au_index("AU45")] = 5.0
    full, beyond = list(renderer.render(grace, aus))
    assert np.array_equal(full, beyond)  # the lids do not cross over
    assert np.abs(full.astype(float) - grace).max() > 30


def test_outer_brow_raiser_leaves_the_inner_brow(landmarker, grace):
    """AU02 raises the outer brow only (an inner end rising with it reads as AU01)."""
    from espnet_cause.render.face_geometry import BROWS, face_uv
    from espnet_cause.render.warp_motion import build_landmark_basis

    face = landmarker.detect(grace)[0]
    uv, _, ey, unit = face_uv(face)
    up = -(build_landmark_basis(face)[au_index("AU02")] @ ey) / unit
    inner = [min(brow, key=lambda i: abs(uv[i, 0])) for brow in BROWS]  # each brow's inner end
    outer = [i for i in BROWS[0] + BROWS[1] if abs(uv[i, 0]) > 0.6]
    assert up[outer].min() > 0.03
    assert up[inner].mean() < 0.3 * up[outer].min()  # was 0.45 when the whole brow rose


def test_inner_brow_raiser_raises_the_medial_brow(landmarker, grace):
    """AU01 raises the medial part of each brow, fading towards the middle (it raised only the
    innermost landmarks, a kink the tracker hardly read); the outer ends stay."""
    from espnet_cause.render.face_geometry import BROWS, face_uv
    from espnet_cause.render.warp_motion import build_landmark_basis

    face = landmarker.detect(grace)[0]
    uv, _, ey, unit = face_uv(face)
    up = -(build_landmark_basis(face)[au_index("AU01")] @ ey) / unit
    for brow in BROWS:
        order = sorted(brow, key=lambda i: abs(uv[i, 0]))  # inner to outer
        inner, next_in, outer = order[:2], order[2:4], order[-3:]
        assert up[inner].min() > 0.04  # per unit: 0.2 face units at 5
        assert up[next_in].min() > 0.25 * up[inner].max()  # was 0: only the inner end rose
        assert np.abs(up[outer]).max() < 1e-6


def test_upper_lid_raiser_uncovers_the_iris(landmarker, grace):
    """AU05 raises the upper lid over a still iris (FACS: more of the iris and the sclera above
    it show); the iris rising with the lid hid the widening."""
    from espnet_cause.render.face_geometry import IRISES, face_uv

    face = landmarker.detect(grace)[0]
    _, _, ey, unit = face_uv(face)
    up = -(build_landmark_basis(face)[au_index("AU05")] @ ey) / unit * 5  # at intensity 5
    lids = [159, 386]  # the middle of each upper lid
    centres = [iris[0] for iris in IRISES]
    assert up[lids].min() > 0.06  # 0.047 before
    assert np.abs(up[centres]).max() < 0.1 * up[lids].min()  # a quarter of it before


def test_chin_raiser_pushes_the_chin_boss_not_the_jaw(landmarker, grace):
    """AU17 (mentalis) pushes the soft chin and the lower lip up; the jaw's outline stays (it rose
    as far as the chin boss and dragged the neck with it), and the lips' meeting line rises as one
    (the lower lip rose over the closed upper lip and folded)."""
    from espnet_cause.render.face_geometry import INNER_UPPER_LIP, face_uv, lip_gap
    from espnet_cause.render.warp_motion import build_landmark_basis

    face = landmarker.detect(grace)[0]
    assert lip_gap(face).max() < 0.02  # the demo photo's lips are closed
    _, _, ey, unit = face_uv(face)
    up = -(build_landmark_basis(face)[au_index("AU17")] @ ey) / unit * 5.0  # at intensity 5
    assert up[18] > 0.2  # the chin boss under the lower lip
    assert up[17] > up[14] + 0.1  # the lower lip bulges up
    assert abs(up[152]) < 0.2 * up[18]  # the bottom of the chin (jaw) stays
    middle = len(INNER_UPPER_LIP) // 2
    assert up[INNER_LOWER_LIP[middle]] <= up[INNER_UPPER_LIP[middle]] + 1e-3  # no crossing


def test_lip_tightener_narrows_the_red_of_the_lips(landmarker, grace):
    """AU23 thins the lips (their outer edges close in on the meeting line, which stays) and draws
    the corners in only a little (drawn in 0.25 face units the tracker read a pucker and AU14)."""
    from espnet_cause.render.face_geometry import OUTER_UPPER_LIP, face_uv
    from espnet_cause.render.warp_motion import build_landmark_basis

    face = landmarker.detect(grace)[0]
    uv, ex, ey, unit = face_uv(face)
    basis = build_landmark_basis(face)[au_index("AU23")] * 5.0  # at intensity 5
    down, side = basis @ ey / unit, basis @ ex / unit
    top, bottom, meet_up, meet_low = 0, 17, 13, 14  # outer upper/lower lip, inner lips (middle)
    assert OUTER_UPPER_LIP[len(OUTER_UPPER_LIP) // 2] == top
    assert down[top] > 0.12 and down[bottom] < -0.12  # the red narrows from both edges
    assert abs(down[meet_up]) < 0.02 and abs(down[meet_low]) < 0.02  # the lips meet where they did
    corners = np.array([61, 291])
    inward = -np.sign(uv[corners, 0]) * side[corners]
    assert (inward > 0.0).all() and inward.max() < 0.6 * down[top]  # was 2.5 times as far
    nose_base = [2, 94, 98, 327]  # under the nose, above the upper lip
    assert np.abs(basis[nose_base] @ ey / unit).max() < 0.005  # the nose stays


def test_jaw_drop_curves_the_upper_lip_down_to_the_corners(landmarker, grace):
    """Under AU26 the corners come down and the upper lip's sides follow them (held still they
    left a kink: the opening's sides stood upright); the upper lip's middle stays."""
    from espnet_cause.render.face_geometry import face_uv
    from espnet_cause.render.warp_motion import build_landmark_basis

    face = landmarker.detect(grace)[0]
    _, _, ey, unit = face_uv(face)
    down = build_landmark_basis(face)[au_index("AU26")] @ ey / unit
    for corner, beside in ((78, 191), (308, 415), (61, 185), (291, 409)):
        assert down[beside] > 0.2 * down[corner] > 0.0, (corner, beside)  # was 0
    assert abs(down[0]) < 0.01 and abs(down[13]) < 0.01


def test_painted_teeth_hide_towards_the_mouth_corners(landmarker_path, grace):
    """The painted upper teeth show in the front of the mouth, not as light bars at the corners:
    they end before the corners (:data:`~espnet_cause.render.mouth_paint.TEETH_SPAN`), and
    where they have no height nothing is drawn (their anti-aliased edge, lying on the lip, drew
    the opened lips' steep sides as grey lines down to the corners: 59-113 teeth-bright pixels
    in the outer fifths, 0.27-0.52 of the middle fifth's)."""
    renderer = WarpRenderer(landmarker_path, absolute=False)
    renderer.prepare(grace)
    prepared = renderer._prepared
    for au in ("AU25", "AU26", "AU25+AU26"):
        row = np.zeros(len(prepared.basis), np.float32)
        for name in au.split("+"):
            row[au_index(name)] = 4.0
        roi = np.zeros_like(prepared.roi)  # the paint alone, on black
        prepared.mouth.paint(roi, row)
        xs = np.nonzero(roi.mean(axis=2) > 0.5 * prepared.mouth.teeth_rgb.mean())[1]
        left, right = prepared.mouth.inner_upper[0, 0], prepared.mouth.inner_upper[-1, 0]
        t = (xs - left) / (right - left)  # 0 at one corner, 1 at the other
        sides, middle = ((t < 0.2) | (t > 0.8)).sum(), ((t > 0.3) & (t < 0.7)).sum()
        assert middle > 50 and sides < 0.2 * middle, (au, sides, middle)
    renderer.close()


def test_raised_brows_neither_fold_the_forehead_nor_show_an_eye_twice(landmarker_path, grace):
    """AU01 + AU02 at 4 on the demo photo (hooded eyes behind glasses: the band between the brows
    and the still upper lids stretches about 3.5 times): the forehead moves with the brows (its
    landmarks stayed still just above them, so the raised brows ran over them: a fold), and the
    backward map is the forward map's inverse everywhere (the fixed-point steps left nodes 24 px
    off: the eye sampled twice, a second iris above it)."""
    import cv2

    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(grace, photo_aus=au_row())
    p = renderer._prepared
    renderer.close()
    gh, gw = p.grid_shape
    forward = np.einsum("k,kn->n", p.coefficients(au_row(AU01=4.0, AU02=4.0)), p.fields).reshape(
        gh, gw, 2
    )
    step_x, step_y = p.roi_size[0] / gw, p.roi_size[1] / gh
    (dxx, dxy), (dyx, dyy) = (np.gradient(forward[..., c], step_y, step_x)[::-1] for c in range(2))
    det = (1 + dxx) * (1 + dyy) - dxy * dyx
    assert det.min() > 0.2  # -0.12 before: folded
    back = p._invert(forward)
    at = (p.grid_px + back + 0.5) * p.scale_to_grid - 0.5
    residual = back + cv2.remap(forward, at, None, cv2.INTER_LINEAR, cv2.BORDER_REPLICATE)
    assert np.abs(residual).max() < 1.0  # in pixels; 24 before


def test_the_inversions_vector_sizes_are_numpys():
    """``largest`` and ``taxicab`` (the inversion's per-node |residual|, written out for speed,
    session 12) give exactly ``np.abs(v).max(-1)`` and ``np.abs(v).sum(-1)``: on a field grid, on
    Newton nodes, with signed zeros and sizes over six orders of magnitude."""
    rng = np.random.default_rng(2)
    for shape in ((68, 68, 2), (1, 88, 2), (3, 4096, 2)):
        v = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3, shape)
        v = v.astype(np.float32)
        v[0, :3] = [[-0.0, 0.0], [0.0, -0.0], [-1.0, 1.0]]
        np.testing.assert_array_equal(largest(v), np.abs(v).max(-1))
        np.testing.assert_array_equal(taxicab(v), np.abs(v).sum(-1))
