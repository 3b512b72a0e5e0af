"""uLipSync as a peer for the lip-sync check: mouth openness from its phoneme weights.

uLipSync (Hecomi) matches MFCCs of each speech window against vowel templates and weighs them by
loudness; PyPI's ``pylipsync`` is its Python port (MIT; an optional benchmark dependency, not
needed by anything else). Its five phonemes become one mouth openness per frame, the weights a
uLipSync avatar's mouth opens by::

    openness = 1.0 A + 0.7 O + 0.5 E + 0.3 I + 0.3 U      (pylipsync names: aa oh ee ih ou)

``silence`` opens nothing. ``pylipsync`` pins ``numpy<2.4``, older than this project's; it runs
with newer numpy, so install it without its pins: ``pip install --no-deps pylipsync`` (its
dependencies, librosa and scipy, come with ESPnet).
"""

from __future__ import annotations

import numpy as np

from espnet_cause.errors import CauseError

#: How far each uLipSync phoneme opens the mouth (A, O, E, I, U).
OPENNESS = {"aa": 1.0, "oh": 0.7, "ee": 0.5, "ih": 0.3, "ou": 0.3}
#: Frames per second asked of pylipsync (its hop is ``16000 // fps`` samples).
ANALYSIS_FPS = 100


def ulipsync_mouth(speech: np.ndarray, fs: int, times: np.ndarray) -> np.ndarray:
    """uLipSync's mouth openness at ``times``.

    Args:
        speech: (N,) mono samples.
        fs: Their sample rate.
        times: (T,) frame times in seconds.

    Returns:
        (T,) openness in [0, 1] (frames are read at :data:`ANALYSIS_FPS` and interpolated).

    Raises:
        CauseError: when ``pylipsync`` is not installed.
    """
    try:
        from pylipsync import PhonemeAnalyzer  # optional benchmark dependency
    except ImportError:
        raise CauseError(
            "the uLipSync peer needs the pylipsync package",
            fix="pip install --no-deps pylipsync (its numpy pin is older than this project's)",
        ) from None
    segments = PhonemeAnalyzer().extract_phoneme_segments(
        np.asarray(speech, np.float32), int(fs), fps=ANALYSIS_FPS, return_seconds=True
    )
    centres = np.array([(s.start + s.end) / 2 for s in segments])
    opening = np.array(
        [sum(OPENNESS.get(p.name, 0.0) * p.target for p in s.phonemes) for s in segments]
    )
    return np.interp(np.asarray(times, np.float64), centres, opening).astype(np.float32)
