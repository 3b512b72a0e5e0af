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
mid > close; stressed vowels open ``STRESS_GAIN`` more per stress level.

=============  ==========================================  =====================================
class          eSpeak phonemes                             targets (AU: 0-5)
=============  ==========================================  =====================================
rest           pauses ``_``                                all 0 (mouth closed)
bilabial       p b m                                       AU25 0, AU26 0.3, AU23 1.5, AU17 1.0
labiodental    f v                                         AU25 0.8, AU26 0.4, AU10 1.5, AU17 0.6
dental         T D                                         AU25 2.0, AU26 1.0
alveolar       t d n l s z (and variants)                  AU25 1.6, AU26 0.7, AU20 0.6
postalveolar   S Z tS dZ                                   AU25 1.5, AU26 0.6, AU23 1.2, AU10 0.8
rhotic         r                                           AU25 1.4, AU26 0.7, AU23 1.0
velar/glottal  k g N h x ?                                 AU25 2.2, AU26 1.3 (weak dominance)
rounded glide  w                                           AU25 0.8, AU26 0.4, AU23 2.2
spread glide   j                                           AU25 1.4, AU26 0.6, AU20 1.5
open vowel     a a# A: A aa 0 V                            AU25 4.3, AU26 3.6
open-mid       E 3: 3 O: O VR                              AU25 3.5, AU26 2.6
mid            @ @2 @5 @L e o                              AU25 2.7, AU26 1.7
close          i i: I I2 I# u: U u y                       AU25 2.0, AU26 0.9
=============  ==========================================  =====================================

Vowels are also *rounded* (u: U o O: 0 and the second half of oU aU OI: AU23 +1.8) or *spread*
(i: i I E e and the second half of eI aI: AU20 +1.5). A phoneme no rule knows (eSpeak has a few
rare ones) counts as a mid vowel if it starts with a vowel letter, else as alveolar; the number of
such phonemes is small and each is logged once at debug level.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

import numpy as np

from espnet_cause.au import NUM_AUS, au_index

logger = logging.getLogger(__name__)

#: The mouth AUs this module sets (all others are left to the rest of the teacher).
MOUTH_AUS = ("AU10", "AU17", "AU20", "AU23", "AU25", "AU26")
#: Targets lead the sound by this much (anticipatory coarticulation), seconds.
LEAD_S = 0.04
#: Internal time step of the dominance computation, seconds (then averaged to the AU frames).
STEP_S = 0.005
#: Extra jaw opening per stress level of a vowel (1: secondary, 2: primary).
STRESS_GAIN = 0.12


@dataclasses.dataclass(frozen=True)
class Viseme:
    """A viseme class: mouth AU targets and the dominance function's strength and decay.

    Attributes:
        name: Class name (table in the module docstring).
        targets: AU name -> target intensity (0-5); mouth AUs not named have target 0.
        alpha: Peak dominance (how strongly the class holds its target).
        theta: Decay of the dominance outside the segment, per second.
    """

    name: str
    targets: dict[str, float]
    alpha: float
    theta: float


def _v(name: str, alpha: float, theta: float, **targets: float) -> Viseme:
    return Viseme(name=name, targets=dict(targets), alpha=alpha, theta=theta)


#: The viseme classes (module docstring).
VISEMES: dict[str, Viseme] = {
    v.name: v
    for v in (
        _v("rest", 1.0, 15.0),
        _v("bilabial", 5.0, 60.0, AU25=0.0, AU26=0.3, AU23=1.5, AU17=1.0),
        _v("labiodental", 3.0, 50.0, AU25=0.8, AU26=0.4, AU10=1.5, AU17=0.6),
        _v("dental", 1.5, 40.0, AU25=2.0, AU26=1.0),
        _v("alveolar", 1.0, 40.0, AU25=1.6, AU26=0.7, AU20=0.6),
        _v("postalveolar", 2.0, 40.0, AU25=1.5, AU26=0.6, AU23=1.2, AU10=0.8),
        _v("rhotic", 1.2, 40.0, AU25=1.4, AU26=0.7, AU23=1.0),
        _v("velar", 0.4, 30.0, AU25=2.2, AU26=1.3),
        _v("rounded_glide", 3.0, 40.0, AU25=0.8, AU26=0.4, AU23=2.2),
        _v("spread_glide", 1.5, 40.0, AU25=1.4, AU26=0.6, AU20=1.5),
        _v("open", 1.0, 15.0, AU25=4.3, AU26=3.6),
        _v("open_mid", 1.0, 15.0, AU25=3.5, AU26=2.6),
        _v("mid", 0.8, 15.0, AU25=2.7, AU26=1.7),
        _v("close", 1.0, 15.0, AU25=2.0, AU26=0.9),
    )
}

_CONSONANTS: dict[str, str] = {
    **dict.fromkeys(("p", "b", "m", "m-"), "bilabial"),
    **dict.fromkeys(("f", "v"), "labiodental"),
    **dict.fromkeys(("T", "D", "t["), "dental"),
    **dict.fromkeys(
        ("t", "d", "n", "l", "s", "z", "t#", "d#", "n-", "l/", "l#", "z/", "z/2", "s#", "t2", "d2"),
        "alveolar",
    ),
    **dict.fromkeys(("S", "Z", "tS", "dZ", "S;", "Z;"), "postalveolar"),
    **dict.fromkeys(("r", "r-", "r/", "*", "R", "r#"), "rhotic"),
    **dict.fromkeys(("k", "g", "N", "h", "x", "?", "k#", "g#", "C"), "velar"),
    **dict.fromkeys(("w", "w#", "W"), "rounded_glide"),
    **dict.fromkeys(("j", "j#"), "spread_glide"),
}
#: Vowel mnemonics -> (height class, lip shape: "round", "spread" or "").
_VOWELS: dict[str, tuple[str, str]] = {
    **dict.fromkeys(("a", "a#", "A:", "A", "aa", "a2", "A@", "A~"), ("open", "")),
    "0": ("open", "round"),
    "V": ("open", ""),
    **dict.fromkeys(("E", "E2", "E~", "e@"), ("open_mid", "spread")),
    **dict.fromkeys(("3:", "3", "VR", "@r"), ("open_mid", "")),
    **dict.fromkeys(("O:", "O", "O@", "O2", "o@", "O~"), ("open_mid", "round")),
    **dict.fromkeys(("@", "@2", "@5", "@L", "a#2", "@-"), ("mid", "")),
    "e": ("mid", "spread"),
    "o": ("mid", "round"),
    **dict.fromkeys(("i", "i:", "I", "I2", "I#", "i@", "I@", "i@3", "y"), ("close", "spread")),
    **dict.fromkeys(("u:", "U", "u", "U@", "U:", "u:3"), ("close", "round")),
}
#: Diphthongs: first and second half.
_DIPHTHONGS: dict[str, tuple[str, str]] = {
    "aI": ("a", "I"),
    "aI@": ("a", "@"),
    "aI3": ("a", "@"),
    "aU": ("a", "U"),
    "aU@": ("a", "@"),
    "eI": ("E", "I"),
    "oU": ("@", "U"),
    "oU#": ("@", "U"),
    "OI": ("O:", "I"),
    "e@": ("E", "@"),
    "I@": ("I", "@"),
    "i@": ("i", "@"),
    "U@": ("U", "@"),
    "A@": ("A:", "@"),
    "O@": ("O:", "@"),
    "o@": ("o", "@"),
}
#: Extra targets for vowel lip shapes.
LIP_SHAPES = {"round": {"AU23": 1.8}, "spread": {"AU20": 1.5}, "": {}}
_VOWEL_LETTERS = set("aeiouAEIOUV03@")
_UNKNOWN_SEEN: set[str] = set()


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
    height, shape = _VOWELS[name]
    vis = VISEMES[height]
    values = _vector(vis.targets)
    for au in ("AU25", "AU26"):
        values[au_index(au)] *= 1.0 + STRESS_GAIN * stress
    values += _vector(LIP_SHAPES[shape])
    return values, vis


def viseme_class(name: str) -> str:
    """The viseme class of an eSpeak phoneme mnemonic (stress marks removed).

    Diphthongs return the class of their first half.
    """
    if name.startswith("_"):
        return "rest"
    if name in _CONSONANTS:
        return _CONSONANTS[name]
    if name in _DIPHTHONGS:
        return _VOWELS[_DIPHTHONGS[name][0]][0]
    if name in _VOWELS:
        return _VOWELS[name][0]
    if name not in _UNKNOWN_SEEN:
        _UNKNOWN_SEEN.add(name)
        logger.debug("viseme table: unknown eSpeak phoneme %r", name)
    return "mid" if name[0] in _VOWEL_LETTERS else "alveolar"


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
        if name in _DIPHTHONGS:
            mid = 0.5 * (start + end)
            for half, (a, b) in zip(_DIPHTHONGS[name], ((start, mid), (mid, end)), strict=True):
                values, vis = _vowel_target(half, ph.stress)
                out.append(Target(a, b, values, vis.alpha, vis.theta))
            continue
        if name in _VOWELS:
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
