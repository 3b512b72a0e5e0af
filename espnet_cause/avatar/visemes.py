"""Viseme tracks for game engines: Meta/Oculus's 15 visemes and Rhubarb's mouth shapes.

From the model's mouth AUs and a few measurements of the speech (:mod:`espnet_cause.avatar.acoustics`),
per frame:

1. **Silence**: frames quieter than :data:`SILENT_LOUDNESS` in a quiet run of at least
   :data:`PAUSE_S` are pauses: ``sil`` weight ``1 - loudness / SILENT_LOUDNESS`` (1 in true
   silence). Shorter quiet runs inside speech are *closures* (the hold of a stop or nasal) and
   count as speech.
2. **Lips meeting** (``PP``, /p b m/): the closure score (:func:`closure_score`): a loudness
   dip inside speech while the lips (AU25) part less than around it. ``PP = (1 - sil) * closure``.
3. **The other 13 speech visemes** share ``(1 - sil) * (1 - closure)`` by a softmax of scores.
   Each has a mouth shape, the mouth AU targets of the mini corpus teacher's viseme classes
   (:mod:`espnet_cause.tts.visemes`, the shapes the model learned) scaled by loudness as the
   teacher scales them; its score is ``-|m - max(l, 0.3) * target|^2 / MOUTH_SPREAD`` over the
   mouth AUs ``m`` (AU10 AU17 AU20 AU23 AU25 AU26; the take's mouth rescaled so that its 95th
   percentile of AU25 in speech is :data:`MOUTH_REFERENCE`: the model opens the mouth less than
   the teacher), plus acoustic terms: ``+FRICATION_GAIN * frication`` for FF TH SS CH (``-``
   for the vowels, nn, RR), ``+ROUNDING_GAIN * rounding`` for oh ou (``-`` for aa E ih).

=======  ==================  ========================  =======
viseme   as in               teacher class (targets)   Rhubarb
=======  ==================  ========================  =======
sil      (pause)             rest                      X
PP       put, be, man        bilabial (closure score)  A
FF       for, very           labiodental               G
TH       think, that         dental                    B
DD       tip, do             alveolar                  B
kk       call, gas           velar                     B
CH       chair, join, she    postalveolar              B
SS       sir, zeal           alveolar + frication      B
nn       not, lot            alveolar                  H
RR       red                 rhotic                    E
aa       car                 open                      D
E        bed                 open-mid + spread         C
ih       tip, see            close + spread            B
oh       toe, saw            open-mid + round          E
ou       book, way           close + round, w          F
=======  ==================  ========================  =======

Rhubarb Lip Sync's shapes: A closed (P B M), B slightly open, teeth together (most consonants,
EE), C open (EH, AE), D wide open (AA), E slightly rounded (AO, ER), F puckered (UW, OW, W),
G upper teeth on the lower lip (F V), H tongue raised (L), X rest. Each frame's shape is the
shape of its strongest viseme (table); the cues are the frames where the shape changes,
``(start seconds, shape)``, as Rhubarb writes them (``0.00 X``).

Limits: from sound alone, /p b m/ and /t d n k g/ closures differ only in the lips the model
predicts and in the formant transitions this module does not read, so stop closures of other
places may come out as PP; DD, nn and SS share one mouth shape and are told apart by frication
only (nn and DD often swap); tongue visemes (TH, nn) have no tongue to see in AUs.
"""

from __future__ import annotations

import numpy as np

from espnet_cause.au import au_index
from espnet_cause.avatar.acoustics import SpeechFeatures
from espnet_cause.tts.visemes import LIP_SHAPES, VISEMES

#: Meta/Oculus visemes, in their order.
VISEME_NAMES: tuple[str, ...] = (
    "sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou",
)  # fmt: skip
#: Rhubarb Lip Sync's mouth shapes (X: rest).
RHUBARB_SHAPES: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "G", "H", "X")
#: The Rhubarb shape of each viseme (module docstring table).
RHUBARB_OF_VISEME: dict[str, str] = {
    "sil": "X", "PP": "A", "FF": "G", "TH": "B", "DD": "B", "kk": "B", "CH": "B", "SS": "B",
    "nn": "H", "RR": "E", "aa": "D", "E": "C", "ih": "B", "oh": "E", "ou": "F",
}  # fmt: skip
#: The mouth AUs the shapes are compared on.
MOUTH_AUS: tuple[str, ...] = ("AU10", "AU17", "AU20", "AU23", "AU25", "AU26")
#: Teacher classes (and lip shape) of each speech viseme.
_TEACHER: dict[str, tuple[str, str]] = {
    "PP": ("bilabial", ""), "FF": ("labiodental", ""), "TH": ("dental", ""),
    "DD": ("alveolar", ""), "kk": ("velar", ""), "CH": ("postalveolar", ""),
    "SS": ("alveolar", ""), "nn": ("alveolar", ""), "RR": ("rhotic", ""),
    "aa": ("open", ""), "E": ("open_mid", "spread"), "ih": ("close", "spread"),
    "oh": ("open_mid", "round"), "ou": ("close", "round"),
}  # fmt: skip
FRICATIVES = ("FF", "TH", "SS", "CH")
NOT_FRICATIVES = ("PP", "aa", "E", "ih", "oh", "ou", "nn", "RR")
ROUNDED, UNROUNDED = ("oh", "ou"), ("aa", "E", "ih")

#: Pauses: quieter than this (loudness 0..1) for at least PAUSE_S seconds.
SILENT_LOUDNESS = 0.2
PAUSE_S = 0.15
#: Score scales: mouth distance divisor (AU units squared) and the acoustic terms.
MOUTH_SPREAD = 1.0
FRICATION_GAIN = 6.0
ROUNDING_GAIN = 2.0
#: The take's 95th percentile of AU25 in speech is scaled to this (the teacher's open vowels).
MOUTH_REFERENCE = 3.5
#: Loudness floor of the targets' scaling (a quiet frame still has a shape).
MIN_TARGET_SCALE = 0.3
#: Closure: loudness dip below the local peak within +-CLOSURE_WINDOW_S, and how much less apart
#: the lips (AU25) are than their local peak.
CLOSURE_WINDOW_S = 0.08
#: A loudness dip smaller than this share of the local peak is no closure.
CLOSURE_MIN_DIP = 0.3
#: Gain on the lips' dip (a closure needs the lips to part less than around it).
CLOSURE_LIPS_GAIN = 5.0


def _targets() -> np.ndarray:
    """(14, 6) mouth AU targets of the speech visemes (VISEME_NAMES[1:] order)."""
    out = np.zeros((len(VISEME_NAMES) - 1, len(MOUTH_AUS)), np.float32)
    for i, name in enumerate(VISEME_NAMES[1:]):
        cls, lips = _TEACHER[name]
        values = dict(VISEMES[cls].targets)
        for au, extra in LIP_SHAPES[lips].items():
            values[au] = values.get(au, 0.0) + extra
        if name == "ou":  # /w/ and /u/: the rounded glide's closer lips count too
            values = {au: 0.5 * (v + VISEMES["rounded_glide"].targets.get(au, 0.0))
                      for au, v in values.items()}  # fmt: skip
        for au, v in values.items():
            if au in MOUTH_AUS:
                out[i, MOUTH_AUS.index(au)] = v
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of the runs of True in a boolean array."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def silence_weight(loudness: np.ndarray, fps: float) -> np.ndarray:
    """``sil`` weight per frame (rule 1 of the module docstring)."""
    quiet = loudness < SILENT_LOUDNESS
    sil = np.zeros(len(loudness), np.float32)
    for start, end in _runs(quiet):
        if (end - start) / fps >= PAUSE_S or start == 0 or end == len(loudness):
            sil[start:end] = 1.0 - loudness[start:end] / SILENT_LOUDNESS
    return sil


def _local_max(x: np.ndarray, half: int) -> np.ndarray:
    from scipy.ndimage import maximum_filter1d

    return maximum_filter1d(x, size=2 * half + 1, mode="nearest")


def closure_score(aus: np.ndarray, loudness: np.ndarray, fps: float) -> np.ndarray:
    """How much each frame looks like lips meeting inside speech (0..1).

    The loudness dip below its local peak (within +-:data:`CLOSURE_WINDOW_S`, relative to the
    peak) beyond :data:`CLOSURE_MIN_DIP`, rescaled to 0..1, times :data:`CLOSURE_LIPS_GAIN`
    times the lips' (AU25) dip below their local peak, clipped to 0..1.
    """
    half = max(1, int(round(CLOSURE_WINDOW_S * fps)))
    lips = np.clip(np.nan_to_num(aus[:, au_index("AU25")]), 0, None)
    loud_peak = _local_max(loudness, half)
    lips_peak = _local_max(lips, half)
    loud_dip = np.where(loud_peak > 0.3, 1.0 - loudness / np.maximum(loud_peak, 1e-6), 0.0)
    lips_dip = np.where(lips_peak > 0.5, 1.0 - lips / np.maximum(lips_peak, 1e-6), 0.0)
    deep = np.clip((loud_dip - CLOSURE_MIN_DIP) / (1.0 - CLOSURE_MIN_DIP), 0.0, 1.0)
    return np.clip(deep * CLOSURE_LIPS_GAIN * lips_dip, 0.0, 1.0).astype(np.float32)


def viseme_weights(aus: np.ndarray, features: SpeechFeatures) -> np.ndarray:
    """The 15 viseme weights per frame (module docstring).

    Args:
        aus: (T, 17) AUs on 0-5 at ``features.fps``.
        features: The take's measurements on the same grid.

    Returns:
        (T, 15) float32 weights in :data:`VISEME_NAMES` order, each row summing to 1.
    """
    aus = np.nan_to_num(np.asarray(aus, np.float32))
    if len(aus) != features.num_frames:
        raise ValueError(f"{len(aus)} AU frames but {features.num_frames} feature frames")
    loud = features.loudness
    mouth = aus[:, [au_index(a) for a in MOUTH_AUS]]
    speaking = loud >= SILENT_LOUDNESS
    if speaking.sum() >= 3:  # the model's mouth opens less than the teacher's: rescale it
        peak = np.percentile(mouth[speaking, MOUTH_AUS.index("AU25")], 95)
        mouth = mouth * (MOUTH_REFERENCE / max(float(peak), MOUTH_REFERENCE / 4))
    scale = np.maximum(loud, MIN_TARGET_SCALE)[:, None, None]
    expected = scale * _targets()[None]  # (T, 14, 6)
    scores = -((mouth[:, None, :] - expected) ** 2).sum(axis=2) / MOUTH_SPREAD
    col = {name: i for i, name in enumerate(VISEME_NAMES[1:])}
    for names, sign, term in (
        (FRICATIVES, 1.0, FRICATION_GAIN * features.frication),
        (NOT_FRICATIVES, -1.0, FRICATION_GAIN * features.frication),
        (ROUNDED, 1.0, ROUNDING_GAIN * features.rounding),
        (UNROUNDED, -1.0, ROUNDING_GAIN * features.rounding),
    ):
        for name in names:
            scores[:, col[name]] += sign * term
    scores[:, col["PP"]] = -np.inf  # the lips meeting comes from the closure score alone
    scores -= scores.max(axis=1, keepdims=True)
    speech = np.exp(scores)
    speech /= speech.sum(axis=1, keepdims=True)
    closure = closure_score(aus, loud, features.fps)
    speech = speech * (1.0 - closure)[:, None]
    speech[:, col["PP"]] = closure
    sil = silence_weight(loud, features.fps)[:, None]
    return np.hstack([sil, (1.0 - sil) * speech]).astype(np.float32)


def rhubarb_cues(weights: np.ndarray, fps: float) -> list[tuple[float, str]]:
    """Rhubarb mouth cues: ``(start seconds, shape)`` where the strongest viseme's shape changes.

    Args:
        weights: (T, 15) viseme weights (:func:`viseme_weights`).
        fps: Their frame rate.

    Returns:
        Cues in time order, the first at 0.0; the last shape holds to the end.
    """
    shapes = [RHUBARB_OF_VISEME[VISEME_NAMES[i]] for i in np.argmax(weights, axis=1)]
    cues: list[tuple[float, str]] = []
    for k, shape in enumerate(shapes):
        if not cues or cues[-1][1] != shape:
            cues.append((round(k / fps, 3), shape))
    return cues
