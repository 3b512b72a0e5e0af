"""Token durations for FastSpeech2-style TTS from timed phonemes (no external aligner).

eSpeak NG reports every phoneme it speaks with its time (:func:`espnet_cause.tts.espeak.
synthesize_phonemes`), so a synthetic corpus comes with an exact phoneme alignment. ESPnet's
FastSpeech2 wants, per utterance, a token sequence and ``durations``: feature frames per token
plus one for ``<sos/eos>``, summing to the utterance's feature frames. The rule here:

- the feature grid is ESPnet's ``LogMelFbank`` with ``center=True``: frame ``k`` is centred at
  sample ``k * hop_length`` and ``N`` samples have ``1 + N // hop_length`` frames
  (:func:`espnet_cause.io.timegrid.num_frames_for_hop`);
- a frame belongs to the segment whose ``[start, next start)`` interval holds its centre; the
  first segment also takes frames before its start, the last those after the end of the audio;
- ``<sos/eos>`` gets 0 frames (the end of an eSpeak utterance is its own ``_`` pause token), as
  ESPnet's Montreal Forced Aligner recipes write it.

So the durations sum to the feature frames exactly, for any ``fs``/``hop_length``; a phoneme
shorter than a hop may get 0 frames (FastSpeech2's length regulator allows it).

Tokens are eSpeak's phoneme mnemonics with their stress mark in front (``'aI`` primary, ``,aI``
secondary, ``aI`` unstressed) and ``_`` for a pause: space-free, so ESPnet's ``token_type: word``
splits a token line back into them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from espnet_cause.errors import CauseError
from espnet_cause.io.timegrid import frame_times_hop, num_frames_for_hop

#: ESPnet's special tokens, first and last in a token list.
BLANK, UNK, SOS_EOS = "<blank>", "<unk>", "<sos/eos>"
#: eSpeak's stress marks, by :attr:`espnet_cause.tts.espeak.Phoneme.stress`.
STRESS_MARKS = {2: "'", 1: ",", 0: ""}
#: The pause token.
PAUSE = "_"


def phoneme_token(name: str, stress: int = 0) -> str:
    """The token of one eSpeak phoneme: its mnemonic with the stress mark in front.

    Args:
        name: eSpeak mnemonic without stress marks (``"aI"``); pauses (``"_"``, ``"_:"``) all
            become :data:`PAUSE`.
        stress: 2 primary, 1 secondary, 0 none.
    """
    if name.startswith("_"):
        return PAUSE
    if not name or any(c.isspace() for c in name):
        raise ValueError(f"not a phoneme mnemonic: {name!r}")
    return STRESS_MARKS.get(stress, "") + name


def frame_durations(
    starts: Sequence[float],
    num_samples: int,
    fs: int,
    hop_length: int,
    n_fft: int | None = None,
) -> np.ndarray:
    """Feature frames per segment of contiguous segments that start at ``starts``.

    Args:
        starts: (S,) start times in seconds, non-decreasing; segment ``i`` lasts until
            ``starts[i + 1]`` (the last until the end of the audio).
        num_samples: Length of the audio at ``fs``.
        fs: Sampling rate of the feature extractor.
        hop_length: Its hop in samples.
        n_fft: Its FFT size when odd (see :func:`~espnet_cause.io.timegrid.num_frames_for_hop`).

    Returns:
        (S,) int64 frame counts summing to ``num_frames_for_hop(num_samples, fs, hop_length)``.

    Raises:
        ValueError: for no segments or starts that decrease.
    """
    starts = np.asarray(starts, dtype=np.float64)
    if starts.ndim != 1 or len(starts) == 0:
        raise ValueError("frame_durations needs at least one segment")
    if np.any(np.diff(starts) < 0) or not np.isfinite(starts).all():
        raise ValueError(f"segment starts must be finite and non-decreasing, got {starts}")
    n = num_frames_for_hop(num_samples, fs, hop_length, center=True, n_fft=n_fft)
    centres = frame_times_hop(n, fs, hop_length)
    # segment of each frame: the last start <= its centre (frames before starts[0] -> segment 0)
    owner = np.clip(np.searchsorted(starts, centres, side="right") - 1, 0, len(starts) - 1)
    return np.bincount(owner, minlength=len(starts)).astype(np.int64)


def durations_line(durations: Iterable[int]) -> str:
    """The ``durations`` file value: the token durations and a 0 for ``<sos/eos>``."""
    return " ".join(str(int(d)) for d in durations) + " 0"


def parse_durations(value: str, *, where: str = "durations") -> np.ndarray:
    """(T_text + 1,) int64 durations from a ``durations`` file value (eos included).

    Raises:
        CauseError: naming ``where`` for a non-integer or negative entry.
    """
    try:
        out = np.array([int(v) for v in value.split()], dtype=np.int64)
    except ValueError:
        raise CauseError(f"{where}: durations must be integers, got {value!r}") from None
    if len(out) == 0 or (out < 0).any():
        raise CauseError(f"{where}: durations must be non-negative and not empty: {value!r}")
    return out


def token_list(token_lines: Iterable[Sequence[str]]) -> list[str]:
    """ESPnet's token list for the given token sequences: blank, unk, sorted tokens, sos/eos."""
    seen = sorted({t for tokens in token_lines for t in tokens} - {BLANK, UNK, SOS_EOS})
    return [BLANK, UNK, *seen, SOS_EOS]
