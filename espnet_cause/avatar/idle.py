"""Idle motion that keeps a rendered face alive: blinks at a natural rate and a small head motion.

Both are made per AU sequence, seeded, so a video renders the same every time:

- :func:`add_blinks` inserts AU45 blinks where the AU stream has none for a while (people blink
  about 15-20 times a minute; the default rate here is :data:`BLINK_RATE`);
- :func:`head_motion` is a smoothed random walk of the head's in-plane rotation and position
  (a few degrees, a few percent of the eye distance), which the warp renderer applies to the face
  region only, feathered back into the still background.
"""

from __future__ import annotations

import numpy as np

from espnet_cause.au import AU_INTENSITY_MAX, au_index
from espnet_cause.avatar.head import smoothed_walk

#: Natural blink rate (blinks per minute) when switched on.
BLINK_RATE = 15.0
#: A blink: how long AU45 is up (s), and the least time between two blinks (s).
BLINK_SECONDS = 0.25
BLINK_MIN_GAP = 1.5
#: AU45 above this in the stream counts as a blink the stream already has.
BLINK_SEEN = 1.5
#: Head motion at scale 1: standard deviation of the roll (degrees) and of the x/y position (eye
#: distances), and the time scale of the smoothing (s).
HEAD_ROLL_DEG = 1.5
HEAD_SHIFT = (0.025, 0.015)
HEAD_SMOOTH_S = 0.6


def add_blinks(aus: np.ndarray, fps: float, rate: float = BLINK_RATE, seed: int = 0) -> np.ndarray:
    """AU45 blinks added where the stream has none (a stream blink resets the clock).

    Blink times are drawn with gaps ``BLINK_MIN_GAP + exponential(60 / rate - BLINK_MIN_GAP)``;
    a blink is a half sine of AU45 up to the maximum intensity over :data:`BLINK_SECONDS`, taken as
    the maximum with what the stream already has.

    Args:
        aus: (T, 17) AU intensities.
        fps: Their frame rate.
        rate: Blinks per minute (<= 0: none added).
        seed: Random seed.

    Returns:
        (T, 17) float32 copy with the blinks in AU45.
    """
    out = np.array(aus, dtype=np.float32, copy=True)
    if rate <= 0 or len(out) == 0:
        return out
    k = au_index("AU45")
    rng = np.random.default_rng(seed)
    mean_gap = max(60.0 / rate - BLINK_MIN_GAP, 0.1)
    n = max(3, int(round(BLINK_SECONDS * fps)))
    bump = AU_INTENSITY_MAX * np.sin(np.pi * np.arange(n) / (n - 1)).astype(np.float32)
    seen = np.nan_to_num(out[:, k]) > BLINK_SEEN
    last = -np.inf  # time of the last blink (stream or added), s
    t_next = rng.uniform(0.3, BLINK_MIN_GAP + mean_gap)
    for i in range(len(out)):
        t = i / fps
        if seen[i]:
            last = t
            t_next = max(t_next, t + BLINK_MIN_GAP)
        if t >= t_next and t - last >= BLINK_MIN_GAP:
            end = min(len(out), i + n)
            out[i:end, k] = np.maximum(np.nan_to_num(out[i:end, k]), bump[: end - i])
            last = t
            t_next = t + BLINK_MIN_GAP + rng.exponential(mean_gap)
    return out


def head_motion(num_frames: int, fps: float, scale: float = 1.0, seed: int = 0) -> np.ndarray:
    """A smoothed random walk of the head: roll and position per frame.

    The shared walk of :func:`espnet_cause.avatar.head.smoothed_walk` (time constant
    :data:`HEAD_SMOOTH_S`), each component's standard deviation (over long stretches)
    :data:`HEAD_ROLL_DEG` / :data:`HEAD_SHIFT` at ``scale`` 1, started at 0.

    Args:
        num_frames: T.
        fps: Frame rate.
        scale: Amplitude (0: still).
        seed: Random seed.

    Returns:
        (T, 3) float32: roll (radians), x and y shift (eye distances).
    """
    std = np.array([np.deg2rad(HEAD_ROLL_DEG), *HEAD_SHIFT]) * scale
    return smoothed_walk(num_frames, fps, std, HEAD_SMOOTH_S, seed)
