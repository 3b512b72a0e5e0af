"""The expressive model's emotion recogniser: voice functionals, per-speaker CMVN, regressions,
the zip member, and Speech2AU adding the heard emotion's face to the mouth model."""

from __future__ import annotations

import zipfile

import kaldiio
import numpy as np
import pytest
import yaml

from espnet_cause import assets
from espnet_cause.au import au_index
from espnet_cause.bin.emotion_recogniser_train import main as train_main
from espnet_cause.bin.export_tts_features import main as export_main
from espnet_cause.bin.infer import main as infer_main
from espnet_cause.emotion import EMOTIONS, emotion_to_aus, one_hot
from espnet_cause.errors import CauseError
from espnet_cause.inference import Speech2AU
from espnet_cause.inference.emotion_recogniser import (
    EmotionRecogniser,
    expression_track,
    speaker_stats,
    train_recogniser,
)
from espnet_cause.inference.expressive_zip import MEMBER, STREAM_MEMBERS, load_recogniser
from espnet_cause.inference.tts_features import read_emotion_labels
from espnet_cause.inference.voice_functionals import (
    FS,
    NUM_FEATURES,
    channel_robust_columns,
    feature_names,
    voice_functionals,
)
from espnet_cause.io.audio import load_speech, write_wav
from espnet_cause.io.datadir import write_kaldi_map
from espnet_cause.io.timegrid import to_hop_grid

FEATURE = {name: i for i, name in enumerate(feature_names())}


def voice(f0: float, amp: float = 0.3, seconds: float = 1.0, fs: int = FS) -> np.ndarray:
    """A buzzy vowel-like tone with harmonics at ``f0``, 0.2 s of silence around it."""
    t = np.arange(int(seconds * fs)) / fs
    tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8))
    wav = np.zeros(int((seconds + 0.4) * fs))
    wav[int(0.2 * fs) : int(0.2 * fs) + len(t)] = amp * tone / 2.0
    return (wav + 1e-4 * np.random.default_rng(0).standard_normal(len(wav))).astype(np.float32)


def test_functionals_hear_pitch_and_level():
    low, high, loud = (voice_functionals(w, FS) for w in (voice(120), voice(240), voice(120, 0.6)))
    assert low.shape == (NUM_FEATURES,) and np.isfinite(low).all()
    # an octave is 12 semitones; doubling the amplitude is +6 dB
    assert high[FEATURE["f0_mean"]] - low[FEATURE["f0_mean"]] == pytest.approx(12.0, abs=0.5)
    assert loud[FEATURE["level_mean"]] - low[FEATURE["level_mean"]] == pytest.approx(6.0, abs=0.5)
    assert low[FEATURE["voiced_fraction"]] > 0.8
    # another sample rate is resampled to the same functionals
    at_22k = voice_functionals(voice(120, fs=22050), 22050)
    assert at_22k[FEATURE["f0_mean"]] == pytest.approx(low[FEATURE["f0_mean"]], abs=0.3)


def test_the_fallback_functionals_ignore_the_gain():
    quiet = voice(150)
    a, b = voice_functionals(quiet, FS), voice_functionals(4.0 * quiet, FS)
    cols = channel_robust_columns()
    assert 40 < len(cols) < NUM_FEATURES
    np.testing.assert_allclose(a[cols], b[cols], rtol=1e-2, atol=2e-2)
    assert b[FEATURE["level_mean"]] - a[FEATURE["level_mean"]] == pytest.approx(12.0, abs=0.1)


def test_functionals_refuse_silence():
    with pytest.raises(CauseError, match="no voice"):
        voice_functionals(np.zeros(FS, dtype=np.float32), FS)


def synthetic_set(rng, speakers=6, per_class=8):
    """Features where the class shifts 3 columns by 1 SD and each speaker shifts all by 3 SD."""
    classes = ("neutral", "happy", "sad")
    x, y, s = [], [], []
    for k in range(speakers):
        offset = rng.normal(0, 3.0, NUM_FEATURES)
        for c, name in enumerate(classes):
            for _ in range(per_class):
                row = offset + rng.normal(0, 1.0, NUM_FEATURES)
                row[c * 3 : c * 3 + 3] += 1.5
                x.append(row)
                y.append(name)
                s.append(f"spk{k}")
    return np.array(x), y, s


def accuracy(rec, x, y, s, per_speaker):
    hits = []
    for spk in sorted(set(s)):
        mine = np.array(s) == spk
        stats = speaker_stats(x[mine]) if per_speaker else None
        post = rec.posteriors(x[mine], stats)
        hits += [EMOTIONS[i] == e for i, e in zip(post.argmax(1), np.array(y)[mine])]
    return float(np.mean(hits))


def test_speaker_statistics_undo_the_speaker():
    rng = np.random.default_rng(1)
    rec = train_recogniser(*synthetic_set(rng), c=0.1)
    x, y, s = synthetic_set(rng, speakers=3)  # other speakers
    with_stats, alone = accuracy(rec, x, y, s, True), accuracy(rec, x, y, s, False)
    assert with_stats > 0.8 and with_stats > alone + 0.2
    post = rec.posteriors(x[:2], speaker_stats(x[:24]))
    assert post.shape == (2, 8) and np.allclose(post.sum(1), 1.0)
    assert (post[:, EMOTIONS.index("angry")] == 0).all()  # not trained: exactly 0


def test_recogniser_round_trip_and_refusals():
    rng = np.random.default_rng(2)
    x, y, s = synthetic_set(rng, speakers=2, per_class=4)
    rec = train_recogniser(x, y, s, c=1.0)
    back = EmotionRecogniser.from_bytes(rec.to_bytes())
    assert back.classes == rec.classes
    np.testing.assert_array_equal(back.posteriors(x), rec.posteriors(x))
    with pytest.raises(CauseError, match="not an emotion recogniser"):
        EmotionRecogniser.from_bytes(b"not an npz")
    with pytest.raises(CauseError, match="fewer than"):
        train_recogniser(x[[0, 4, 8]], [y[i] for i in (0, 4, 8)], ["a"] * 3)
    with pytest.raises(CauseError, match="only the class"):
        train_recogniser(x[:8], ["happy"] * 8, ["a"] * 8)


def test_expression_rises_holds_and_eases():
    wav = voice(150, seconds=1.0)  # speech from 0.2 to 1.2 s of 1.4 s
    post = np.zeros(8, dtype=np.float32)
    post[EMOTIONS.index("happy")] = 1.0
    track = expression_track(post, wav, FS, 25.0, 50)  # 2 s of frames: easing after the end
    au12 = track[:, au_index("AU12")]
    full = emotion_to_aus(post)[au_index("AU12")]
    assert au12[0] == 0.0  # before the lead
    assert au12[20] == pytest.approx(full)  # 0.8 s: in the speech
    assert 0 < au12[40] < 0.5 * full  # 1.6 s: easing
    assert np.all(np.diff(au12[:20]) >= 0)
    assert track[:, au_index("AU04")].max() == 0.0  # not a happy AU


@pytest.fixture(scope="module")
def expressive_zip(tmp_path_factory):
    """A tiny expressive zip trained by the CLI on synthetic voices (2 speakers x 3 moods)."""
    root = tmp_path_factory.mktemp("expr")
    wavs, emo, spk = {}, {}, {}
    moods = {"neutral": (120, 0.2), "happy": (200, 0.5), "sad": (100, 0.08)}
    for s, shift in (("a", 1.0), ("b", 1.6)):
        for mood, (f0, amp) in moods.items():
            for r in range(4):
                utt = f"{s}-{mood}-{r}"
                path = root / f"{utt}.wav"
                write_wav(path, voice(f0 * shift * (1 + 0.03 * r), amp), FS)
                wavs[utt], emo[utt], spk[utt] = str(path), mood, s
    data = root / "data"
    data.mkdir()
    write_kaldi_map(data / "wav.scp", wavs)
    write_kaldi_map(data / "emotion", emo)
    write_kaldi_map(data / "utt2spk", spk)
    out = root / "expressive.zip"
    report = train_main(["--data_dir", str(data), "--output", str(out), "--c", "1"])
    assert report["utterances"] == 24 and report["classes"] == ["neutral", "happy", "sad"]
    return out


def test_packed_zip_adds_the_heard_face_to_the_mouth(expressive_zip):
    with zipfile.ZipFile(expressive_zip) as zf:
        names = set(zf.namelist())
        meta = yaml.safe_load(zf.read("meta.yaml"))
    assert MEMBER in names and not names & set(STREAM_MEMBERS)
    assert meta["emotion_recogniser"]["member"] == MEMBER and meta["onnx"]["streaming"] is False
    s2au, mouth = Speech2AU(expressive_zip), Speech2AU()
    assert s2au.emotion is not None and mouth.emotion is None
    happy = voice(200, 0.5)
    post = s2au.emotion_posteriors(happy, FS)
    assert post.argmax() == EMOTIONS.index("happy")
    expected = np.clip(mouth(happy, FS) + expression_track(post, happy, FS, 25.0, 35), 0, 5)
    np.testing.assert_allclose(s2au(happy, FS), expected, atol=1e-5)
    # with the speaker's statistics (their utterances, several moods)
    utts = [(voice(f, a), FS) for f, a in ((120, 0.2), (200, 0.5), (100, 0.08), (125, 0.2))]
    stats = s2au.speaker_stats(utts + [(np.zeros(FS, dtype=np.float32), FS)])
    assert stats.count == 4  # the silent one is left out
    with pytest.raises(CauseError, match="no usable utterance"):
        s2au.speaker_stats([(np.zeros(FS, dtype=np.float32), FS)])
    assert s2au.emotion_posteriors(happy, FS, stats).argmax() == EMOTIONS.index("happy")


def test_tampered_recogniser_is_refused(expressive_zip, tmp_path):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(expressive_zip) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, data[:-8] + b"\0" * 8 if name == MEMBER else data)
    with pytest.raises(CauseError, match="sha256"):
        load_recogniser(bad)


def test_shipped_expressive_model_has_a_recogniser():
    rec = load_recogniser(assets.resolve_model("expressive"))
    assert rec is not None and "neutral" in rec.classes and len(rec.classes) == 7


def test_infer_normalises_each_speaker_of_a_wav_scp_together(expressive_zip, tmp_path, monkeypatch):
    """infer --wav_scp with utt2spk beside it: each utterance with its speaker's statistics,
    its functionals computed once (for the statistics, then reused for its own posteriors)."""
    from espnet_cause.inference import emotion_recogniser, speech2au

    calls = []

    def counted(wav, fs, *args, **kwargs):
        calls.append(len(wav))
        return voice_functionals(wav, fs, *args, **kwargs)

    data = expressive_zip.parent / "data"
    out = tmp_path / "out"
    with monkeypatch.context() as m:
        m.setattr(emotion_recogniser, "voice_functionals", counted)
        m.setattr(speech2au, "voice_functionals", counted)
        infer_main(["--model", str(expressive_zip), "--wav_scp", str(data / "wav.scp"),
                    "--output_dir", str(out), "--output_format", "npy"])  # fmt: skip
    assert len(calls) == 24  # one per utterance
    s2au = Speech2AU(expressive_zip)
    wavs = {
        line.split()[0]: line.split()[1] for line in (data / "wav.scp").read_text().splitlines()
    }
    mine = [u for u in wavs if u.startswith("b-")]
    stats = s2au.speaker_stats([load_speech(wavs[u]) for u in mine])
    utt = "b-happy-0"
    expected = s2au(*load_speech(wavs[utt]), speaker=stats)
    np.testing.assert_allclose(np.load(out / f"{utt}.npy"), expected, atol=1e-5)
    alone = s2au(*load_speech(wavs[utt]))
    assert not np.allclose(alone, expected)


def test_repack_moves_the_recogniser_onto_another_mouth(expressive_zip, tmp_path):
    out = tmp_path / "repacked.zip"
    train_main(["--repack", str(expressive_zip), "--base_model", "builtin_live", "--output",
                str(out)])  # fmt: skip
    old, new = load_recogniser(expressive_zip), load_recogniser(out)
    np.testing.assert_array_equal(old.speaker_weight, new.speaker_weight)
    with zipfile.ZipFile(out) as zf:
        meta = yaml.safe_load(zf.read("meta.yaml"))
    assert meta["emotion_recogniser"]["base"] == "cause_builtin_live.zip"
    assert meta["emotion_recogniser"]["utterances"] == 24
    with pytest.raises(SystemExit):  # the built-in model has no recogniser: a clear error
        train_main(["--repack", "builtin", "--output", str(tmp_path / "x.zip")])


def test_a_known_emotion_replaces_the_heard_one(expressive_zip):
    s2au, mouth = Speech2AU(expressive_zip), Speech2AU()
    happy = voice(200, 0.5)
    assert s2au.emotion_posteriors(happy, FS).argmax() == EMOTIONS.index("happy")
    shown = s2au(happy, FS, emotion=one_hot("sad"))
    expected = np.clip(
        mouth(happy, FS) + expression_track(one_hot("sad"), happy, FS, 25.0, 35), 0, 5
    )
    np.testing.assert_allclose(shown, expected, atol=1e-5)
    assert shown[:, au_index("AU15")].max() > s2au(happy, FS)[:, au_index("AU15")].max() + 0.3
    with pytest.raises(CauseError, match="emotion has shape"):
        s2au(happy, FS, emotion=np.ones(3))
    np.testing.assert_array_equal(mouth(happy, FS, emotion=one_hot("sad")), mouth(happy, FS))


def test_tts_streams_hear_speakers_together_or_show_the_labels(expressive_zip, tmp_path):
    """export_tts_features: utt2spk beside the wav.scp -> per-speaker statistics;
    --emotion_labels -> each utterance's labelled emotion instead of the heard one."""
    data = expressive_zip.parent / "data"
    wavs = dict(line.split() for line in (data / "wav.scp").read_text().splitlines())
    s2au = Speech2AU(expressive_zip)
    stats = s2au.speaker_stats([load_speech(wavs[u]) for u in wavs if u.startswith("b-")])
    speech, fs = load_speech(wavs["b-happy-0"])

    def grid(aus):
        return to_hop_grid(aus, 25.0, len(speech), FS, 256)

    def export(name, *extra):
        out = tmp_path / name
        export_main(["--model", str(expressive_zip), "--wav_scp", str(data / "wav.scp"),
                     "--output_dir", str(out), "--fs", str(FS), "--hop_length", "256", *extra])  # fmt: skip
        return dict(kaldiio.load_scp(str(out / "au.scp")))

    heard = export("heard")["b-happy-0"]
    np.testing.assert_allclose(heard, grid(s2au(speech, fs, speaker=stats)), atol=1e-5)
    assert not np.allclose(heard, grid(s2au(speech, fs)))
    labels = tmp_path / "emotion"
    write_kaldi_map(labels, {u: "sadness" if u == "b-happy-0" else u.split("-")[1] for u in wavs})
    shown = export("labelled", "--emotion_labels", str(labels))["b-happy-0"]
    np.testing.assert_allclose(shown, grid(s2au(speech, fs, emotion=one_hot("sad"))), atol=1e-5)
    write_kaldi_map(labels, {u: "sad" for u in sorted(wavs)[1:]})
    with pytest.raises(SystemExit):  # an utterance without a label: a clear error, nothing written
        export_main(["--model", str(expressive_zip), "--wav_scp", str(data / "wav.scp"),
                     "--output_dir", str(tmp_path / "bad"), "--fs", str(FS), "--hop_length",
                     "256", "--emotion_labels", str(labels)])  # fmt: skip
    assert not (tmp_path / "bad" / "au.scp").exists()
    write_kaldi_map(labels, {u: "bored" for u in wavs})
    with pytest.raises(CauseError, match=r"emotion:1: unknown emotion label 'bored'"):
        read_emotion_labels(labels, sorted(wavs))
