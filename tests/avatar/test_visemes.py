"""Visemes from speech: a known sentence spoken by eSpeak NG, its phoneme times as the truth.

``sil`` must hold the leading silence and the lips-closed viseme ``PP`` must come on the sentence's
/p b m/ (eSpeak reports a stop at its release, so each bilabial's window starts 0.1 s before it);
the sentence is not one of those the mapping was tuned on (docs/avatars.md).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from espnet_cause.avatar.acoustics import SpeechFeatures, speech_features
from espnet_cause.avatar.visemes import (
    RHUBARB_OF_VISEME,
    RHUBARB_SHAPES,
    VISEME_NAMES,
    rhubarb_cues,
    viseme_weights,
)
from espnet_cause.bin import infer
from espnet_cause.tts.espeak import VoiceSettings, synthesize_phonemes

SENTENCE = "Maybe Paul will buy a lamp in the morning."
LEAD_S = 0.6
FPS = 60.0
BILABIALS = ("p", "b", "m")


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    """(wav path, samples, sr, phonemes shifted by the leading silence)."""
    samples, sr, phonemes = synthesize_phonemes(
        SENTENCE, VoiceSettings(voice="en-us", rate=160, pitch=50, pitch_range=50)
    )
    samples = np.concatenate([np.zeros(int(LEAD_S * sr), np.float32), samples])
    path = tmp_path_factory.mktemp("visemes") / "sentence.wav"
    sf.write(str(path), samples, sr)
    return path, samples, sr, [(p.name, p.start + LEAD_S, p.end + LEAD_S) for p in phonemes]


def test_sil_in_the_leading_silence_and_pp_on_p_b_m(spoken, tmp_path):
    path, samples, sr, phonemes = spoken
    out = tmp_path / "visemes.json"
    infer.main(["--wav", str(path), "--output", str(out), "--output_format", "visemes"])
    doc = json.loads(out.read_text())
    assert doc["fps"] == FPS and doc["visemes"] == list(VISEME_NAMES)
    weights = np.array(doc["frames"])
    assert len(weights) == int(np.ceil(len(samples) / sr * FPS))
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-3)
    assert weights.min() >= 0.0
    t = np.arange(len(weights)) / FPS
    top = np.array(VISEME_NAMES)[weights.argmax(axis=1)]

    assert (top[t < LEAD_S - 0.1] == "sil").all()
    assert weights[t < LEAD_S - 0.1, 0].min() > 0.9
    bilabials = [(s, e) for name, s, e in phonemes if name in BILABIALS]
    assert len(bilabials) == 7  # m b p b m p m
    near = np.zeros(len(t), bool)
    hits = 0
    for start, end in bilabials:
        window = (t >= start - 0.1) & (t < end + 0.04)
        near |= window
        hits += bool((top[window] == "PP").any())
    assert hits >= 5, f"PP on {hits} of {len(bilabials)} bilabials"
    pp = weights[:, VISEME_NAMES.index("PP")]
    speech = (~near) & (top != "sil")
    assert pp[near].mean() > 2.5 * pp[speech].mean()  # PP belongs to the lips meeting

    cues = doc["mouth_cues"]
    assert cues[0] == {"start": 0.0, "shape": "X"}
    assert {c["shape"] for c in cues} <= set(RHUBARB_SHAPES) and "A" in {c["shape"] for c in cues}
    starts = [c["start"] for c in cues]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


def test_weights_are_a_distribution_and_cues_follow_the_strongest(spoken, builtin_speech2au):
    _, samples, sr, _ = spoken
    s2a = builtin_speech2au
    aus, fps = s2a.to_grid(s2a(samples, sr), len(samples), sr, output_fps=FPS)
    feats = speech_features(s2a.prepare(samples, sr), s2a.fs, len(aus), fps)
    weights = viseme_weights(aus, feats)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    cues = rhubarb_cues(weights, fps)
    for start, shape in cues:
        k = int(round(start * fps))
        assert RHUBARB_OF_VISEME[VISEME_NAMES[weights[k].argmax()]] == shape
    # a silent take is all sil / X
    zeros = np.zeros(60, np.float32)
    quiet = SpeechFeatures(fps=60.0, loudness=zeros, log_f0=zeros + np.nan, frication=zeros,
                           rounding=zeros)  # fmt: skip
    silent = viseme_weights(np.zeros((60, 17), np.float32), quiet)
    assert (silent[:, 0] == 1.0).all() and rhubarb_cues(silent, 60.0) == [(0.0, "X")]
    with pytest.raises(ValueError, match="feature frames"):
        viseme_weights(aus[:-1], feats)
