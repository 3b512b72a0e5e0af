"""check_expression: prototype accuracy on labelled speech, face change r and ratio."""

from __future__ import annotations

import json

import numpy as np
import pytest

from espnet_cause.au import au_index
from espnet_cause.emotion import SCORED_EMOTIONS, prototype
from espnet_cause.errors import CauseError
from espnet_cause.evaluation.expression import (
    Item,
    face_emotion,
    list_data_dir,
    list_face_dir,
    score_faces,
    score_speech,
    write_report,
)
from espnet_cause.io.audio import load_speech, write_wav
from espnet_cause.io.datadir import write_kaldi_map

FS = 16000
FPS = 25.0
EMOTIONS = ("neutral",) + SCORED_EMOTIONS
#: The tone each emotion's utterances are "spoken" in: the fake model hears it.
TONES = {e: 200.0 + 50.0 * i for i, e in enumerate(EMOTIONS)}


def tone(freq: float, seconds: float = 1.2) -> np.ndarray:
    t = np.arange(int(seconds * FS)) / FS
    wav = np.zeros(int((seconds + 0.4) * FS), dtype=np.float32)
    wav[int(0.2 * FS) : int(0.2 * FS) + len(t)] = 0.3 * np.sin(2 * np.pi * freq * t)
    return wav


def hearing_model(wav: np.ndarray, fs: int) -> np.ndarray:
    """Hears the tone, shows that emotion's prototype on a resting face (+ speaker-free)."""
    spectrum = np.abs(np.fft.rfft(wav))
    freq = np.argmax(spectrum) * fs / len(wav)
    emotion = min(TONES, key=lambda e: abs(TONES[e] - freq))
    n = int(np.ceil(len(wav) / fs * FPS))
    return np.tile(0.3 + prototype(emotion, "normal"), (n, 1)).astype(np.float32)


def deaf_model(wav: np.ndarray, fs: int) -> np.ndarray:
    return np.full((int(np.ceil(len(wav) / fs * FPS)), 17), 0.3, dtype=np.float32)


@pytest.fixture()
def labelled(tmp_path):
    """Two speakers x 7 emotions, one wav each, as a Kaldi data dir."""
    data = tmp_path / "data"
    data.mkdir()
    wavs, emo, spk = {}, {}, {}
    for s in ("s1", "s2"):
        for e in EMOTIONS:
            utt = f"{s}-{e}"
            path = tmp_path / f"{utt}.wav"
            write_wav(path, tone(TONES[e]), FS)
            wavs[utt], emo[utt], spk[utt] = str(path), e, s
    write_kaldi_map(data / "wav.scp", wavs)
    write_kaldi_map(data / "emotion", emo)
    write_kaldi_map(data / "utt2spk", spk)
    return data


def test_a_model_that_hears_the_emotion_reads_right(labelled):
    items = list_data_dir(labelled)
    scores = score_speech(items, hearing_model, FPS, load_speech)
    assert scores["num_utterances"] == 12 and scores["accuracy"] == 1.0
    assert scores["chance"] == pytest.approx(1 / 6)
    assert np.trace(np.array(scores["confusion"])) == 12
    np.testing.assert_allclose(scores["mean_change"]["sad"], prototype("sad", "normal"), atol=1e-5)
    deaf = score_speech(items, deaf_model, FPS, load_speech)
    assert deaf["accuracy"] == pytest.approx(1 / 6)  # every change is 0: all read as one


def test_speakers_need_a_neutral_utterance(labelled):
    items = [it for it in list_data_dir(labelled) if it.emotion != "neutral" or it.speaker == "s1"]
    with pytest.raises(CauseError, match="s2"):
        score_speech(items, hearing_model, FPS, load_speech)


def test_face_change_r_and_ratio():
    """The prediction's change is half the face's, in the same direction: r 1, ratio 0.5."""
    rng = np.random.default_rng(0)
    items = [Item(f"c{i}", "spk", e, "") for i, e in enumerate(("neutral", "happy", "sad"))]
    pairs = {}
    for it in items:
        face = 1.0 + prototype(it.emotion, "strong") + 0.0 * rng.random(17)
        face[au_index("AU06")] = 0.0  # an AU the tracker never moves: left out
        pred = 0.3 + 0.5 * prototype(it.emotion, "strong")
        pairs[it.name] = (pred, face)
    scores = score_faces(pairs, items)
    assert set(scores["clips"]) == {"c1", "c2"}  # the neutral clip is the reference
    assert "AU06" not in scores["aus"] and "AU45" not in scores["aus"]
    assert scores["mean_r"] == pytest.approx(1.0)
    assert scores["mean_ratio"] == pytest.approx(0.5)
    # no neutral clip: each clip against the speaker's mean over clips
    no_neutral = [it for it in items if it.emotion != "neutral"]
    scores = score_faces(pairs, no_neutral)
    assert scores["mean_r"] == pytest.approx(1.0)
    with pytest.raises(CauseError, match="two clips"):
        score_faces({"c1": pairs["c1"]}, no_neutral[:1])


def test_face_names_and_folder(tmp_path):
    assert face_emotion("s1_an_1") == "angry"
    assert face_emotion("M030_sad_3_001") == "sad"
    assert face_emotion("surprised") == "surprised"
    assert face_emotion("talking") is None
    for name in ("s1_ha_1.avi", "s1_di_2.avi", "M030_sad_3_001.mp4", "notes.mp4"):
        (tmp_path / name).write_bytes(b"")
    items = {it.name.split("/")[1]: it for it in list_face_dir(tmp_path)}
    assert sorted(items) == ["M030_sad_3_001", "s1_di_2", "s1_ha_1"]
    assert items["s1_ha_1"].speaker == "s1" and items["M030_sad_3_001"].speaker == "M030"
    with pytest.raises(CauseError, match="not found"):
        list_face_dir(tmp_path / "nope")


def test_report_files(labelled, tmp_path):
    scores = score_speech(list_data_dir(labelled), hearing_model, FPS, load_speech)
    md = write_report({"speech": {"toy": scores}, "faces": {"x": {"error": "no clip"}}},
                      tmp_path / "out", "toy model")  # fmt: skip
    text = md.read_text()
    assert "prototype accuracy 1.000" in text and "x: not scored: no clip" in text
    assert (tmp_path / "out" / "confusion_toy.png").stat().st_size > 1000
    assert (
        json.loads((tmp_path / "out" / "scores.json").read_text())["speech"]["toy"]["accuracy"]
        == 1.0
    )


def test_a_speaker_adapted_model_gets_all_of_its_speakers_audio(labelled):
    """for_speaker is given each speaker's utterances (all emotions) and its model is used."""
    seen = []

    def for_speaker(audio):
        seen.append(len(audio))
        return hearing_model

    items = list_data_dir(labelled)
    scores = score_speech(items, deaf_model, FPS, load_speech, for_speaker=for_speaker)
    assert seen == [7, 7]  # two speakers x (neutral + six emotions)
    assert scores["accuracy"] == 1.0  # the adapted (hearing) model, not the deaf default
