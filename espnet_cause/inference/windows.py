"""Long recordings in bounded memory: frame-level inference over overlapping windows.

A whole-file model call needs memory in proportion to the audio (the STFT of an hour of 16 kHz
speech alone is about 0.7 GB). :func:`windowed_inference` cuts the audio into windows of
``window_s`` seconds on the AU frame grid, runs the model on each window with ``context_s``
seconds of audio on both sides, and keeps only the window's own frames. Every window starts on
a sample that is an AU frame boundary and a feature hop boundary, so a frame sees exactly the
audio it sees in the whole file as long as the model's receptive field fits in the context.
For encoders with a finite receptive field shorter than the context (cnn, dcnn, mlp) the
output equals whole-file inference within float rounding (1e-4); for recurrent and attention
encoders, whose view is unbounded, frames within the context of a join differ slightly.

The function knows nothing of the backend: it takes ``run(samples) -> (T, D)``, the model's
whole-utterance call (torch or ONNX), and calls it once per window.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np

from espnet_cause.io import timegrid

#: Audio longer than ``window + 2 * context`` is inferred in windows of this many seconds.
WINDOW_SECONDS = 60.0
#: Audio each window sees on both sides beyond its own frames (seconds). The cnn encoders of
#: conf/ see 0.3-1.4 s (8 blocks of kernel 3, dilations up to 27 at 25 fps).
CONTEXT_SECONDS = 4.0
#: Largest alignment quantum searched (AU frames) for rates that do not divide evenly.
_MAX_QUANTUM = 10_000


def frame_quantum(fs: int, au_fps: float, hop_length: int | None) -> tuple[int, int]:
    """Smallest number of AU frames ``q`` whose duration is a whole number of samples and hops.

    Returns:
        ``(q, samples)``: the quantum in AU frames and in samples.
    """
    per_frame = Fraction(fs) / Fraction(au_fps).limit_denominator(1_000_000)
    hop = hop_length or 1
    for q in range(1, _MAX_QUANTUM + 1):
        samples = per_frame * q
        if samples.denominator == 1 and samples.numerator % hop == 0:
            return q, int(samples)
    raise ValueError(f"no window alignment for fs {fs}, au_fps {au_fps}, hop {hop_length}")


def needs_windows(num_samples: int, fs: int) -> bool:
    """True when the audio is longer than one window with its context on both sides."""
    return num_samples > (WINDOW_SECONDS + 2 * CONTEXT_SECONDS) * fs


def windowed_inference(
    run: Callable[[np.ndarray], np.ndarray],
    wav: np.ndarray,
    *,
    fs: int,
    au_fps: float,
    hop_length: int | None = None,
    window_s: float | None = None,
    context_s: float | None = None,
) -> np.ndarray:
    """Frame-level inference of a long recording, window by window.

    Args:
        run: The model's whole-utterance call: (n,) float32 samples at ``fs`` ->
            (ceil(n / fs * au_fps), D) frames, frame k at k / au_fps.
        wav: (N,) float32 samples at ``fs``.
        fs: Sample rate of ``wav`` and of the model.
        au_fps: The model's output frame rate.
        hop_length: The model's feature hop (windows start on hop boundaries); None if none.
        window_s: Own frames per window, in seconds (rounded to the alignment quantum);
            default :data:`WINDOW_SECONDS`.
        context_s: Audio seen beyond the window on each side, in seconds (rounded up likewise);
            default :data:`CONTEXT_SECONDS`.

    Returns:
        (ceil(N / fs * au_fps), D) float32, as ``run(wav)`` would return.
    """
    window_s = WINDOW_SECONDS if window_s is None else window_s
    context_s = CONTEXT_SECONDS if context_s is None else context_s
    total = timegrid.num_frames_for_samples(len(wav), fs, au_fps)
    q, q_samples = frame_quantum(fs, au_fps, hop_length)
    window = max(q, int(round(window_s * au_fps / q)) * q)
    context = int(math.ceil(context_s * au_fps / q)) * q
    out: np.ndarray | None = None
    for start in range(0, total, window):
        stop = min(total, start + window)
        first = max(0, start - context)  # a multiple of q: start and context are
        last = min(total, stop + context)
        s0 = first // q * q_samples
        s1 = min(len(wav), -(-last * q_samples // q))
        frames = np.asarray(run(wav[s0:s1]), dtype=np.float32)
        if out is None:
            out = np.empty((total, frames.shape[1]), np.float32)
        out[start:stop] = frames[start - first : stop - first]
    assert out is not None
    return out
