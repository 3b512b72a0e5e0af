"""eSpeak NG's phoneme events (real synthesis) and the viseme mouth built on them."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_cause.au import au_index
from espnet_cause.corpora.mini.visemes import LEAD_S, mouth_track, phoneme_targets
from espnet_cause.tts.espeak import VoiceSettings, phonemize, synthesize_phonemes
from espnet_cause.tts.visemes import VISEMES, viseme_class

VOICE = VoiceSettings(voice="en+m3", rate=160, pitch=50, pitch_range=50)
TEXT = "Bob made five blue boats. Did you see them?"


@pytest.mark.parametrize("voice", ["en+m3", "en-us+f2", "en-gb-scotland+Alex", "en-029+klatt"])
def test_phoneme_events_cover_the_utterance_and_match_the_text(voice):
    settings = VoiceSettings(voice=voice, rate=170, pitch=45, pitch_range=60)
    samples, sr, phonemes = synthesize_phonemes(TEXT, settings)
    duration = len(samples) / sr
    starts = np.array([p.start for p in phonemes])
    assert starts[0] == 0.0
    assert np.all(np.diff(starts) > 0)  # times increase strictly
    for a, b in zip(phonemes, phonemes[1:], strict=False):
        assert a.end == b.start  # contiguous
    assert phonemes[-1].end == pytest.approx(duration)  # cover the whole audio
    spoken = [p.name for p in phonemes if not p.is_pause]
    expected = [p for p in phonemize(TEXT, voice) if not p.startswith("_")]
    assert spoken == expected
    assert spoken[:3] == ["b", "0", "b"]  # "Bob"
    assert any(p.stress == 2 for p in phonemes)


def test_phonemes_are_where_the_sound_is():
    samples, sr, phonemes = synthesize_phonemes(TEXT, VOICE)
    pause = next(p for p in phonemes if p.name == "_:" and p.end - p.start > 0.15)
    inner = samples[int((pause.start + 0.05) * sr) : int((pause.end - 0.05) * sr)]
    vowel = next(p for p in phonemes if p.name == "aI")  # "five"
    voiced = samples[int(vowel.start * sr) : int(vowel.end * sr)]
    assert np.sqrt(np.mean(inner**2)) < 0.1 * np.sqrt(np.mean(voiced**2))


def test_viseme_classes():
    assert {viseme_class(p) for p in ("p", "b", "m")} == {"bilabial"}
    assert {viseme_class(p) for p in ("f", "v")} == {"labiodental"}
    assert viseme_class("_:") == "rest"
    assert viseme_class("A:") == "open" and viseme_class("i:") == "close"
    assert viseme_class("aI") == "open"  # diphthong: its first half
    jaw = au_index("AU26")
    heights = [VISEMES[c].targets["AU26"] for c in ("open", "open_mid", "mid", "close")]
    assert heights == sorted(heights, reverse=True)  # jaw opens with vowel height
    rounded = phoneme_targets([_ph("u:", 0.0, 0.2)])[0].values
    spread = phoneme_targets([_ph("i:", 0.0, 0.2)])[0].values
    assert rounded[au_index("AU23")] > 1.0 > spread[au_index("AU23")]
    assert spread[au_index("AU20")] > 1.0 > rounded[au_index("AU20")]
    assert rounded[jaw] == spread[jaw]


def _ph(name, start, end, stress=0):
    from espnet_cause.tts.espeak import Phoneme

    return Phoneme(name=name, start=start, end=end, stress=stress)


def test_bilabial_closes_the_lips_between_open_vowels():
    # "a p a": 200 ms vowels around an 80 ms /p/
    phonemes = [
        _ph("_", 0.0, 0.1),
        _ph("a", 0.1, 0.3),
        _ph("p", 0.3, 0.38),
        _ph("a", 0.38, 0.58),
        _ph("_", 0.58, 0.8),
    ]
    times = np.arange(0, 0.8, 0.01)
    track = mouth_track(phonemes, times)
    lips = track[:, au_index("AU25")]
    closure = lips[(times >= 0.3 - LEAD_S) & (times < 0.38 - LEAD_S)].min()
    assert closure < 0.8
    assert lips[(times > 0.15) & (times < 0.22)].min() > 3.0
    assert lips[(times > 0.38) & (times < 0.46)].min() > 3.0
    # anticipation: the closure is deepest before the /p/'s midpoint in the sound
    assert times[np.argmin(np.where((times > 0.2) & (times < 0.5), lips, 9))] < 0.34
    # a weak velar between the same vowels stays open: coarticulation, not a fixed shape
    velar = [_ph("_", 0.0, 0.1), _ph("a", 0.1, 0.3), _ph("k", 0.3, 0.38), _ph("a", 0.38, 0.58)]
    open_k = mouth_track(velar, times)[:, au_index("AU25")]
    assert open_k[(times >= 0.26) & (times < 0.34)].min() > 2.5


def test_bilabial_closes_the_lips_in_the_mini_track():
    """In real synthesis + the mini teacher: the lips are more closed on /b m/ than on vowels."""
    from espnet_cause.corpora.mini.teacher import au_track_from_speech

    samples, sr, phonemes = synthesize_phonemes(TEXT, VOICE)
    fps = 25.0
    aus = au_track_from_speech(
        samples, sr, f0_mean=np.log(120.0), f0_std=0.2, mood=0.0,
        rng=np.random.default_rng(0), fps=fps, phonemes=phonemes,
    )  # fmt: skip
    lips = aus[:, au_index("AU25")]

    def at(p):  # the frame of the phoneme's middle, moved by the lead
        return lips[min(int(round((0.5 * (p.start + p.end) - LEAD_S) * fps)), len(lips) - 1)]

    bilabial = [at(p) for p in phonemes if p.name in ("b", "m")]
    vowels = [at(p) for p in phonemes if p.name in ("aI", "eI", "oU")]
    assert np.mean(bilabial) < np.mean(vowels) - 1.0
