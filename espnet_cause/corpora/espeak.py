"""Speech synthesis with eSpeak NG, loaded with ctypes from the PyPI package ``espeakng-loader``.

The package ships ``libespeak-ng`` and its data directory, so nothing has to be installed on the
system and nothing is downloaded. The library keeps global state, so there is one synthesizer per
process (:func:`get_synthesizer`); worker processes each build their own.
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

_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


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
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        data_path = espeakng_loader.get_data_path()
        sample_rate = lib.espeak_Initialize(
            AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), INITIALIZE_DONT_EXIT
        )
        if sample_rate <= 0:
            raise CauseError("eSpeak NG failed to initialise", path=data_path)
        self._lib = lib
        self._chunks: list[np.ndarray] = []
        self._lock = threading.Lock()
        # Keep a reference to the callback: ctypes frees it otherwise.
        self._callback = _CALLBACK(self._collect)
        lib.espeak_SetSynthCallback(self._callback)
        #: Sample rate of the synthesized speech (22050 Hz for eSpeak NG).
        self.sample_rate: int = int(sample_rate)

    def _collect(self, wav, num_samples, events) -> int:
        if wav and num_samples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(num_samples,)).copy())
        return 0  # 0 = continue synthesis

    def set_seed(self, seed: int) -> None:
        """Seed eSpeak's own random generator (breathy voice variants use it).

        eSpeak also keeps wave-generator state from one utterance to the next, so output is
        reproducible only for the same sequence of utterances in a fresh process.
        """
        self._lib.espeak_ng_SetRandSeed(int(seed))

    def synthesize(self, text: str, settings: VoiceSettings) -> np.ndarray:
        """Speak ``text``.

        Args:
            text: The sentence.
            settings: Voice, rate, pitch and range.

        Returns:
            (N,) float32 samples in [-1, 1] at :attr:`sample_rate`.
        """
        lib = self._lib
        with self._lock:
            if lib.espeak_SetVoiceByName(settings.voice.encode()) != EE_OK:
                raise CauseError(
                    f"eSpeak NG has no voice {settings.voice!r}",
                    fix="use a voice such as en, en+m1 or en+f2",
                )
            lib.espeak_SetParameter(PARAM_RATE, int(np.clip(settings.rate, MIN_RATE, MAX_RATE)), 0)
            for param, value in (
                (PARAM_PITCH, settings.pitch),
                (PARAM_RANGE, settings.pitch_range),
            ):
                lib.espeak_SetParameter(param, int(np.clip(value, MIN_PITCH, MAX_PITCH)), 0)
            self._chunks = []
            data = text.encode("utf-8")
            status = lib.espeak_Synth(
                data, len(data) + 1, 0, POS_CHARACTER, 0, SYNTH_FLAGS, None, None
            )
            chunks, self._chunks = self._chunks, []
        if status != EE_OK or not chunks:
            raise RuntimeError(f"eSpeak NG produced no audio for {text!r} (status {status})")
        return pcm_to_float(np.concatenate(chunks))


_SYNTH: ESpeakSynthesizer | None = None


def get_synthesizer() -> ESpeakSynthesizer:
    """The process-wide synthesizer, created on first use."""
    global _SYNTH
    if _SYNTH is None:
        _SYNTH = ESpeakSynthesizer()
    return _SYNTH
