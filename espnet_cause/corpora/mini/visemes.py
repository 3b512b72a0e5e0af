"""Mouth AUs from timed phonemes: a viseme table with dominance-function coarticulation.

This is the mouth of the mini corpus's teacher (v3, :mod:`espnet_cause.corpora.mini.teacher`).
Each eSpeak phoneme (:class:`espnet_cause.tts.espeak.Phoneme`) belongs to a viseme class; a
class sets target intensities for the mouth AUs and how strongly it holds them against its
neighbours. The track is the dominance-weighted mean of the targets (Cohen & Massaro 1993):

    mouth_AU(t) = sum_s D_s(t) * target_s,AU / sum_s D_s(t)
    D_s(t)      = alpha_s * exp(-theta_s * d_s(t)),   d_s(t) = distance of t to segment s

where segment ``s`` is the phoneme's interval moved ``LEAD_S`` (40 ms) *earlier*: the lips and
jaw reach a target before the sound it shapes (anticipatory coarticulation, tens of ms).
``d_s`` is 0 inside the moved interval, so a long vowel holds its target. A strong, narrow
dominance (bilabials: alpha 5, theta 60/s) closes the lips even between open vowels; a weak,
broad one (velars, /h/: alpha 0.4) lets the neighbours' shape through, as /k/ takes the
rounding of /u/ in "cool". Diphthongs are split in two halves with the classes of their start and
end vowel. The jaw (AU26) and lips apart (AU25) open with vowel height (F1): open > open-mid >
mid > close; stressed vowels open ``STRESS_GAIN`` more per stress level. The classes, their
phonemes and targets are the table of :mod:`espnet_cause.tts.visemes`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.tts.visemes import DIPHTHONGS, LIP_SHAPES, VISEMES, VOWELS, Viseme, viseme_class

#: Targets lead the sound by this much (anticipatory coarticulation), seconds.
LEAD_S = 0.04
#: Internal time step of the dominance computation, seconds (then averaged to the AU frames).
STEP_S = 0.005
#: Extra jaw opening per stress level of a vowel (1: secondary, 2: primary).
STRESS_GAIN = 0.12


@dataclasses.dataclass(frozen=True)
class Target:
    """One timed target: the interval it holds, its targets (17-vector) and dominance."""

    start: float
    end: float
    values: np.ndarray
    alpha: float
    theta: float


def _vector(targets: dict[str, float]) -> np.ndarray:
    v = np.zeros(NUM_AUS)
    for name, value in targets.items():
        v[au_index(name)] += value
    return v


def _vowel_target(name: str, stress: int) -> tuple[np.ndarray, Viseme]:
    height, shape = VOWELS[name]
    vis = VISEMES[height]
    values = _vector(vis.targets)
    for au in ("AU25", "AU26"):
        values[au_index(au)] *= 1.0 + STRESS_GAIN * stress
    values += _vector(LIP_SHAPES[shape])
    return values, vis


def phoneme_targets(phonemes: Sequence, lead: float = LEAD_S) -> list[Target]:
    """Timed targets of a phoneme sequence (diphthongs split in halves, intervals led).

    Args:
        phonemes: :class:`~espnet_cause.tts.espeak.Phoneme` objects (``name``, ``start``,
            ``end``, ``stress``), in time order.
        lead: How much earlier than the sound each target is held, seconds.

    Returns:
        The targets in time order.
    """
    out: list[Target] = []
    for ph in phonemes:
        start, end = ph.start - lead, ph.end - lead
        name = ph.name
        if name in DIPHTHONGS:
            mid = 0.5 * (start + end)
            for half, (a, b) in zip(DIPHTHONGS[name], ((start, mid), (mid, end)), strict=True):
                values, vis = _vowel_target(half, ph.stress)
                out.append(Target(a, b, values, vis.alpha, vis.theta))
            continue
        if name in VOWELS:
            values, vis = _vowel_target(name, ph.stress)
        else:
            vis = VISEMES[viseme_class(name)]
            values = _vector(vis.targets)
        out.append(Target(start, end, values, vis.alpha, vis.theta))
    return out


def mouth_track(phonemes: Sequence, times: np.ndarray, lead: float = LEAD_S) -> np.ndarray:
    """Mouth AU intensities at ``times`` by dominance-weighted blending (module docstring).

    Each output frame is the mean of the blended track over the frame's period (a box of the
    frame step centred on the frame time), so short closures show at their real strength.

    Args:
        phonemes: Timed phonemes in order (see :func:`phoneme_targets`).
        times: (T,) frame times in seconds, evenly spaced.
        lead: Anticipation of the targets, seconds.

    Returns:
        (T, 17) float64; only the :data:`MOUTH_AUS` columns are non-zero.
    """
    times = np.asarray(times, dtype=np.float64)
    out = np.zeros((len(times), NUM_AUS))
    targets = phoneme_targets(phonemes, lead)
    if not targets or len(times) == 0:
        return out
    step = float(times[1] - times[0]) if len(times) > 1 else 0.04
    fine = np.arange(times[0] - step / 2, times[-1] + step / 2, STEP_S) + STEP_S / 2
    num = np.zeros((len(fine), NUM_AUS))
    den = np.zeros(len(fine))
    for tg in targets:
        dist = np.maximum(np.maximum(tg.start - fine, fine - tg.end), 0.0)
        dom = tg.alpha * np.exp(-tg.theta * dist)
        num += dom[:, None] * tg.values[None, :]
        den += dom
    fine_track = num / np.maximum(den, 1e-12)[:, None]
    # box average of the fine track over each frame's period
    idx = np.clip(np.floor((fine - (times[0] - step / 2)) / step).astype(int), 0, len(times) - 1)
    counts = np.bincount(idx, minlength=len(times)).astype(np.float64)
    for j in range(NUM_AUS):
        if fine_track[:, j].any():
            out[:, j] = np.bincount(idx, weights=fine_track[:, j], minlength=len(times))
    return out / np.maximum(counts, 1.0)[:, None]
