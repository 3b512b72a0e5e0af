"""Viseme classes: which mouth shape each eSpeak phoneme makes, as mouth AU targets.

A vocabulary shared by the mini corpus's teacher (:mod:`espnet_cause.corpora.mini.visemes`
blends these targets over time with dominance functions) and the avatar's viseme tracks
(:mod:`espnet_cause.avatar.visemes` scores a predicted mouth against them). Each class sets
target intensities for the mouth AUs (:data:`MOUTH_AUS`) and how strongly it holds them against
its neighbours (``alpha``: peak dominance; ``theta``: its decay per second outside the segment;
Cohen & Massaro 1993). The jaw (AU26) and lips apart (AU25) open with vowel height (F1):
open > open-mid > mid > close.

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

logger = logging.getLogger(__name__)

#: The mouth AUs this module sets (all others are left to the rest of the teacher).
MOUTH_AUS = ("AU10", "AU17", "AU20", "AU23", "AU25", "AU26")


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

CONSONANTS: dict[str, str] = {
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
VOWELS: dict[str, tuple[str, str]] = {
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
DIPHTHONGS: dict[str, tuple[str, str]] = {
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
VOWEL_LETTERS = set("aeiouAEIOUV03@")
_UNKNOWN_SEEN: set[str] = set()


def viseme_class(name: str) -> str:
    """The viseme class of an eSpeak phoneme mnemonic (stress marks removed).

    Diphthongs return the class of their first half.
    """
    if name.startswith("_"):
        return "rest"
    if name in CONSONANTS:
        return CONSONANTS[name]
    if name in DIPHTHONGS:
        return VOWELS[DIPHTHONGS[name][0]][0]
    if name in VOWELS:
        return VOWELS[name][0]
    if name not in _UNKNOWN_SEEN:
        _UNKNOWN_SEEN.add(name)
        logger.debug("viseme table: unknown eSpeak phoneme %r", name)
    return "mid" if name[0] in VOWEL_LETTERS else "alveolar"
