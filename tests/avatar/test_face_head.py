"""The whole ARKit face and the moving head, from real speech (the packaged CMU ARCTIC clip)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from espnet_cause.arkit import ARKIT_NAMES
from espnet_cause.avatar.animation import animate_speech
from espnet_cause.avatar.head import (
    eye_gaze,
    gaze_blendshapes,
    head_pose,
    nods,
    smoothed_walk,
    syllable_nuclei,
)

MOVES = 0.02  # a curve "moves" when its range over the take is larger than this


def test_ordinary_speech_moves_at_least_40_of_52_curves_and_the_head(builtin_speech2au, demo_wav):
    samples, sr = sf.read(str(demo_wav), dtype="float32")
    take = animate_speech(builtin_speech2au, samples, sr)
    assert take.arkit.shape == (int(np.ceil(len(samples) / sr * 60)), 52)
    ranges = dict(zip(ARKIT_NAMES, np.ptp(take.arkit, axis=0), strict=True))
    moving = [name for name, r in ranges.items() if r > MOVES]
    assert len(moving) >= 40, (
        f"only {len(moving)} curves move; still: {set(ARKIT_NAMES) - set(moving)}"
    )
    for name in ("mouthFunnel", "mouthPucker", "mouthRollUpper", "mouthShrugUpper", "cheekPuff",
                 "eyeBlinkLeft", "eyeLookOutLeft", "browInnerUp", "jawOpen"):  # fmt: skip
        assert name in moving, name
    assert ranges["tongueOut"] == 0.0
    assert take.arkit.min() >= 0.0 and take.arkit.max() <= 1.0
    head = np.rad2deg(take.rotations)
    assert np.ptp(head[:, :3], axis=0).min() > 0.5  # yaw, pitch, roll move (degrees)
    assert np.abs(head[:, :3]).max() < 15.0  # and stay natural
    assert np.ptp(head[:, 3:5], axis=0).min() > 0.5 and np.array_equal(head[:, 3:6], head[:, 6:9])

    still = animate_speech(builtin_speech2au, samples, sr, head_motion=0.0)
    assert np.abs(still.rotations).max() == 0.0
    looks = [ARKIT_NAMES.index(n) for n in ARKIT_NAMES if n.startswith("eyeLook")]
    assert np.abs(still.arkit[:, looks]).max() == 0.0
    again = animate_speech(builtin_speech2au, samples, sr)
    assert np.array_equal(again.arkit, take.arkit) and np.array_equal(
        again.rotations, take.rotations
    )


def _envelope(fps: float, peaks: list[tuple[float, float]], seconds: float = 3.0) -> np.ndarray:
    t = np.arange(int(seconds * fps)) / fps
    return np.clip(sum(h * np.exp(-0.5 * ((t - c) / 0.05) ** 2) for c, h in peaks), 0, 1)


def test_nods_come_on_the_stressed_syllables():
    fps = 60.0
    syllables = [(0.5, 0.4), (1.0, 0.95), (1.5, 0.35), (2.0, 0.9), (2.5, 0.3)]
    loud = _envelope(fps, syllables)
    f0 = np.full(len(loud), np.nan)
    nuclei = syllable_nuclei(loud, fps)
    np.testing.assert_allclose(nuclei / fps, [c for c, _ in syllables], atol=1 / fps)
    pitch, stressed = nods(loud, f0, fps)
    np.testing.assert_allclose(stressed / fps, [1.0, 2.0], atol=1 / fps)
    t = np.arange(len(loud)) / fps
    peak_times = [t[(abs(t - c) < 0.25)][pitch[abs(t - c) < 0.25].argmax()] for c in (1.0, 2.0)]
    assert all(-0.1 < c - p < 0.1 for c, p in zip((1.0, 2.0), peak_times, strict=True))
    assert pitch[abs(t - 1.5) < 0.05].max() == 0.0 and np.rad2deg(pitch.max()) > 3.0
    # a rising pitch makes a quieter syllable stressed too
    f0[abs(t - 1.5) < 0.1] = np.log(300.0)
    f0[(abs(t - 1.5) >= 0.1) & (loud > 0.1)] = np.log(120.0)
    assert np.any(abs(nods(loud, f0, fps)[1] / fps - 1.5) < 0.05)


def test_head_and_gaze_are_seeded_small_and_switch_off():
    fps = 60.0
    loud = _envelope(fps, [(0.5 + 0.4 * k, 0.8) for k in range(12)], seconds=6.0)
    f0 = np.full(len(loud), np.nan)
    a, b = head_pose(loud, f0, fps, seed=1), head_pose(loud, f0, fps, seed=2)
    assert np.array_equal(a, head_pose(loud, f0, fps, seed=1)) and not np.array_equal(a, b)
    assert np.abs(head_pose(loud, f0, fps, scale=0.0)).max() == 0.0
    assert np.rad2deg(np.abs(a).max()) < 12.0 and np.abs(np.diff(a, axis=0)).max() < 0.01
    gaze = eye_gaze(a, fps, seed=1)
    jumps = np.abs(np.diff(gaze[:, 0])) > np.deg2rad(0.5)  # saccades: a few big steps
    assert 1 <= jumps.sum() <= 20
    looks = gaze_blendshapes(np.deg2rad(np.array([[15.0, 0.0], [0.0, -15.0]])))
    assert looks["eyeLookOutLeft"][0] == looks["eyeLookInRight"][0] == pytest.approx(0.5)
    assert looks["eyeLookUpLeft"][1] == pytest.approx(0.5) and looks["eyeLookInLeft"][0] == 0.0


def test_smoothed_walk_is_the_twice_filtered_noise_of_its_docstring():
    """The vectorised filter equals the recursion y[i] = a y[i-1] + (1 - a) x[i], run twice."""
    fps, smooth_s, std, seed = 25.0, 0.8, (0.1, 0.3), 3
    got = smoothed_walk(200, fps, std, smooth_s, seed)
    warm = int(round(4 * smooth_s * fps))
    noise = np.random.default_rng(seed).standard_normal((200 + warm, 2))
    a = np.exp(-1.0 / (smooth_s * fps))
    for _ in range(2):
        state, out = np.zeros(2), []
        for x in noise:
            state = a * state + (1 - a) * x
            out.append(state)
        noise = np.array(out)
    walk = noise[warm:] - noise[warm]
    ratio = got[1:] / walk[1:]  # the same walk up to each column's scale
    assert np.allclose(got[0], 0) and np.allclose(ratio, ratio[0], rtol=1e-4)
