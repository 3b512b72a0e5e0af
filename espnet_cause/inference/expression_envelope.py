"""How a face holds an expression over an utterance: the speech span and the envelope.

``envelope(t)``: rising from 0 over :data:`RISE_S` around the speech onset (starting
:data:`LEAD_S` before it), 1 through the speech, easing after its end with time constant
:data:`EASE_S`. Speech onset and end come from the frame energy (:func:`speech_span`). Used by the
made training targets (:mod:`espnet_cause.corpora.expression`), the expressive model's face
(:mod:`espnet_cause.inference.emotion_recogniser`) and the expression check
(:mod:`espnet_cause.evaluation.expression`).
"""

from __future__ import annotations

import numpy as np

from espnet_cause.errors import CauseError

#: Seconds before the speech onset at which the expression starts rising.
LEAD_S = 0.2
#: Seconds the expression takes to rise to its full level.
RISE_S = 0.4
#: Time constant (s) of the easing after the speech ends.
EASE_S = 0.5
#: Frames quieter than the loudest frame by more than this (dB) are not speech.
SPEECH_RANGE_DB = 30.0


def frame_energy_db(wav: np.ndarray, fs: int, au_fps: float, num_frames: int) -> np.ndarray:
    """(num_frames,) RMS level in dB of the samples of each AU frame (frame k at k / au_fps)."""
    hop = fs / au_fps
    out = np.full(num_frames, -120.0)
    for k in range(num_frames):
        seg = wav[int(round(k * hop)) : int(round((k + 1) * hop))]
        if seg.size:
            out[k] = 10.0 * np.log10(float(np.mean(seg.astype(np.float64) ** 2)) + 1e-12)
    return out


def speech_span(energy_db: np.ndarray, range_db: float = SPEECH_RANGE_DB) -> tuple[int, int]:
    """(first, last) frame of speech: frames within ``range_db`` of the loudest one.

    Raises:
        CauseError: for an empty track.
    """
    if energy_db.size == 0:
        raise CauseError("no frames to find speech in")
    active = np.flatnonzero(energy_db >= energy_db.max() - range_db)
    return int(active[0]), int(active[-1])


def expression_envelope(num_frames: int, fps: float, onset: int, end: int) -> np.ndarray:
    """(num_frames,) float32 in [0, 1]: the expression's time course (module docstring).

    Args:
        num_frames: Frames of the track.
        fps: Its frame rate.
        onset: First speech frame.
        end: Last speech frame.
    """
    t = np.arange(num_frames) / fps
    start = onset / fps - LEAD_S
    rise = np.clip((t - start) / RISE_S, 0.0, 1.0)
    rise = rise * rise * (3.0 - 2.0 * rise)  # smoothstep: no corner at either end
    ease = np.exp(-np.clip(t - end / fps, 0.0, None) / EASE_S)
    return (rise * ease).astype(np.float32)
