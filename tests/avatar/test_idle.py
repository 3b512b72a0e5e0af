"""Idle motion: added blinks, the head's random walk, and the warp moving the face but not the
background."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.avatar.idle import BLINK_SEEN, HEAD_ROLL_DEG, add_blinks, head_motion
from espnet_cause.render.warp import WarpRenderer

K45 = au_index("AU45")


def _blinks(track: np.ndarray) -> int:
    up = track > BLINK_SEEN
    return int(up[0] + (np.diff(up.astype(int)) == 1).sum())


def test_blinks_are_added_where_the_stream_has_none():
    still = np.zeros((25 * 60, NUM_AUS), np.float32)
    blinked = add_blinks(still, 25.0, rate=15.0, seed=3)
    assert 8 <= _blinks(blinked[:, K45]) <= 25  # about 15 a minute
    assert np.array_equal(np.delete(blinked, K45, axis=1), np.delete(still, K45, axis=1))
    assert np.array_equal(blinked, add_blinks(still, 25.0, rate=15.0, seed=3))  # seeded
    assert np.array_equal(add_blinks(still, 25.0, rate=0.0), still)  # off


def test_a_stream_that_blinks_gets_no_extra_blinks():
    aus = np.zeros((25 * 20, NUM_AUS), np.float32)
    aus[::25, K45] = 4.0  # the stream blinks every second
    assert np.array_equal(add_blinks(aus, 25.0, rate=30.0, seed=0), aus)


def test_head_motion_is_small_smooth_seeded_and_starts_still():
    walk = head_motion(25 * 60, 25.0, scale=1.0, seed=1)
    assert walk.shape == (1500, 3) and np.abs(walk[0]).max() == 0.0
    roll = np.rad2deg(walk[:, 0])
    assert 0.3 * HEAD_ROLL_DEG < roll.std() < 3 * HEAD_ROLL_DEG and np.abs(roll).max() < 8.0
    assert np.abs(np.diff(walk, axis=0)).max() < 0.02  # smooth: small steps per frame
    assert np.array_equal(walk, head_motion(1500, 25.0, seed=1))
    assert not np.array_equal(walk, head_motion(1500, 25.0, seed=2))
    assert np.abs(head_motion(100, 25.0, scale=0.0)).max() == 0.0


@pytest.mark.parametrize("absolute", [False, True])
def test_head_moves_and_background_does_not(landmarker_path, landmarker, grace, absolute):
    face = landmarker.detect(grace)[0]
    renderer = WarpRenderer(landmarker_path, absolute=absolute, head_motion=2.0, seed=5)
    renderer.prepare(grace, face=face, photo_aus=np.zeros(NUM_AUS) if absolute else None)
    frames = list(renderer.render(grace, np.zeros((50, NUM_AUS), np.float32)))
    prepared = renderer._prepared
    outside = np.ones(grace.shape[:2], bool)
    outside[prepared.y0 : prepared.y1, prepared.x0 : prepared.x1] = False
    nose = []
    for frame in frames:
        assert np.array_equal(frame[outside], grace[outside])  # the background stays still
        nose.append(landmarker.detect(frame)[0].points[[1, 4, 168]].mean(0))
    shift = np.linalg.norm(np.array(nose) - face.points[[1, 4, 168]].mean(0), axis=1)
    assert shift.max() > 2.0  # the head moves (pixels)
    still = WarpRenderer(landmarker_path, absolute=False)
    still.prepare(grace, face=face)
    assert all(np.array_equal(f, grace) for f in still.render(grace, np.zeros((5, NUM_AUS))))
