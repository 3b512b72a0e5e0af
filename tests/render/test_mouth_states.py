"""Mouth states of the warp renderer (issue 28): closing, opening further, undoing a smile."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from made_fixtures import au_row

from espnet_cause.arkit import BLENDSHAPE_NAMES
from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.face.landmarker import Face
from espnet_cause.render.face_geometry import (
    INNER_LOWER_LIP,
    INNER_UPPER_LIP,
    NOSE,
    OUTER_LOWER_LIP,
    OUTER_UPPER_LIP,
    face_frame,
    face_uv,
)
from espnet_cause.render.motion_closure import CLOSE_PRESS, NEUTRAL_MOUTH_WIDTH, build_closure_basis
from espnet_cause.render.warp import WarpRenderer
from espnet_cause.render.warp_motion import build_landmark_basis


@pytest.fixture(scope="module")
def wide_open(landmarker_path, grace):
    """The demo photo with a wide-open mouth (made by the renderer, as offsets), cropped tight
    to 256 x 256 with the chin near the bottom edge (a tight crop of a surprised face)."""
    renderer = WarpRenderer(landmarker_path, absolute=False)
    image = next(renderer.render(grace, au_row(AU25=5.0, AU26=5.0)[None]))
    face = renderer._prepared.points
    renderer.close()
    x0, y0 = face.min(0)
    x1, y1 = face.max(0)
    side = 1.15 * max(x1 - x0, y1 - y0)
    cx, bottom = 0.5 * (x0 + x1), y1 + 0.06 * side  # the chin a few pixels above the edge
    top, left = int(bottom - side), int(cx - side / 2)
    crop = image[max(top, 0) : int(bottom), max(left, 0) : int(left + side)]
    return np.ascontiguousarray(cv2.resize(crop, (256, 256), interpolation=cv2.INTER_AREA))


def test_closing_a_wide_open_mouth_on_a_tight_crop_neither_tears_nor_folds(
    landmarker_path, landmarker, wide_open
):
    """The lower face and the neck under the chin are stretched evenly as the jaw closes: along
    every column under the mouth, where a pixel samples the photo moves down monotonically (a
    fold or tear there showed as streaks on the neck and a second chin) and never by more than
    3 photo pixels per output pixel."""
    face = landmarker.detect(wide_open)[0]
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(wide_open, face=face, photo_aus=au_row(AU25=4.0, AU26=4.0))
    prepared = renderer._prepared
    source = _src(prepared)
    offset = np.array([prepared.x0, prepared.y0], np.float32)
    mouth = face.points[list(INNER_LOWER_LIP)] - offset
    left, right = int(mouth[:, 0].min()) + 2, int(mouth[:, 0].max()) - 2
    below = int(mouth[:, 1].max()) + 2  # from under the lower lip to the region's bottom edge
    steps = np.diff(source[below:, left:right, 1], axis=0)
    assert steps.min() > 0.0  # no fold: each row below samples further down the photo
    assert steps.max() < 3.0  # no tear
    assert wide_open.shape[0] - face.points[152, 1] < 25  # (the chin is near the edge)
    frame = next(renderer.render(wide_open, np.zeros((1, NUM_AUS), np.float32)))
    assert frame.shape == wide_open.shape
    renderer.close()


def test_closed_lips_meet_on_the_corners_line(landmarker, wide_open):
    """Closing an open mouth brings the lips together level with the corners (lips meeting above
    them curved the closed mouth into a frown the AUs did not ask for)."""
    face = landmarker.detect(wide_open)[0]
    uv, ex, ey, unit = face_uv(face)
    moved = face.points + build_closure_basis(face)
    v = (moved - face.points[13]) @ ey / unit  # face units towards the chin
    corners = 0.5 * (v[INNER_UPPER_LIP[0]] + v[INNER_UPPER_LIP[-1]])
    middle = 0.5 * (v[13] + v[14])
    assert abs(middle - corners) < 0.04  # (the photo's open lips: 0.3 apart)
    assert uv[14, 1] - uv[13, 1] > 0.15  # (the fixture is open: the tracker reads 0.19-0.25)


def test_closed_lips_of_a_wide_open_ring_taper_to_the_corners(landmarker, grace):
    """A wide-open mouth's lips are a ring as tall at its ends as its opening (an "O"); closed,
    the lips' red is less than half as tall next to the corners as in the middle, as on a resting
    mouth (0.24-0.3 at 0.9 of the half width on the closed-mouth dev photos). Moved only with the
    inner lips under them, the outer lips kept the ring's tall ends (1.4 times the middle's
    height: a closed mouth shaped like a dumbbell, with a dark bar at each end)."""
    face = landmarker.detect(grace)[0]
    origin, ex, ey, unit = face_frame(face)
    landmarks = face.landmarks.copy()
    angles = np.linspace(np.pi, 0.0, 11)  # corner to corner, along the upper or the lower half
    rings = ((INNER_UPPER_LIP, 0.3, -0.18), (INNER_LOWER_LIP, 0.3, 0.18))
    rings += ((OUTER_UPPER_LIP, 0.36, -0.28), (OUTER_LOWER_LIP, 0.36, 0.28))
    for contour, half_width, half_height in rings:
        u, v = half_width * np.cos(angles), half_height * np.sin(angles)
        landmarks[list(contour), :2] = origin + (u[:, None] * ex + v[:, None] * ey) * unit
    ring = Face(landmarks)
    v = (ring.points + build_closure_basis(ring) - origin) @ ey / unit
    height = v[list(OUTER_LOWER_LIP)] - v[list(OUTER_UPPER_LIP)]  # the closed lips' red
    assert height[5] > 0.1, height  # the lips keep their red in the middle
    assert (height[[1, -2]] < 0.5 * height[5]).all(), height


def _teeth_opened(landmarker_path, landmarker, grace, bottom) -> tuple:
    """The demo photo with its mouth open (AU25 3 + AU26 1, as offsets), the interior dark with
    pure green "teeth" hanging from the upper lip down to ``bottom(upper, lower, unit)`` (the
    inner lips' points and the eye distance), and that photo opened to AU25 5 + AU26 5: the
    photo, the frame (int) and its face."""
    base = WarpRenderer(landmarker_path, absolute=False)
    photo = np.ascontiguousarray(next(base.render(grace, au_row(AU25=3.0, AU26=1.0)[None])))
    base.close()
    face = landmarker.detect(photo)[0]
    upper = face.points[list(INNER_UPPER_LIP)]
    lower = face.points[list(INNER_LOWER_LIP)]
    cv2.fillPoly(
        photo, [np.round(np.concatenate([upper, lower[::-1]])).astype(np.int32)], (20,) * 3
    )
    band = np.concatenate([upper, bottom(upper, lower, face_uv(face)[3])[::-1]])
    cv2.fillPoly(photo, [np.round(band).astype(np.int32)], (40, 220, 40))
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(photo, face=face, photo_aus=au_row(AU25=3.0, AU26=1.0))
    wider = next(renderer.render(photo, au_row(AU25=5.0, AU26=5.0)[None])).astype(int)
    renderer.close()
    return photo, wider, face


def _green_rows(image: np.ndarray, face: Face, across) -> int:
    """Rows of the 3 columns around the lips' middle that are green (``across`` them: np.any or
    np.all)."""
    x = int(round(face.points[13, 0]))
    column = image[:, x - 1 : x + 2].astype(int)
    green = (column[..., 1] - np.maximum(column[..., 0], column[..., 2])) > 80
    return int(across(green, axis=1).sum())


def test_teeth_keep_their_size_as_an_open_mouth_opens_further(landmarker_path, landmarker, grace):
    """A photo's open mouth with a band of teeth under the upper lip, opened further: the teeth
    band stays about as tall (it stretched with the whole interior) and the back of the mouth
    below it is painted dark."""
    photo, wider, face = _teeth_opened(
        landmarker_path, landmarker, grace, lambda up, lo, unit: up + [0, 0.06 * unit]
    )
    upper = face.points[list(INNER_UPPER_LIP)]
    lower = face.points[list(INNER_LOWER_LIP)]
    before, after = _green_rows(photo, face, np.any), _green_rows(wider, face, np.any)
    gap_before = float(lower[5, 1] - upper[5, 1])
    assert before >= 3
    assert after <= 1.5 * before + 1  # the teeth keep their size
    # ... while the mouth opened: the lower lip went down (the tracker sees a wider gap)
    opened = landmarker.detect(wider.astype(np.uint8))[0]
    assert opened.points[14, 1] - opened.points[13, 1] > 1.5 * gap_before


def test_undoing_a_smile_leaves_the_nose_where_it_is(landmarker, grace):
    """AU12 (and the other lip-corner AUs) move the lips under a still nose: a strong smile undone
    (AU12 below the photo's) dragged the nose wings down and out."""
    face = landmarker.detect(grace)[0]
    basis = build_landmark_basis(face)
    for name in ("AU12", "AU14", "AU15", "AU20", "AU23"):
        assert np.abs(basis[au_index(name)][list(NOSE)]).max() < 1e-6, name
    assert np.abs(basis[au_index("AU12")][[61, 291]]).max() > 0.5  # the corners do move


def test_undoing_a_strong_smile_stops_at_a_neutral_mouth(landmarker_path, landmarker, grace):
    """A photo whose tracked AU12 (5) is more than its corners' lift shows (a smile drawn with 2.5)
    driven to AU12 = 0: the corners come down to a neutral mouth's height over the lips' meeting
    line, not below it (reversed in full they sank 0.03 eye distances below it, a frown)."""
    smiling = WarpRenderer(landmarker_path, absolute=False)
    photo = next(smiling.render(grace, au_row(AU12=2.5)[None]))
    smiling.close()
    face = landmarker.detect(photo)[0]
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(photo, face=face, photo_aus=au_row(AU12=5.0))
    frame = next(renderer.render(photo, np.zeros((1, NUM_AUS), np.float32)))
    renderer.close()

    def lift(f) -> float:  # the corners' height over the lips' meeting line (eye distances)
        return -float(face_uv(f)[0][[61, 291], 1].mean())

    assert lift(face) > 0.06  # the photo smiles
    undone = lift(landmarker.detect(frame)[0])
    assert 0.0 < undone < 0.05, undone


def _src(p):
    co = p.coefficients(np.zeros(NUM_AUS, np.float32))
    rw, rh = p.roi_size
    gh, gw = p.grid_shape
    f = np.einsum("k,kn->n", co, p.fields).reshape(gh, gw, 2)
    return cv2.resize(p._invert(f), (rw, rh)) + p.identity


def test_a_happy_face_reads_as_a_full_smile(landmarker_path, grace):
    """The emotion table's happy face at 4 (AU12 4, AU06 2.7) reads back as the smile it drives
    (AU12 moved the corners 0.1 eye distances at 5 and read back 3.2 of 4 on the demo photo)."""
    from espnet_cause.emotion import PROTOTYPES
    from espnet_cause.extract.mediapipe import MediaPipeAUExtractor

    weights = PROTOTYPES["happy"]
    target = au_row(**{au: 4.0 * w / max(weights.values()) for au, w in weights.items()})
    renderer = WarpRenderer(landmarker_path)
    frame = next(renderer.render(grace, target[None]))
    renderer.close()
    with MediaPipeAUExtractor(landmarker_path, threaded=False) as tracker:
        read = tracker.read_photo(frame)
    assert read[au_index("AU12")] >= 3.7


def test_an_angry_brow_is_drawn_together_over_tightened_lids(landmarker, grace):
    """AU04 draws the inner brows together and AU07 raises the lower lids enough to show (angry
    read weak: 0.07 and 0.10 eye distances at 5)."""
    from espnet_cause.render.face_geometry import BROWS, EYE_LOWER, face_frame

    face = landmarker.detect(grace)[0]
    basis = build_landmark_basis(face) * 5.0  # at intensity 5
    origin, ex, ey, unit = face_frame(face)
    inner = [BROWS[0][-1], BROWS[1][-1]]  # the inner ends (107, 336)
    gap_before = abs((face.points[inner[1]] - face.points[inner[0]]) @ ex)
    moved = face.points[inner] + basis[au_index("AU04")][inner]
    assert gap_before - abs((moved[1] - moved[0]) @ ex) > 0.12 * unit
    lids = [EYE_LOWER[0][4], EYE_LOWER[1][4]]  # mid lower lids
    assert (-(basis[au_index("AU07")][lids] @ ey) / unit > 0.12).all()


def test_a_sad_brow_raises_its_inner_ends(landmarker_path, landmarker, grace):
    """AU01 with AU04 (the sad brow) lifts the inner brow ends and draws them together; the two
    fields summed left the inner ends lowered (an angry brow), AU04 alone still lowers them."""
    from espnet_cause.render.face_geometry import BROWS, face_frame

    face = landmarker.detect(grace)[0]
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(grace, face=face, photo_aus=au_row())
    prepared = renderer._prepared
    renderer.close()
    _, ex, ey, unit = face_frame(face)
    inner = [BROWS[0][-1], BROWS[1][-1]]  # the inner ends (107, 336)

    def moved(row: np.ndarray) -> np.ndarray:  # (2, 2) inner ends moved, face units from rest
        disp = np.tensordot(prepared.coefficients(row), prepared.basis, axes=1)
        return disp[inner] / unit

    sad = moved(au_row(AU01=4.0, AU04=4.0))
    rise = -(sad @ ey)  # (y points to the chin); summed, both sank 0.06-0.07
    assert (rise > 0.0).all() and rise.mean() > 0.05, rise
    assert (sad[1] - sad[0]) @ ex < -0.05  # and come together
    assert (moved(au_row(AU04=4.0)) @ ey > 0.1).all()
    # the medial half of each brow rises with them (AU04 lowered it: an angry brow with raised
    # inner ends), the outer ends are lowered by AU04
    uv = face_uv(face)[0]
    for brow in BROWS:
        order = sorted(brow, key=lambda i: abs(uv[i, 0]))  # inner to outer
        disp = np.tensordot(prepared.coefficients(au_row(AU01=4.0, AU04=4.0)), prepared.basis, 1)
        rise = -(disp @ ey) / unit
        assert rise[order[:4]].min() > 0.0, rise[order[:4]]
        assert rise[order[-2:]].max() < -0.03


@pytest.fixture(scope="module")
def open_smile(landmarker_path, landmarker, grace):
    """The demo photo smiling with an open mouth (made by the renderer, as offsets) and its face."""
    renderer = WarpRenderer(landmarker_path, absolute=False)
    photo = next(renderer.render(grace, au_row(AU06=2.0, AU12=4.0, AU25=4.0, AU26=2.0)[None]))
    renderer.close()
    return photo, landmarker.detect(photo)[0]


@pytest.mark.parametrize("au", ["AU17", "AU23", "AU15"])
def test_lip_aus_on_a_closed_open_mouth_neither_fold_nor_double_the_lips(
    landmarker_path, open_smile, au
):
    """The photo's open mouth closed (AU25 = AU26 = 0) with a lip AU at 4 (the closed loop's
    sweep): the backward map inverts the forward field around the mouth too, and the skin from the
    nose to the chin is not folded (each row samples further down the photo). The fixed-point
    steps alone left 850-1570 grid nodes more than a pixel off and 600-650 folded pixels under
    AU17 and AU23: a doubled lower lip, a second mouth above the upper lip, a column of neck under
    the chin."""
    photo, face = open_smile
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(photo, face=face, photo_aus=au_row(AU25=3.0, AU26=2.0))
    p = renderer._prepared
    renderer.close()
    coefficients = p.coefficients(au_row(**{au: 4.0}))
    gh, gw = p.grid_shape
    forward = np.einsum("k,kn->n", coefficients, p.fields).reshape(gh, gw, 2)
    back = p._invert(forward)
    at = (p.grid_px + back + 0.5) * p.scale_to_grid - 0.5
    residual = back + cv2.remap(forward, at, None, cv2.INTER_LINEAR, cv2.BORDER_REPLICATE)
    assert (np.abs(residual).max(-1) > 1.0).sum() <= 10  # grid nodes
    offset = np.array([p.x0, p.y0], np.float32)
    lips = face.points[list(INNER_LOWER_LIP)] - offset
    left, right = int(lips[:, 0].min()) + 4, int(lips[:, 0].max()) - 4
    nose, chin = (int(face.points[i, 1] - p.y0) for i in (2, 152))
    steps = np.diff(p.source_map(coefficients)[nose:chin, left:right, 1], axis=0)
    assert (steps < 0).sum() <= 10  # pixels


def test_an_open_mouth_reopens_from_the_first_unit_of_either_mouth_au(landmarker_path, open_smile):
    """The photo's open mouth (AU25 3, AU26 2) closed, then one mouth AU swept with the other at
    0 (the closed loop's sweep): the lips part from the first unit on and further with every
    unit. Pressed past touching at every closure, AU25 = 1 left the lips 0.04 of the photo's gap
    apart (AU26 = 1: pressed together), a dead zone the tracker read as 0."""
    photo, face = open_smile
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(photo, face=face, photo_aus=au_row(AU25=3.0, AU26=2.0))
    p = renderer._prepared
    renderer.close()
    _, _, ey, unit = face_uv(face)

    def gap(row: np.ndarray) -> float:  # the inner lips' gap in the middle over the photo's
        moved = p.moved_points(row)
        return float((moved[14] - moved[13]) @ ey) / float((face.points[14] - face.points[13]) @ ey)

    assert gap(au_row()) < 0.0  # closed: the lips pressed together
    for au, own in (("AU25", 3.0), ("AU26", 2.0)):
        gaps = [gap(au_row(**{au: v})) for v in (1.0, 0.5 * (1.0 + own), own)]
        assert gaps[0] > 0.15, (au, gaps)
        assert gaps[0] < gaps[1] < gaps[2], (au, gaps)


def test_a_lip_corner_depressor_reads_as_a_frown_not_a_pucker(landmarker_path, grace, tracker):
    """AU15 at 4 on the demo photo reads back as the frown it is: the corners pulled down and
    out (the depressor anguli oris runs from the corner down and out to the jaw). Pulled almost
    straight down (0.3 eye distances at 5, 0.03 out) the mouth arched and the tracker read a
    pucker (mouthPucker 0.76, mouthFrown 0.16: AU15 0.8 of 4)."""
    from espnet_cause.arkit import BLENDSHAPE_NAMES

    renderer = WarpRenderer(landmarker_path)
    frame = next(renderer.render(grace, au_row(AU15=4.0)[None]))
    renderer.close()
    track = tracker.track_frames([(i / 25.0, frame) for i in range(3)], source="AU15 frame")
    read = track.intensities[-1]
    blendshapes = dict(zip(BLENDSHAPE_NAMES, track.blendshapes[-1].tolist(), strict=True))
    assert read[au_index("AU15")] > 2.5, read
    assert blendshapes["mouthPucker"] < 0.3, blendshapes["mouthPucker"]


def _closing(prepared) -> np.ndarray:
    """Field weights with only the closure, at the lips touching (the cover's full weight)."""
    coefficients = np.zeros(prepared.basis.shape[0], np.float32)
    coefficients[NUM_AUS] = 1.0 / CLOSE_PRESS
    return coefficients


def test_the_lips_cover_of_thin_lips_samples_the_lips_not_the_skin(landmarker_path, open_smile):
    """A broad laugh on a small face (a face in a group photo): the lips are 2.5 pixels thick.
    Closing the mouth, the cover (:meth:`MouthPaint.cover`) draws the lips over the squeezed
    interior from the lips themselves, never from the skin beyond them. Drawn with a photo whose
    lips are red, its skin white and its interior black: before, the cover sampled 4 pixels past
    the interior whatever the lips' size, the skin above and below lips this thin, and the closed
    mouth showed a pale band with no line between the lips and no dark corners (the tracker read
    no lip-corner AU on such laughs: AU12 r 0.41, AU14 0.07 on a 100-pixel face)."""
    photo, face = open_smile
    middle = slice(2, -2)
    outer = face.points[list(OUTER_UPPER_LIP[middle] + OUTER_LOWER_LIP[middle])]
    inner = face.points[list(INNER_UPPER_LIP[middle] + INNER_LOWER_LIP[middle])]
    thickness = np.linalg.norm(outer - inner, axis=1).reshape(2, -1)
    scale = 2.5 / float(np.median(thickness, axis=1).min())  # the thinner lip 2.5 pixels
    small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small_face = Face(face.landmarks * np.float32(scale))
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(small, face=small_face, photo_aus=au_row(AU25=3.0, AU26=2.0))
    p = renderer._prepared
    renderer.close()
    rh, rw = p.roi.shape[:2]
    points = small_face.points - np.array([p.x0, p.y0], np.float32)

    def polygon(upper, lower):
        return [np.round(points[list(upper + lower[::-1])] * 16).astype(np.int32)]

    painted = np.full((rh, rw, 3), 255, np.uint8)  # skin
    cv2.fillPoly(painted, polygon(OUTER_UPPER_LIP, OUTER_LOWER_LIP), (200, 40, 40), cv2.LINE_AA, 4)
    cv2.fillPoly(painted, polygon(INNER_UPPER_LIP, INNER_LOWER_LIP), (0, 0, 0), cv2.LINE_AA, 4)
    p.mouth.photo = painted
    frame = np.full((rh, rw, 3), 128, np.uint8)
    source = p.identity + np.array([0.3, 0.2], np.float32)  # off the pixel grid
    p.mouth.cover(frame, source, _closing(p), 0.0)
    covered = (frame != 128).any(-1)
    green = frame[..., 1].astype(int)
    # the interior's middle is covered by the lips' red...
    lips_middle = np.round(points[[13, 14]].mean(0)).astype(int)
    assert green[lips_middle[1], lips_middle[0]] < 100, green[lips_middle[1], lips_middle[0]]
    # ... and no covered pixel takes the skin's white (the grey frame blended with lips stays <= 128)
    assert covered.sum() > 10
    assert green[covered].max() <= 132, np.sort(green[covered])[-10:]


def test_the_lips_cover_blends_in_at_its_edges_and_leaves_the_rest(landmarker_path, open_smile):
    """Closing a photo's open mouth, the lips cover its interior (:meth:`MouthPaint.cover`) and
    nothing else: a pixel sampling the photo more than the cover's margin outside the interior
    keeps the warp's sample, the cover fades in at the interior's edge, and the line where the
    upper and the lower lip meet is anti-aliased. Drawn with a photo white above the lips' meeting
    line and black under it over a grey frame: before, every pixel of the interior's box took the
    photo's nearest pixel (a squeezed interior showed as steps along the lips) and the lips met in
    a pixel-wise switch from white to black."""
    from espnet_cause.render.mouth_paint import COVER_MARGIN_PX

    photo, face = open_smile
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(photo, face=face, photo_aus=au_row(AU25=3.0, AU26=2.0))
    p = renderer._prepared
    renderer.close()
    rh, rw = p.roi.shape[:2]
    offset = np.array([p.x0, p.y0], np.float32)
    upper = face.points[list(INNER_UPPER_LIP)] - offset
    lower = face.points[list(INNER_LOWER_LIP)] - offset
    columns = np.arange(rw, dtype=np.float32)
    middle = 0.5 * (np.interp(columns, *upper[np.argsort(upper[:, 0])].T))
    middle += 0.5 * np.interp(columns, *lower[np.argsort(lower[:, 0])].T)
    rows = np.arange(rh, dtype=np.float32)[:, None]
    p.mouth.photo = np.repeat(
        np.where(rows < middle[None], 255, 0).astype(np.uint8)[..., None], 3, 2
    )
    frame = np.full((rh, rw, 3), 128, np.uint8)
    source = p.identity + np.array([0.3, 0.2], np.float32)  # off the pixel grid
    p.mouth.cover(frame, source, _closing(p), 0.0)
    # outside the interior (widened by the margin and a pixel): the warp's own sample
    inside = np.zeros((rh, rw), np.uint8)
    cv2.fillPoly(inside, [np.round(np.concatenate([upper, lower[::-1]])).astype(np.int32)], 1)
    outside = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5) > COVER_MARGIN_PX + 2.0
    assert (frame[outside] == 128).all()
    # inside: the upper lip's white over the lower lip's black, passing through grey at the line
    # where they meet, in every column of the middle half of the mouth
    x0, x1 = np.percentile(upper[:, 0], [25, 75]).astype(int)
    for x in range(x0, x1):
        top, bottom = (
            int(np.ceil(np.interp(x, *upper[np.argsort(upper[:, 0])].T))),
            int(np.interp(x, *lower[np.argsort(lower[:, 0])].T)),
        )
        column = frame[top:bottom, x, 0].astype(int)
        assert column[0] == 255 and column[-1] == 0, (x, column)
        assert ((column > 10) & (column < 245)).any(), (x, column)


@pytest.fixture(scope="module")
def open_o(landmarker_path, landmarker, grace):
    """The demo photo with a narrow wide-open mouth, an "O" (made by the renderer, as offsets:
    the corners drawn in by a negative AU20; 0.67 eye distances wide, its lips 0.33 apart), and
    its face."""
    renderer = WarpRenderer(landmarker_path, absolute=False)
    photo = next(renderer.render(grace, au_row(AU25=4.0, AU26=3.0, AU20=-3.0)[None]))
    renderer.close()
    return photo, landmarker.detect(photo)[0]


def test_a_narrow_open_mouth_closes_to_a_resting_width_not_a_pucker(
    landmarker_path, open_o, tracker
):
    """A wide-open mouth is narrower than at rest (its corners drawn in); closed (every AU at 0)
    its corners move out to about
    :data:`~espnet_cause.render.motion_closure.NEUTRAL_MOUTH_WIDTH`, the tracker reads relaxed
    lips, not a pucker, and AU15 at 4 turns the closed mouth into a frown
    (its corners 0.08 eye distances below the lips' middle; level when closed). Closed at its
    open width (0.67), the mouth read mouthPucker 0.59, and AU15 at 4 read 0.68. (The tracker's
    AU15 on this one closed frame of a made-up O measured the O's painted interior more than the
    closure: 0.81-1.55 on the paint of sessions 5-10, 0.07-0.39 on session 11's with teeth and a
    tongue, 0.09 with the O's interior filled dark, while the corners' drop is 0.10 and 0.13.)"""
    photo, face = open_o
    _, ex, _, unit = face_uv(face)
    width = float((face.points[291] - face.points[61]) @ ex) / float(ex @ ex) / unit
    assert width < NEUTRAL_MOUTH_WIDTH - 0.1  # the fixture: a narrow open mouth
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(photo, face=face, photo_aus=au_row(AU25=4.0, AU26=3.0))
    moved = renderer._prepared.moved_points(au_row())
    closed = float((moved[291] - moved[61]) @ ex) / float(ex @ ex) / unit
    # widened to the resting width (measured in the image: the face frame's own width counts the
    # landmarks' depth too, so not to the hundredth)
    assert closed - width > 0.7 * (NEUTRAL_MOUTH_WIDTH - width), (width, closed)
    assert closed < NEUTRAL_MOUTH_WIDTH + 0.02, (width, closed)
    _, _, ey, _ = face_uv(face)

    def corners_down(row: np.ndarray) -> float:  # face units below the lips' middle
        at = renderer._prepared.moved_points(row)
        return float((0.5 * (at[61] + at[291]) - 0.5 * (at[13] + at[14])) @ ey) / unit

    assert abs(corners_down(au_row())) < 0.03
    assert corners_down(au_row(AU15=4.0)) > 0.08  # AU15 at 4: a frown
    frame = renderer.frame(au_row())
    renderer.close()
    track = tracker.track_frames([(i / 25.0, frame) for i in range(3)], source="closed")
    blendshapes = dict(zip(BLENDSHAPE_NAMES, track.blendshapes[-1].tolist(), strict=True))
    assert blendshapes["mouthPucker"] < 0.35, blendshapes["mouthPucker"]  # closed: no pucker


def _closed_over(landmarker_path, open_smile, paint) -> tuple[object, np.ndarray]:
    """The open-smile photo with its lips repainted by ``paint(photo, points)`` (in place), and
    its prepared face with the photo's own mouth AUs (so that every mouth AU at 0 closes it)."""
    photo, face = open_smile
    photo = photo.copy()
    paint(photo, face.points)
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(photo, face=face, photo_aus=au_row(AU25=3.0, AU26=2.0))
    prepared = renderer._prepared
    renderer.close()
    return prepared, face.points


def _fill(photo: np.ndarray, polygon: np.ndarray, colour: tuple[int, int, int]) -> None:
    cv2.fillPoly(photo, [np.round(polygon * 16).astype(np.int32)], colour, cv2.LINE_AA, 4)


@pytest.mark.parametrize("au", ["", "AU23", "AU17"])
def test_closed_lips_hide_the_wet_inner_lip(landmarker_path, open_smile, au):
    """Closing a photo's open mouth squeezes each lip's inner part (the wet inner lip, lighter
    and shinier than the rest) into the rows along the meeting line: on the dev photos a smear
    of pink and white streaks along the closed lips and, under AU23, a white line. Drawn with
    the inner 35 % of each lip's thickness green: before, 248 green pixels showed along the
    closed lips with every AU at 0, 62 under AU23 and 157 under AU17 at 4 (the cover hid only
    what samples the interior itself); now none: the lips' inner parts take the lips' colour."""

    def paint(photo, points):
        for inner, outer in (
            (INNER_UPPER_LIP, OUTER_UPPER_LIP),
            (INNER_LOWER_LIP, OUTER_LOWER_LIP),
        ):
            a, b = points[list(inner)], points[list(outer)]
            _fill(photo, np.concatenate([a, (a + 0.35 * (b - a))[::-1]]), (60, 200, 80))

    prepared, _ = _closed_over(landmarker_path, open_smile, paint)
    frame = prepared.frame(au_row(**({au: 4.0} if au else {}))).astype(int)
    green = (frame[..., 1] - frame[..., 0] > 60) & (frame[..., 1] - frame[..., 2] > 40)
    assert green.sum() <= 5, int(green.sum())


@pytest.mark.parametrize("au", ["", "AU17"])
def test_closed_lips_meet_in_a_smooth_line_without_the_teeth(landmarker_path, open_smile, au):
    """The closed-over mouth's lips meet in a smooth line, without the teeth squeezed between
    them: on the dev photos the line was a jagged crack with light flecks, and under AU23 a white
    line of squeezed teeth. Drawn with a dark red upper lip, a light red lower lip and an
    interior of white teeth over black: in every column of the middle half of the mouth, no
    pixel near the lips' meeting line is as white as the teeth, and where the upper lip's colour
    turns into the lower lip's (the green channel crossing half way) moves by at most a pixel
    from one column to the next (before: 1.33 rows at every AU 0, 1.27 under AU17 at 4; now 0.44
    and 0.52)."""
    upper_rgb, lower_rgb = (150, 40, 40), (220, 120, 120)

    def paint(photo, points):
        _fill(photo, points[list(OUTER_UPPER_LIP + INNER_UPPER_LIP[::-1])], upper_rgb)
        _fill(photo, points[list(INNER_LOWER_LIP + OUTER_LOWER_LIP[::-1])], lower_rgb)
        up, lo = points[list(INNER_UPPER_LIP)], points[list(INNER_LOWER_LIP)]
        _fill(photo, np.concatenate([up, lo[::-1]]), (10, 10, 10))
        _fill(photo, np.concatenate([up, (0.6 * up + 0.4 * lo)[::-1]]), (250, 250, 250))

    prepared, _ = _closed_over(landmarker_path, open_smile, paint)
    driven = au_row(**({au: 4.0} if au else {}))
    frame = prepared.frame(driven).astype(float)
    moved = prepared.moved_points(driven)
    upper, lower = moved[list(INNER_UPPER_LIP)], moved[list(INNER_LOWER_LIP)]
    x0, x1 = np.percentile(moved[list(OUTER_UPPER_LIP), 0], [25, 75]).astype(int)
    half = 0.5 * (upper_rgb[1] + lower_rgb[1])
    rows = []
    for x in range(x0, x1):  # 6 pixels each side of the moved inner lips' middle
        middle = 0.5 * (np.interp(x, *upper[np.argsort(upper[:, 0])].T))
        middle += 0.5 * np.interp(x, *lower[np.argsort(lower[:, 0])].T)
        top = int(round(middle)) - 6
        column = frame[top : top + 13, x]
        # the teeth are the only white (the lips and the skin have less blue)
        assert column.min(-1).max() < 210, (x, column.astype(int))
        green = column[:, 1]
        turn = np.nonzero((green[:-1] < half) & (green[1:] >= half))[0]
        assert len(turn) >= 1, (x, green.astype(int))
        i = int(turn[0])
        rows.append(top + i + (half - green[i]) / (green[i + 1] - green[i]))
    assert np.abs(np.diff(rows)).max() <= 1.0, np.round(rows, 1)


@pytest.mark.parametrize("blur", [0.0, 2.0])
def test_closed_lips_meet_in_a_soft_red_shadow_as_wide_as_the_photo_is_soft(
    landmarker_path, open_smile, blur
):
    """The closed-over mouth's meeting line is a shadow of the lips as the closed-mouth dev photos
    show it: darker in green and blue than in red (light passes through the lips), and
    SEAM_WIDTH times the photo's blur wide, so that a soft photo's line is a soft one. Drawn with
    both lips one red over a black interior, sharp and blurred by a Gaussian of 2 pixels: before,
    the line darkened the three channels alike (blue 0.00 more than red) and was 2.4 times the
    photo's measured blur wide at half its darkness (a pencil line on soft photos, half as wide
    as the same speakers' closed photos show); now blue darkens 0.22 more than red and the line
    is 3.7-3.8 times the blur wide."""
    lip_rgb = np.array((200.0, 100.0, 90.0))

    def paint(photo, points):
        _fill(photo, points[list(OUTER_UPPER_LIP + OUTER_LOWER_LIP[::-1])], tuple(lip_rgb))
        up, lo = points[list(INNER_UPPER_LIP)], points[list(INNER_LOWER_LIP)]
        _fill(photo, np.concatenate([up, lo[::-1]]), (10, 10, 10))
        if blur:
            photo[:] = cv2.GaussianBlur(photo, (0, 0), blur)

    prepared, _ = _closed_over(landmarker_path, open_smile, paint)
    frame = prepared.frame(au_row()).astype(float)
    moved = prepared.moved_points(au_row())
    upper, lower = moved[list(OUTER_UPPER_LIP)], moved[list(OUTER_LOWER_LIP)]
    x0, x1 = np.percentile(upper[:, 0], [35, 65]).astype(int)
    redder, widths = [], []
    for x in range(x0, x1):
        top = int(np.ceil(np.interp(x, *upper[np.argsort(upper[:, 0])].T)))
        bottom = int(np.interp(x, *lower[np.argsort(lower[:, 0])].T))
        column = frame[top:bottom, x]
        i = int(np.argmin(column.sum(-1)))
        darkening = 1.0 - column[i] / lip_rgb
        redder.append(darkening[2] - darkening[0])
        green = 1.0 - column[:, 1] / lip_rgb[1]  # the shadow's profile
        widths.append(float((green > 0.5 * green[i]).sum()))
    assert np.median(redder) > 0.1, np.round(redder, 2)
    sigma = prepared.mouth.interior.blur
    assert np.median(widths) >= 3.0 * sigma, (np.median(widths), sigma)


def test_sealed_lips_read_a_pixel_apart_on_a_small_face_open_from_the_first_unit(
    landmarker_path, landmarker, grace
):
    """The demo photo made small (eye distance 30 px, a face in a group photo), its sealed lips
    read 0.8 px apart (the landmarks' error at this size: 0.027 eye distances, past
    OPEN_MOUTH_GAP) and its own AU26 read 1.5 (the tracker's jawOpen on sealed lips): AU26 at 2
    opens the mouth as far as on the same face read sealed. Taken for an open mouth, the AU26
    the photo "shows" was subtracted and AU26 up to 1.5 left the mouth shut (eNTERFACE angry
    closed at this size: AU26 r 0.18, 0.47 at full size)."""
    face = landmarker.detect(grace)[0]
    scale = 30.0 / face_uv(face)[3]
    small = cv2.resize(grace, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    sealed = face.landmarks * np.float32(scale)
    sealed[list(INNER_LOWER_LIP), 1] = sealed[list(INNER_UPPER_LIP), 1]  # the lips touch
    parted = sealed.copy()
    parted[list(INNER_LOWER_LIP[1:-1]), 1] += 0.8
    own = au_row(AU26=1.5)
    renderer = WarpRenderer(landmarker_path)
    openings = []
    for landmarks in (sealed, parted):
        renderer.prepare(small, face=Face(landmarks), photo_aus=own)
        p = renderer._prepared
        moved = p.moved_points(au_row(AU26=2.0))
        openings.append(
            float((moved[list(INNER_LOWER_LIP)] - moved[list(INNER_UPPER_LIP)])[:, 1].max())
        )
        still = renderer.frame(au_row())
        frame = renderer.frame(au_row(AU26=2.0))
        x0, y0 = np.floor(landmarks[list(OUTER_UPPER_LIP), :2].min(0)).astype(int)
        x1, y1 = np.ceil(landmarks[list(OUTER_LOWER_LIP), :2].max(0)).astype(int)
        box = (slice(y0, y1 + 3), slice(x0, x1 + 1))
        openings.append(float(np.abs(frame[box].astype(float) - still[box]).mean()))
    renderer.close()
    gap_sealed, change_sealed, gap_parted, change_parted = openings
    assert gap_sealed > 2.0  # pixels: AU26 at 2 opens the sealed mouth
    assert gap_parted > 0.8 * gap_sealed, openings
    assert change_parted > 0.7 * change_sealed, openings


def test_teeth_taller_than_a_tooth_row_keep_their_height_as_an_open_mouth_opens_further(
    landmarker_path, landmarker, grace
):
    """A photo's open mouth whose upper teeth fill most of its gap (a broad smile, GRID's
    speakers), opened further: the teeth move with the upper lip whole, and the mouth opens
    between them and the lower lip. Before, the teeth moved with the lip only 0.1 eye distances
    (at most 0.4 of the gap) deep; the rest of them was stretched with the back of the mouth and
    painted over, so a row 0.6 of the gap tall kept 7 of its 16 rows in the middle column
    (slivers over a dark band); now the split follows the photo's dark band and the row keeps
    its height."""
    photo, wider, face = _teeth_opened(
        landmarker_path, landmarker, grace, lambda up, lo, unit: up + 0.6 * (lo - up)
    )
    upper = face.points[list(INNER_UPPER_LIP)]
    lower = face.points[list(INNER_LOWER_LIP)]
    before, after = _green_rows(photo, face, np.all), _green_rows(wider, face, np.all)
    assert before >= 8, before
    assert after >= 0.85 * before, (before, after)
    opened = landmarker.detect(wider.astype(np.uint8))[0]  # ... and the mouth opened
    gap_before = float(lower[5, 1] - upper[5, 1])
    assert opened.points[14, 1] - opened.points[13, 1] > 1.3 * gap_before
