"""AU25 (lips part) from the inner-lip gap: known gaps on landmarks, and on rendered faces."""

from __future__ import annotations

import numpy as np
import pytest
from made_fixtures import au_row

from espnet_cause.au import au_index
from espnet_cause.extract.lips import CLOSED_GAP, FULL_GAP, INNER_LIP_PAIRS, lip_gap, lips_part
from espnet_cause.face.landmarker import LEFT_EYE_CORNERS, RIGHT_EYE_CORNERS


def _face_with_gap(gap: float, eye_distance: float = 60.0) -> np.ndarray:
    """(478, 3) landmarks: eyes ``eye_distance`` apart, inner lips ``gap`` eye distances apart."""
    p = np.zeros((478, 3))
    p[list(RIGHT_EYE_CORNERS)] = (-eye_distance / 2, 0.0, 0.0)
    p[list(LEFT_EYE_CORNERS)] = (eye_distance / 2, 0.0, 0.0)
    for k, (upper, lower) in enumerate(INNER_LIP_PAIRS):
        x = (k - 1) * 10.0
        p[upper] = (x, 70.0, 0.0)
        p[lower] = (x, 70.0 + gap * eye_distance, 0.0)
    return p


@pytest.mark.parametrize("gap", [0.0, 0.05, 0.2, 0.5])
def test_lip_gap_is_the_inner_lip_distance_over_the_eye_distance(gap):
    assert lip_gap(_face_with_gap(gap)) == pytest.approx(gap, abs=1e-6)
    # the face's size in the frame does not matter
    assert lip_gap(_face_with_gap(gap, eye_distance=240.0)) == pytest.approx(gap, abs=1e-6)


def test_lip_gap_does_not_grow_when_the_head_turns():
    face = _face_with_gap(0.2)
    yaw = np.radians(40.0)
    rot = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    assert lip_gap(face @ rot.T) == pytest.approx(0.2, abs=1e-6)


def test_lip_gap_of_a_batch_of_frames():
    frames = np.stack([_face_with_gap(g) for g in (0.0, 0.1, 0.3)])
    np.testing.assert_allclose(lip_gap(frames), [0.0, 0.1, 0.3], atol=1e-6)


def test_lips_part_rule():
    au = lips_part(np.array([0.0, CLOSED_GAP, (CLOSED_GAP + FULL_GAP) / 2, FULL_GAP, 1.0, np.nan]))
    np.testing.assert_allclose(au[:5], [0.0, 0.0, 2.5, 5.0, 5.0], atol=1e-5)
    assert np.isnan(au[5])


def test_tracked_au25_follows_the_lips_not_the_jaw(grace):
    """A rendered face whose lips part with the jaw still reads AU25, and lips closed read 0.

    The warp renderer moves the lower lip for AU25 and the jaw for AU26; the old table's AU25
    (jawOpen - mouthClose) read the lips parting as little as the jaw moved.
    """
    from espnet_cause.extract.mediapipe import MediaPipeAUExtractor
    from espnet_cause.render.fidelity import read_back
    from espnet_cause.render.warp import WarpRenderer

    driven = np.stack([au_row()] * 4 + [au_row(AU25=4.0)] * 4 + [au_row(AU26=4.0)] * 4)
    renderer = WarpRenderer()
    with MediaPipeAUExtractor(threaded=False) as tracker:
        read = read_back(renderer.render(grace, driven), tracker)
    renderer.close()
    au25, au26 = read[:, au_index("AU25")], read[:, au_index("AU26")]
    closed, lips, jaw = au25[3], au25[7], au25[11]
    assert closed < 0.3  # lips closed: 0 whatever the photo's jaw reads
    assert lips > closed + 1.0  # lips apart with the jaw still
    assert au26[7] < au26[11]  # ... and the jaw did drop less there than on AU26
    assert jaw > closed + 0.5  # a dropped jaw parts the lips too
