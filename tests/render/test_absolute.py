"""Absolute targets: the warp renderer drives the face from the photo's own AUs to the requested."""

from __future__ import annotations

import numpy as np
import pytest
from made_fixtures import au_row

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.emotion import PROTOTYPES
from espnet_cause.errors import CauseError
from espnet_cause.face.landmarker import Face
from espnet_cause.render.face_geometry import brow_heights, face_uv, lip_gap
from espnet_cause.render.warp import WarpRenderer


def test_zeros_stop_the_smile_and_close_the_mouth(landmarker_path, landmarker, tracker, smiling):
    own = tracker.read_photo(smiling)
    assert own[au_index("AU12")] > 1.5 and own[au_index("AU25")] > 0.5  # the photo smiles, open
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(smiling)
    # read by the tracker itself: the mean over canonical views of the face (read_face_photo)
    # against one read of the whole photo, AU10 0.30 apart on main d0f4c0e, 0.36 since the
    # fixture's eyes are rendered with a still eyeball (render/eyeball.py)
    np.testing.assert_allclose(renderer.photo_aus, own, atol=0.4)
    neutral = next(renderer.render(smiling, np.zeros((1, NUM_AUS), np.float32)))
    read = tracker.read_photo(neutral)
    assert read[au_index("AU12")] <= 0.5 * own[au_index("AU12")]
    assert read[au_index("AU25")] <= 0.5 * own[au_index("AU25")]
    # the lips come together: the landmarks of the rendered face show a (nearly) closed mouth
    before = lip_gap(landmarker.detect(smiling)[0]).max()
    after = lip_gap(landmarker.detect(neutral)[0]).max()
    assert after < 0.5 * before
    # the photo's own AUs as targets leave it as it is
    same = next(renderer.render(smiling, renderer.photo_aus[None]))
    assert np.array_equal(same, smiling)
    renderer.close()


def test_open_mouth_photo_keeps_its_own_interior(landmarker_path, landmarker, smiling):
    """A photo whose mouth is open keeps its own interior (teeth, tongue) by the lips as it opens
    further; only the back of the mouth that opens up between them is painted dark."""
    import cv2

    from espnet_cause.render.face_geometry import INNER_LOWER_LIP, INNER_UPPER_LIP

    face = landmarker.detect(smiling)[0]
    photo = smiling.copy()  # its own interior in a colour no painted cavity has (teeth, tongue)
    inner = face.points[list(INNER_UPPER_LIP + INNER_LOWER_LIP[::-1])]
    cv2.fillPoly(photo, [np.round(inner).astype(np.int32)], (60, 200, 80))
    renderer = WarpRenderer(landmarker_path)
    own = np.zeros(NUM_AUS, np.float32)
    own[au_index("AU25")] = own[au_index("AU26")] = 1.0
    renderer.prepare(photo, face=face, photo_aus=own)
    wider = own.copy()
    wider[au_index("AU26")] = 3.0
    frame = next(renderer.render(photo, wider[None])).astype(int)

    def green(image: np.ndarray) -> np.ndarray:
        image = image.astype(int)
        return (image[..., 1] - np.maximum(image[..., 0], image[..., 2])) > 60

    assert green(frame).sum() >= 0.6 * green(photo).sum()  # the photo's own interior, kept
    opened = landmarker.detect(frame.astype(np.uint8))[0]
    cx, cy = opened.points[[13, 14]].mean(0).astype(int)
    assert frame[cy - 1 : cy + 2, cx - 3 : cx + 4].mean() < 80  # the back of the mouth: dark
    renderer.close()


def test_photo_aus_below_the_target_move_like_offsets(landmarker_path, landmarker, grace):
    face = landmarker.detect(grace)[0]
    own = np.zeros(NUM_AUS, np.float32)
    own[au_index("AU12")] = 1.0
    absolute = WarpRenderer(landmarker_path)
    absolute.prepare(grace, face=face, photo_aus=own)
    offsets = WarpRenderer(landmarker_path, absolute=False)
    offsets.prepare(grace, face=face)
    target = np.zeros((1, NUM_AUS), np.float32)
    target[0, au_index("AU12")] = 4.0
    delta = target - own
    a = next(absolute.render(grace, target))
    b = next(offsets.render(grace, delta))
    assert np.abs(a.astype(int) - b).max() <= 1
    with pytest.raises(CauseError, match="shape"):
        absolute.prepare(grace, face=face, photo_aus=np.zeros(3))


def test_closing_an_open_mouth_covers_its_interior_with_the_lips(landmarker_path, green_mouth):
    """Closed over the teeth, the lips meet cleanly: no squeezed line of the interior is left."""
    photo, face = green_mouth  # its own interior in a colour neither lips nor skin have
    own = np.zeros(NUM_AUS, np.float32)
    own[au_index("AU25")] = own[au_index("AU26")] = 2.0
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(photo, face=face, photo_aus=own)
    closed = next(renderer.render(photo, np.zeros((1, NUM_AUS), np.float32))).astype(int)
    renderer.close()
    green = (closed[..., 1] - np.maximum(closed[..., 0], closed[..., 2])) > 40
    assert green.sum() <= 10  # (the interior's area in the photo: hundreds of pixels)
    before = photo.astype(int)
    assert ((before[..., 1] - np.maximum(before[..., 0], before[..., 2])) > 40).sum() > 100


def test_closing_keeps_the_teeth_the_photos_raised_upper_lip_shows(
    landmarker_path, landmarker, smiling
):
    """Part of an open smile's gap is its AU10 (upper lip raised over the teeth): closing the mouth
    with AU10 kept leaves those teeth showing; AU10 lowered to 0 brings the upper lip back down."""
    import cv2

    from espnet_cause.render.face_geometry import INNER_LOWER_LIP, INNER_UPPER_LIP

    face = landmarker.detect(smiling)[0]
    photo = smiling.copy()
    inner = face.points[list(INNER_UPPER_LIP + INNER_LOWER_LIP[::-1])]
    cv2.fillPoly(photo, [np.round(inner).astype(np.int32)], (60, 200, 80))
    own = np.zeros(NUM_AUS, np.float32)
    own[au_index("AU10")] = 3.0
    own[au_index("AU25")] = own[au_index("AU26")] = 1.0
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(photo, face=face, photo_aus=own)

    def green(target: np.ndarray) -> int:
        frame = next(renderer.render(photo, target[None])).astype(int)
        return int(((frame[..., 1] - np.maximum(frame[..., 0], frame[..., 2])) > 40).sum())

    kept = np.zeros(NUM_AUS, np.float32)
    kept[au_index("AU10")] = 3.0
    assert green(kept) > 60  # the upper teeth under the still raised lip
    assert green(np.zeros(NUM_AUS, np.float32)) <= 10  # the upper lip came down over them
    renderer.close()


def _undone_brows(landmarker_path, grace, face, raised: float, aus: dict[str, float]):
    """The inner and outer brow heights of the demo photo's landmarks with the brows moved up by
    ``raised`` eye distances, read as ``aus``, and driven to all AUs 0 (absolute targets)."""
    from espnet_cause.face.landmarker import Face
    from espnet_cause.render.face_geometry import BROWS, brow_heights, face_uv

    unit = face_uv(face)[3]
    landmarks = face.landmarks.copy()
    landmarks[list(BROWS[0] + BROWS[1]), 1] -= raised * unit
    moved_face = Face(landmarks)
    photo_aus = np.zeros(NUM_AUS, np.float32)
    for name, value in aus.items():
        photo_aus[au_index(name)] = value
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(grace, face=moved_face, photo_aus=photo_aus)
    moved = renderer._prepared.moved_points(np.zeros(NUM_AUS, np.float32))
    renderer.close()
    return brow_heights(face_uv(moved_face)[0]), brow_heights(face_uv(Face(moved))[0])


def test_undoing_a_frown_stops_at_brows_at_rest(landmarker_path, landmarker, grace):
    """A photo whose tracked AU04 (4) is more than its lowered brows show (the demo photo's brows
    drawn 0.1 eye distances lower) driven to AU04 = 0: the inner brows rise back to a resting
    height over the eyes, not past it (reversed in full they rose 0.22, 0.1 above rest: every
    frame raised the brows, and raising them further stretched the skin under them)."""
    from espnet_cause.render.neutralise import NEUTRAL_BROW_HEIGHT

    face = landmarker.detect(grace)[0]
    before, after = _undone_brows(landmarker_path, grace, face, -0.1, {"AU04": 4.0})
    assert before[0] < NEUTRAL_BROW_HEIGHT[0] - 0.05  # the photo frowns
    assert abs(after[0] - NEUTRAL_BROW_HEIGHT[0]) < 0.01, (before, after)


def test_undoing_raised_brows_stops_at_brows_at_rest(landmarker_path, landmarker, grace):
    """A photo whose tracked AU01 and AU02 (4 each) are more than its raised brows show (the demo
    photo's brows drawn 0.1 eye distances higher) driven to 0: the brows come down to a resting
    height, not below it (reversed in full the inner ends sank 0.22 below rest, a frown)."""
    from espnet_cause.render.neutralise import NEUTRAL_BROW_HEIGHT

    face = landmarker.detect(grace)[0]
    before, after = _undone_brows(landmarker_path, grace, face, 0.1, {"AU01": 4.0, "AU02": 4.0})
    assert before[0] > NEUTRAL_BROW_HEIGHT[0] + 0.05  # the photo's brows are raised
    for end in (0, 1):
        assert abs(after[end] - NEUTRAL_BROW_HEIGHT[end]) < 0.015, (end, before, after)


def _raised_brows(landmarker_path, grace, own: dict[str, float], target: dict[str, float]):
    """The inner and outer brow heights (eye distances above the eye corners) of the demo photo,
    its own AUs read as ``own``, driven to ``target`` (absolute targets, the other AUs 0)."""
    photo_aus, row = np.zeros(NUM_AUS, np.float32), np.zeros(NUM_AUS, np.float32)
    for name, value in own.items():
        photo_aus[au_index(name)] = value
    for name, value in target.items():
        row[au_index(name)] = value
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(grace, photo_aus=photo_aus)
    moved = renderer._prepared.moved_points(row)
    renderer.close()
    return np.array(brow_heights(face_uv(Face(moved))[0]))


def test_brows_read_raised_but_at_rest_rise_in_full(landmarker_path, grace):
    """A photo whose tracker reads AU01 and AU02 3.5 while its brows sit at rest (the demo
    photo's, read so): AU01 and AU02 at 5 raise its brows (nearly) as far as on the photo read as
    0 (rest plus the full raise). Counted from the tracker's 3.5 they rose 1.5 units of 5."""
    raise_aus = {"AU01": 5.0, "AU02": 5.0}
    rest = _raised_brows(landmarker_path, grace, {}, {})
    full = _raised_brows(landmarker_path, grace, {}, raise_aus)
    read_raised = _raised_brows(landmarker_path, grace, {"AU01": 3.5, "AU02": 3.5}, raise_aus)
    assert (full - rest > 0.1).all(), (rest, full)
    # the outer ends sit a little above rest: 0.2 units of AU02 count as shown
    assert (read_raised - rest >= 0.95 * (full - rest)).all(), (rest, full, read_raised)


def test_the_sad_brow_rises_on_a_photo_read_as_raised(landmarker_path, grace):
    """The sad prototype at 4 (AU01 4 with AU04 4: the inner brows up, drawn together) on a photo
    whose tracker reads AU01 3.3 with its brows at rest (eNTERFACE angry's case): the brows'
    inner ends rise above the photo's. Counted from the tracker's 3.3, AU01 added 0.7 units to
    AU04's 4 and the inner ends sank 0.12 eye distances (a frown; the sheet read it as angry)."""
    sad = {au: 4.0 * w / max(PROTOTYPES["sad"].values()) for au, w in PROTOTYPES["sad"].items()}
    own = {"AU01": 3.3}
    photo = _raised_brows(landmarker_path, grace, own, own)
    frame = _raised_brows(landmarker_path, grace, own, sad)
    assert frame[0] > photo[0] + 0.02, (photo, frame)


def test_a_jaw_read_open_behind_sealed_lips_opens_from_the_first_unit(
    landmarker_path, landmarker, grace
):
    """The demo photo's lips touch; read as AU26 1.5 (the tracker's jawOpen reads up to 1.6 on
    sealed lips, eNTERFACE angry closed's 1.52): AU26 at 1 parts its lips (nearly) as far as on the
    photo read as 0. Counted from the tracker's 1.5, AU26 below it left the mouth shut (a dead
    zone: that photo's AU26 swept 0-4 read back at r 0.28)."""
    face = landmarker.detect(grace)[0]
    gaps, frames = [], []
    for own26 in (0.0, 1.5):
        renderer = WarpRenderer(landmarker_path)
        renderer.prepare(grace, face=face, photo_aus=au_row(AU26=own26))
        moved = renderer._prepared.moved_points(au_row(AU26=1.0))
        gaps.append(float(moved[14, 1] - moved[13, 1]))
        frames.append(next(renderer.render(grace, au_row(AU26=1.0)[None])))
        renderer.close()
    rest = float(face.points[14, 1] - face.points[13, 1])
    assert gaps[0] > rest + 2.0, (rest, gaps)  # AU26 at 1 parts the lips by a few pixels
    assert gaps[1] - rest > 0.9 * (gaps[0] - rest), (rest, gaps)
    opened = lip_gap(landmarker.detect(frames[1])[0]).max()
    assert opened > lip_gap(face).max() + 0.02, (lip_gap(face).max(), opened)
