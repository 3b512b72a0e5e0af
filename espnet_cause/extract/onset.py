"""Where the speech of an utterance starts and ends, on its AU frame grid.

Real speakers do things around their speech that the silence cannot tell: a GRID speaker opens
her mouth to breathe in 0.3-0.5 s before the first word (the tracked AU25 there reads 1.7 on most
of her clips) and leaves the lips apart after the last one for a while (39% of her silent frames
read AU25 > 0.3, mean 0.54), while the microphone hears room tone. A model that learns those
frames opens the lips in every recording's room tone. Stage 2 can therefore give such frames
weight 0 (per-frame ``au_weight``, :mod:`espnet_cause.io.au_weight`): those more than a margin
before the first speech frame or after the last.

Rule: a speech frame is an AU frame whose RMS level (over its ``1 / au_fps`` of audio) is within
``below_peak_db`` (25 dB) of the utterance's loudest frame.
"""

from __future__ import annotations

import numpy as np

#: A frame is speech when its level is within this many dB of the loudest frame.
BELOW_PEAK_DB = 25.0
#: A frame is quiet when its level is within this many dB of the utterance's noise floor ...
ABOVE_FLOOR_DB = 10.0
#: ... and a pause when it is in a run of quiet frames at least this long; an utterance whose
#: floor is less than this many dB under its peak has no pause (it is speech throughout).
MIN_QUIET_SECONDS = 0.2
MIN_FLOOR_BELOW_PEAK_DB = 20.0


def speech_onset_frame(
    samples: np.ndarray, fs: int, au_fps: float, below_peak_db: float = BELOW_PEAK_DB
) -> int:
    """Index of the first AU frame with speech (rule: module docstring); 0 for silent audio."""
    return speech_frames(samples, fs, au_fps, below_peak_db)[0]


def speech_frames(
    samples: np.ndarray, fs: int, au_fps: float, below_peak_db: float = BELOW_PEAK_DB
) -> tuple[int, int]:
    """Indices of the first and the last AU frame with speech (rule: module docstring).

    Args:
        samples: (N,) mono audio.
        fs: Its sample rate.
        au_fps: AU frame rate (frame k covers ``[k / au_fps, (k + 1) / au_fps)``).
        below_peak_db: Level below the peak frame that still counts as speech.

    Returns:
        ``(first, last)``; ``(0, T - 1)`` for silent audio (``(0, -1)`` for empty audio).
    """
    x = np.asarray(samples, np.float64)
    hop = fs / au_fps
    frames = int(np.ceil(len(x) / hop))
    if frames == 0:
        return 0, -1
    edges = np.round(np.arange(frames + 1) * hop).astype(int)
    power = np.array([np.mean(x[a:b] ** 2) if b > a else 0.0 for a, b in zip(edges, edges[1:])])
    db = 10.0 * np.log10(power + 1e-12)
    loud = np.flatnonzero(db >= db.max() - below_peak_db)
    if not len(loud) or db.max() <= -119.0:
        return 0, frames - 1
    return int(loud[0]), int(loud[-1])


def quiet_runs(
    samples: np.ndarray,
    fs: int,
    au_fps: float,
    above_floor_db: float = ABOVE_FLOOR_DB,
    min_seconds: float = MIN_QUIET_SECONDS,
) -> np.ndarray:
    """(T,) bool: the AU frames in runs of at least ``min_seconds`` whose level is within
    ``above_floor_db`` of the utterance's noise floor (its 10th-percentile frame level); none
    when that floor is less than ``MIN_FLOOR_BELOW_PEAK_DB`` under the loudest frame.

    A real recording's room tone can sit 25-40 dB under its speech peak, inside
    :func:`speech_frames`' span (a pause, a slow start); a run this long and this quiet is no
    stop closure (those last 50-100 ms) but a pause, where a face at rest shuts its lips.
    """
    x = np.asarray(samples, np.float64)
    hop = fs / au_fps
    frames = int(np.ceil(len(x) / hop))
    edges = np.round(np.arange(frames + 1) * hop).astype(int)
    power = np.array([np.mean(x[a:b] ** 2) if b > a else 0.0 for a, b in zip(edges, edges[1:])])
    db = 10.0 * np.log10(power + 1e-12)
    out = np.zeros(frames, dtype=bool)
    floor = np.percentile(db, 10) if frames else 0.0
    if not frames or floor > db.max() - MIN_FLOOR_BELOW_PEAK_DB:
        return out  # no floor under the speech (speech throughout): no pause
    quiet = db <= floor + above_floor_db
    min_len = max(1, int(round(min_seconds * au_fps)))
    start = None
    for k, q in enumerate([*quiet, False]):
        if q and start is None:
            start = k
        elif not q and start is not None:
            if k - start >= min_len:
                out[start:k] = True
            start = None
    return out
