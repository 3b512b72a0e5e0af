"""Speech synthesis with eSpeak NG, loaded with ctypes from the PyPI package ``espeakng-loader``.

The package ships ``libespeak-ng`` and its data directory, so nothing has to be installed on the
system and nothing is downloaded. The library keeps global state, so there is one synthesizer per
process (:func:`get_synthesizer`); worker processes each build their own.

:func:`synthesize_phonemes` also returns the phonemes eSpeak spoke, each with its start and end
time in the returned audio (eSpeak's phoneme events, reported while it synthesises). Phoneme
names are eSpeak's ASCII mnemonics (``p``, ``b``, ``aI``, ``u:``, ``@``, ``_`` for a pause,
see eSpeak NG's ``docs/phonemes.md``); stress marks are moved into :attr:`Phoneme.stress`.
"""

from __future__ import annotations

import ctypes
import dataclasses
import threading

import numpy as np

from espnet_cause.errors import CauseError
from espnet_cause.io.audio import pcm_to_float

# eSpeak NG C API constants (speak_lib.h).
AUDIO_OUTPUT_SYNCHRONOUS = 2
#: espeakINITIALIZE_DONT_EXIT: return an error instead of calling exit() on failure.
INITIALIZE_DONT_EXIT = 0x8000
#: espeakINITIALIZE_PHONEME_EVENTS: report a phoneme event for every phoneme spoken.
INITIALIZE_PHONEME_EVENTS = 0x0001
#: espeak_EVENT_TYPE values used here.
EVENT_LIST_TERMINATED = 0
EVENT_PHONEME = 7
POS_CHARACTER = 1
#: espeakCHARS_UTF8 | espeakENDPAUSE: UTF-8 text, add a pause at the end of the sentence.
SYNTH_FLAGS = 0x1 | 0x1000
PARAM_RATE = 1
PARAM_VOLUME = 2
PARAM_PITCH = 3
PARAM_RANGE = 4
EE_OK = 0

#: Limits of eSpeak's parameters: rate in words per minute, pitch and range 0..100.
MIN_RATE, MAX_RATE = 80, 450
MIN_PITCH, MAX_PITCH = 0, 100


class _Event(ctypes.Structure):
    """``espeak_EVENT`` (speak_lib.h); ``id`` is the union's ``char string[8]`` member."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)

#: Stress and length marks eSpeak puts before a phoneme mnemonic.
_STRESS_MARKS = {"'": 2, ",": 1}


@dataclasses.dataclass(frozen=True)
class Phoneme:
    """One phoneme as eSpeak spoke it.

    Attributes:
        name: eSpeak's mnemonic without stress marks (``"b"``, ``"aI"``, ``"_"`` pause).
        start: Start time in seconds in the synthesised audio.
        end: End time in seconds (the next phoneme's start; the audio's end for the last).
        stress: 2 primary, 1 secondary, 0 unstressed (eSpeak's ``'`` and ``,`` marks).
    """

    name: str
    start: float
    end: float
    stress: int = 0

    @property
    def is_pause(self) -> bool:
        return self.name.startswith("_")


def _phoneme_name(raw: bytes) -> tuple[str, int]:
    name = raw.decode("utf-8", errors="replace")
    stress = 0
    while name and name[0] in _STRESS_MARKS:
        stress = max(stress, _STRESS_MARKS[name[0]])
        name = name[1:]
    return name, stress


@dataclasses.dataclass(frozen=True)
class VoiceSettings:
    """How one utterance is spoken.

    Attributes:
        voice: eSpeak voice name with optional variant, e.g. ``"en+f2"``.
        rate: Speaking rate in words per minute.
        pitch: Base pitch, 0..100 (eSpeak's default is 50).
        pitch_range: Pitch range, 0 (monotone) .. 100 (eSpeak's default is 50).
    """

    voice: str
    rate: int
    pitch: int
    pitch_range: int


class ESpeakSynthesizer:
    """eSpeak NG in synchronous mode with a callback collecting the samples.

    Use :func:`get_synthesizer` rather than constructing it: the library allows one instance.
    """

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError:
            raise CauseError(
                "the mini corpus needs the PyPI package espeakng-loader",
                fix="pip install espeakng-loader",
            ) from None
        lib_path = espeakng_loader.get_library_path()
        try:
            lib = ctypes.CDLL(lib_path)
        except OSError as e:
            raise CauseError(f"cannot load eSpeak NG: {e}", path=lib_path) from None
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_ng_SetRandSeed.restype = None
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_TextToPhonemes.argtypes = [
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_int,
            ctypes.c_int,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        data_path = espeakng_loader.get_data_path()
        sample_rate = lib.espeak_Initialize(
            AUDIO_OUTPUT_SYNCHRONOUS,
            0,
            data_path.encode(),
            INITIALIZE_DONT_EXIT | INITIALIZE_PHONEME_EVENTS,
        )
        if sample_rate <= 0:
            raise CauseError("eSpeak NG failed to initialise", path=data_path)
        self._lib = lib
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, bytes]] = []  # (sample index, raw phoneme name)
        self._lock = threading.Lock()
        # Keep a reference to the callback: ctypes frees it otherwise.
        self._callback = _CALLBACK(self._collect)
        lib.espeak_SetSynthCallback(self._callback)
        #: Sample rate of the synthesized speech (22050 Hz for eSpeak NG).
        self.sample_rate: int = int(sample_rate)

    def _collect(self, wav, num_samples, events) -> int:
        if wav and num_samples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(num_samples,)).copy())
        if events:
            i = 0
            while events[i].type != EVENT_LIST_TERMINATED:
                if events[i].type == EVENT_PHONEME:
                    self._events.append((int(events[i].sample), bytes(events[i].id)))
                i += 1
        return 0  # 0 = continue synthesis

    def set_seed(self, seed: int) -> None:
        """Seed eSpeak's own random generator (breathy voice variants use it).

        eSpeak also keeps wave-generator state from one utterance to the next, so output is
        reproducible only for the same sequence of utterances in a fresh process.
        """
        self._lib.espeak_ng_SetRandSeed(int(seed))

    def _set_voice(self, voice: str) -> None:
        if self._lib.espeak_SetVoiceByName(voice.encode()) != EE_OK:
            raise CauseError(
                f"eSpeak NG has no voice {voice!r}", fix="use a voice such as en, en+m1 or en+f2"
            )

    def text_to_phonemes(self, text: str, voice: str = "en") -> list[str]:
        """eSpeak's phoneme mnemonics for ``text`` in ``voice``, stress marks dropped, no pauses."""
        names: list[str] = []
        data = ctypes.c_char_p(text.encode("utf-8"))
        with self._lock:
            self._set_voice(voice)
            # textmode 1: UTF-8; phonememode: ASCII mnemonics, separated by spaces (bits 8-23)
            while data.value:
                out = self._lib.espeak_TextToPhonemes(ctypes.byref(data), 1, ord(" ") << 8)
                for raw in (out or b"").split():
                    name, _ = _phoneme_name(raw)
                    if name:
                        names.append(name)
        return names

    def synthesize(self, text: str, settings: VoiceSettings) -> np.ndarray:
        """Speak ``text``.

        Args:
            text: The sentence.
            settings: Voice, rate, pitch and range.

        Returns:
            (N,) float32 samples in [-1, 1] at :attr:`sample_rate`.
        """
        return self.synthesize_phonemes(text, settings)[0]

    def synthesize_phonemes(
        self, text: str, settings: VoiceSettings
    ) -> tuple[np.ndarray, list[Phoneme]]:
        """Speak ``text`` and report the phonemes spoken, with their times.

        Args:
            text: The sentence.
            settings: Voice, rate, pitch and range.

        Returns:
            (N,) float32 samples in [-1, 1] at :attr:`sample_rate`, and the phonemes in order:
            starts increase strictly, each ends where the next starts, the last ends at
            ``N / sample_rate``. Silence before the first phoneme is a leading ``"_"`` pause.
        """
        lib = self._lib
        with self._lock:
            self._set_voice(settings.voice)
            lib.espeak_SetParameter(PARAM_RATE, int(np.clip(settings.rate, MIN_RATE, MAX_RATE)), 0)
            for param, value in (
                (PARAM_PITCH, settings.pitch),
                (PARAM_RANGE, settings.pitch_range),
            ):
                lib.espeak_SetParameter(param, int(np.clip(value, MIN_PITCH, MAX_PITCH)), 0)
            self._chunks, self._events = [], []
            data = text.encode("utf-8")
            status = lib.espeak_Synth(
                data, len(data) + 1, 0, POS_CHARACTER, 0, SYNTH_FLAGS, None, None
            )
            chunks, self._chunks = self._chunks, []
            events, self._events = self._events, []
        if status != EE_OK or not chunks:
            raise RuntimeError(f"eSpeak NG produced no audio for {text!r} (status {status})")
        samples = pcm_to_float(np.concatenate(chunks))
        return samples, _phoneme_segments(events, len(samples), self.sample_rate)


def _phoneme_segments(
    events: list[tuple[int, bytes]], num_samples: int, sample_rate: int
) -> list[Phoneme]:
    """Phoneme events (sample index, raw name) -> contiguous segments covering the audio."""
    starts: list[tuple[int, str, int]] = []
    for sample, raw in events:
        name, stress = _phoneme_name(raw)
        if not name:
            continue
        sample = min(max(sample, 0), num_samples)
        if starts and sample <= starts[-1][0]:
            # Several events at one position: a pause there has no duration, so what follows
            # takes its place; anything after a sound at the same sample has no duration either.
            if starts[-1][1].startswith("_"):
                starts[-1] = (starts[-1][0], name, stress)
            continue
        starts.append((sample, name, stress))
    if not starts or starts[0][0] > 0:
        starts.insert(0, (0, "_", 0))
    bounds = [s for s, _, _ in starts[1:]] + [num_samples]
    return [
        Phoneme(name=name, start=s / sample_rate, end=e / sample_rate, stress=stress)
        for (s, name, stress), e in zip(starts, bounds, strict=True)
        if e > s
    ]


_SYNTH: ESpeakSynthesizer | None = None


def get_synthesizer() -> ESpeakSynthesizer:
    """The process-wide synthesizer, created on first use."""
    global _SYNTH
    if _SYNTH is None:
        _SYNTH = ESpeakSynthesizer()
    return _SYNTH


def synthesize_phonemes(
    text: str, settings: VoiceSettings
) -> tuple[np.ndarray, int, list[Phoneme]]:
    """Speak ``text`` with the process-wide synthesizer; see :meth:`ESpeakSynthesizer.synthesize_phonemes`.

    Returns:
        (N,) float32 samples, their sample rate (22050 Hz), and the timed phonemes.
    """
    synth = get_synthesizer()
    samples, phonemes = synth.synthesize_phonemes(text, settings)
    return samples, synth.sample_rate, phonemes


def phonemize(text: str, voice: str = "en") -> list[str]:
    """The phoneme mnemonics eSpeak would speak for ``text`` (no audio; stress marks dropped).

    Uses eSpeak's own text-to-phoneme translation (``espeak_TextToPhonemes``), independently of
    synthesis, so it can check :func:`synthesize_phonemes` and give TTS token sequences.
    """
    synth = get_synthesizer()
    return synth.text_to_phonemes(text, voice)
