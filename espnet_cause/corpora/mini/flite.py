"""Speech synthesis with CMU Flite's English voices, loaded with ctypes from Debian's ``libflite1``.

Flite (``apt-get install libflite1``) ships four US English voices: ``slt`` (female), ``rms``,
``awb`` (male; clustergen statistical voices, 16 kHz) and ``kal`` (male diphone voice, 8 kHz).
They sound more like a person than eSpeak's formant voices, which is why the mini corpus can add
them as extra speakers (:mod:`espnet_cause.corpora.mini.plan`). Flite keeps every segment it
speaks in the utterance's ``Segment`` relation with its end time, so each utterance comes with its
timed phonemes, as eSpeak's do (:func:`espnet_cause.tts.espeak.synthesize_phonemes`).

Flite's phones are CMU ARPAbet (``aa``, ``ae``, ..., ``pau``); they are returned as the eSpeak
mnemonics of the same sound (:data:`CMU_TO_ESPEAK`, e.g. ``ay`` -> ``aI``, ``pau`` -> ``_``), so
the viseme table (:mod:`espnet_cause.corpora.mini.visemes`) and the TTS tokens read both alike.
Vowels of stressed syllables get :attr:`~espnet_cause.tts.espeak.Phoneme.stress` 2.

Voices are named ``flite:<voice>`` in :class:`~espnet_cause.tts.espeak.VoiceSettings`:
``rate`` sets Flite's ``duration_stretch`` (``175 / rate``, eSpeak's default rate taken as the
voice's own), ``pitch`` its ``f0_shift`` (``2 ** ((pitch - 50) / 100)``: 50 is the voice's own
pitch, 0 and 100 half an octave down and up); ``pitch_range`` scales ``int_f0_target_stddev``
(the spread of F0 around its mean; 50: 14 Hz, the diphone voice's own).
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from espnet_cause.errors import CauseError
from espnet_cause.tts.espeak import Phoneme, VoiceSettings

#: Flite's English voices (Debian ``libflite1``): name -> sample rate.
FLITE_VOICES = {"slt": 16000, "rms": 16000, "awb": 16000, "kal": 8000}
#: Prefix of a Flite voice in :attr:`VoiceSettings.voice`.
PREFIX = "flite:"
#: eSpeak's default speaking rate, words per minute: the rate at which Flite is not stretched.
BASE_RATE = 175
#: ``int_f0_target_stddev`` at ``pitch_range`` 50, Hz.
BASE_F0_STDDEV = 14.0

#: CMU ARPAbet (Flite's phone set) -> eSpeak NG mnemonics of the same sound.
CMU_TO_ESPEAK = {
    "pau": "_", "aa": "A:", "ae": "a", "ah": "V", "ao": "O:", "aw": "aU", "ax": "@", "ay": "aI",
    "eh": "E", "er": "3:", "ey": "eI", "ih": "I", "iy": "i:", "ow": "oU", "oy": "OI", "uh": "U",
    "uw": "u:", "b": "b", "ch": "tS", "d": "d", "dh": "D", "f": "f", "g": "g", "hh": "h",
    "jh": "dZ", "k": "k", "l": "l", "m": "m", "n": "n", "ng": "N", "p": "p", "r": "r", "s": "s",
    "sh": "S", "t": "t", "th": "T", "v": "v", "w": "w", "y": "j", "z": "z", "zh": "Z",
}  # fmt: skip
#: Unstressed ``ah`` is a schwa.
_UNSTRESSED = {"V": "@"}


class _Wave(ctypes.Structure):
    """``cst_wave`` (cst_wave.h)."""

    _fields_ = [
        ("type", ctypes.c_char_p),
        ("sample_rate", ctypes.c_int),
        ("num_samples", ctypes.c_int),
        ("num_channels", ctypes.c_int),
        ("samples", ctypes.POINTER(ctypes.c_short)),
    ]


class _Voice(ctypes.Structure):
    """The first members of ``cst_voice`` (cst_voice.h): its name and feature set."""

    _fields_ = [("name", ctypes.c_char_p), ("features", ctypes.c_void_p)]


def is_flite_voice(voice: str) -> bool:
    """Whether a :attr:`VoiceSettings.voice` names a Flite voice (``flite:<name>``)."""
    return voice.startswith(PREFIX)


def _load(name: str, mode: int = ctypes.RTLD_GLOBAL) -> ctypes.CDLL:
    try:
        return ctypes.CDLL(f"lib{name}.so.1", mode=mode)
    except OSError as e:
        raise CauseError(
            f"cannot load CMU Flite's lib{name}.so.1: {e}",
            fix="apt-get install -y libflite1 (or leave the Flite voices out)",
        ) from None


def flite_available() -> bool:
    """Whether Flite's libraries load on this machine."""
    try:
        _load("flite")
    except CauseError:
        return False
    return True


class FliteSynthesizer:
    """Flite with its English voices registered; use :func:`get_flite`, one per process."""

    def __init__(self) -> None:
        vp = ctypes.c_void_p
        lib = _load("flite")
        eng, lex = _load("flite_usenglish"), _load("flite_cmulex")
        lib.flite_init.restype = ctypes.c_int
        lib.flite_add_lang.argtypes = [ctypes.c_char_p, vp, vp]
        for fn, res, args in (
            ("flite_synth_text", vp, [ctypes.c_char_p, vp]),
            ("utt_relation", vp, [vp, ctypes.c_char_p]),
            ("relation_head", vp, [vp]),
            ("item_next", vp, [vp]),
            ("item_feat_float", ctypes.c_float, [vp, ctypes.c_char_p]),
            ("item_feat_string", ctypes.c_char_p, [vp, ctypes.c_char_p]),
            ("ffeature_float", ctypes.c_float, [vp, ctypes.c_char_p]),
            ("utt_wave", ctypes.POINTER(_Wave), [vp]),
            ("delete_utterance", None, [vp]),
            ("feat_set_float", None, [vp, ctypes.c_char_p, ctypes.c_float]),
        ):
            getattr(lib, fn).restype = res
            getattr(lib, fn).argtypes = args
        lib.flite_init()
        for lang in (b"eng", b"usenglish"):
            lib.flite_add_lang(
                lang, ctypes.cast(eng.usenglish_init, vp), ctypes.cast(lex.cmu_lex_init, vp)
            )
        self._lib = lib
        self._libs = [eng, lex]  # kept loaded
        self._voices: dict[str, int] = {}
        self._lock = threading.Lock()

    def _voice(self, name: str) -> int:
        if name not in FLITE_VOICES:
            raise CauseError(
                f"Flite has no English voice {name!r}",
                fix=f"use one of {', '.join(PREFIX + v for v in FLITE_VOICES)}",
            )
        if name not in self._voices:
            lib = _load(f"flite_cmu_us_{name}", mode=ctypes.RTLD_LOCAL)
            register = getattr(lib, f"register_cmu_us_{name}")
            register.restype, register.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
            voice = register(None)
            if not voice:
                raise CauseError(f"Flite could not register its voice {name!r}")
            self._libs.append(lib)
            self._voices[name] = voice
        return self._voices[name]

    def synthesize_phonemes(
        self, text: str, settings: VoiceSettings
    ) -> tuple[np.ndarray, int, list[Phoneme]]:
        """Speak ``text`` in a ``flite:<voice>`` and report the phonemes spoken with their times.

        Returns:
            (N,) float32 samples in [-1, 1], their sample rate (the voice's), and the phonemes as
            eSpeak mnemonics: contiguous from 0, the last ending at ``N / sample_rate``.
        """
        if not is_flite_voice(settings.voice):
            raise CauseError(f"not a Flite voice: {settings.voice!r}", fix="use flite:<voice>")
        lib = self._lib
        with self._lock:
            voice = self._voice(settings.voice[len(PREFIX) :])
            feats = _Voice.from_address(voice).features
            lib.feat_set_float(feats, b"duration_stretch", BASE_RATE / max(settings.rate, 1))
            lib.feat_set_float(feats, b"f0_shift", 2.0 ** ((settings.pitch - 50) / 100.0))
            lib.feat_set_float(
                feats, b"int_f0_target_stddev", BASE_F0_STDDEV * settings.pitch_range / 50.0
            )
            utt = lib.flite_synth_text(text.encode("utf-8"), voice)
            if not utt:
                raise RuntimeError(f"Flite produced no utterance for {text!r}")
            try:
                wave = lib.utt_wave(utt)
                if not wave or wave.contents.num_samples <= 0:
                    raise RuntimeError(f"Flite produced no audio for {text!r}")
                w = wave.contents
                pcm = np.ctypeslib.as_array(w.samples, shape=(w.num_samples * w.num_channels,))
                samples = (pcm.reshape(-1, w.num_channels)[:, 0] / 32768.0).astype(np.float32)
                sample_rate = int(w.sample_rate)
                segments = []
                item = lib.relation_head(lib.utt_relation(utt, b"Segment"))
                while item:
                    cmu = lib.item_feat_string(item, b"name").decode()
                    stressed = lib.ffeature_float(item, b"R:SylStructure.parent.stress") > 0
                    segments.append((cmu, float(lib.item_feat_float(item, b"end")), stressed))
                    item = lib.item_next(item)
            finally:
                lib.delete_utterance(utt)
        return samples, sample_rate, _segments(segments, len(samples) / sample_rate)


def _segments(segments: list[tuple[str, float, bool]], duration: float) -> list[Phoneme]:
    """Flite's (CMU phone, end time, stressed) -> contiguous eSpeak-named phonemes over the audio."""
    out: list[Phoneme] = []
    start = 0.0
    for k, (cmu, end, stressed) in enumerate(segments):
        end = duration if k == len(segments) - 1 else min(max(end, start), duration)
        if end <= start:
            continue
        if cmu not in CMU_TO_ESPEAK:
            raise RuntimeError(f"Flite spoke a phone outside its CMU set: {cmu!r}")
        name = CMU_TO_ESPEAK[cmu]
        is_vowel = cmu[0] in "aeiou"
        if is_vowel and not stressed:
            name = _UNSTRESSED.get(name, name)
        out.append(
            Phoneme(name=name, start=start, end=end, stress=2 if is_vowel and stressed else 0)
        )
        start = end
    if not out:
        out.append(Phoneme(name="_", start=0.0, end=duration))
    return out


_FLITE: FliteSynthesizer | None = None


def get_flite() -> FliteSynthesizer:
    """The process-wide Flite, created on first use."""
    global _FLITE
    if _FLITE is None:
        _FLITE = FliteSynthesizer()
    return _FLITE


def synthesize_phonemes(
    text: str, settings: VoiceSettings
) -> tuple[np.ndarray, int, list[Phoneme]]:
    """Speak ``text`` in a Flite voice; see :meth:`FliteSynthesizer.synthesize_phonemes`."""
    return get_flite().synthesize_phonemes(text, settings)
