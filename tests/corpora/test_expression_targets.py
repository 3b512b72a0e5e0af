"""Made AU targets for labelled voices: envelope, teacher + prototype, weights, the dump dir."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_cause.au import au_index
from espnet_cause.corpora.expression import (
    EXPRESSION_AU_WEIGHTS,
    expression_envelope,
    expression_target,
    frame_energy_db,
    speech_span,
    write_expression_dump,
)
from espnet_cause.emotion import prototype
from espnet_cause.errors import CauseError
from espnet_cause.io.au_files import read_au_scp
from espnet_cause.io.audio import write_wav
from espnet_cause.io.datadir import read_kaldi_map, write_kaldi_map

FS = 16000
FPS = 25.0


def speech_in_silence(start_s: float, end_s: float, total_s: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    wav = 1e-4 * rng.standard_normal(int(total_s * FS))
    a, b = int(start_s * FS), int(end_s * FS)
    t = np.arange(b - a) / FS
    wav[a:b] += 0.3 * np.sin(2 * np.pi * 150 * t)
    return wav.astype(np.float32)


def test_speech_span_finds_the_voiced_part():
    wav = speech_in_silence(1.0, 2.0, 3.0)
    energy = frame_energy_db(wav, FS, FPS, 75)
    first, last = speech_span(energy)
    assert abs(first - 25) <= 1 and abs(last - 49) <= 1
    with pytest.raises(CauseError):
        speech_span(np.zeros(0))


def test_envelope_rises_at_onset_holds_and_eases():
    env = expression_envelope(100, FPS, onset=25, end=60)
    assert env[:15].max() == 0.0  # before onset - LEAD_S
    assert 0.0 < env[25] < 1.0  # rising around the onset
    assert np.allclose(env[35:61], 1.0)  # held through the speech
    assert np.all(np.diff(env[61:]) < 0) and 0.0 < env[-1] < 0.5  # easing after


def test_target_adds_the_prototype_to_the_teacher():
    wav = speech_in_silence(0.5, 2.5, 3.0)
    teacher = np.full((75, 17), 0.5, dtype=np.float32)
    target = expression_target(teacher, wav, FS, FPS, "happy", "strong")
    mid = target[40]
    np.testing.assert_allclose(mid, teacher[40] + prototype("happy", "strong"), atol=1e-6)
    assert target[0, au_index("AU12")] == pytest.approx(0.5)  # before the expression starts
    neutral = expression_target(teacher, wav, FS, FPS, "neutral", None)
    np.testing.assert_array_equal(neutral, teacher)
    with pytest.raises(CauseError, match="shape"):
        expression_target(teacher[:, :5], wav, FS, FPS, "happy", None)


def test_speech_only_aus_do_not_teach():
    for name in ("AU14", "AU17", "AU25", "AU45"):
        assert EXPRESSION_AU_WEIGHTS[au_index(name)] == 0.0
    for name in ("AU01", "AU04", "AU06", "AU12", "AU15", "AU26"):
        assert EXPRESSION_AU_WEIGHTS[au_index(name)] == 1.0


class FakeTeacher:
    """Stands in for Speech2AU: AU25 follows the loudness, the rest rests at 0.2."""

    fs = FS
    au_fps = FPS

    def prepare(self, wav, fs, name="input"):
        from espnet_cause.io.audio import resample

        return resample(wav, fs, self.fs)

    def __call__(self, wav, fs, name="input"):
        n = int(np.ceil(len(wav) / fs * self.au_fps))
        out = np.full((n, 17), 0.2, dtype=np.float32)
        energy = frame_energy_db(wav, fs, self.au_fps, n)
        out[:, au_index("AU25")] = np.clip((energy + 60) / 20, 0, 5)
        return out


def test_dump_dir_has_targets_weights_and_resampled_audio(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    wavs = {}
    for i, (utt, emo) in enumerate([("a-1", "angry"), ("a-2", "neutral"), ("b-1", "sad")]):
        path = tmp_path / f"{utt}.wav"
        wav = speech_in_silence(0.3, 1.2, 1.5, seed=i)
        if utt == "b-1":  # another rate: resampled into the dump dir
            from espnet_cause.io.audio import resample

            write_wav(path, resample(wav, FS, 8000), 8000)
        else:
            write_wav(path, wav, FS)
        wavs[utt] = (str(path), emo)
    write_kaldi_map(data / "wav.scp", {u: p for u, (p, _) in wavs.items()})
    write_kaldi_map(data / "emotion", {u: e for u, (_, e) in wavs.items()})
    write_kaldi_map(data / "intensity", {"a-1": "strong", "b-1": "normal"})
    write_kaldi_map(data / "utt2spk", {"a-1": "a", "a-2": "a", "b-1": "b"})
    out = tmp_path / "dump"
    counts = write_expression_dump(data, out, FakeTeacher())
    assert counts == {"angry": 1, "neutral": 1, "sad": 1}
    aus = read_au_scp(out / "au.scp")
    assert sorted(aus) == ["a-1", "a-2", "b-1"] and aus["a-1"].shape == (38, 17)
    au04 = au_index("AU04")
    assert aus["a-1"][20, au04] == pytest.approx(0.2 + 1.5, abs=1e-5)  # angry, strong
    assert aus["a-2"][20, au04] == pytest.approx(0.2)
    assert aus["b-1"][20, au04] == pytest.approx(0.2 + 0.6, abs=1e-5)  # sad, normal
    weights = read_kaldi_map(out / "au_weight.scp")
    np.testing.assert_array_equal(np.load(weights["b-1"]), EXPRESSION_AU_WEIGHTS)
    wav_scp = read_kaldi_map(out / "wav.scp")
    assert wav_scp["a-1"] == wavs["a-1"][0] and wav_scp["b-1"].endswith("wav/b-1.wav")
    assert read_kaldi_map(out / "utt2spk")["b-1"] == "b"
    from espnet_cause.emotion import EMOTIONS

    indices = read_kaldi_map(out / "emotion")  # class indices (text_int), for training
    assert {u: EMOTIONS[int(i)] for u, i in indices.items()} == {u: e for u, (_, e) in wavs.items()}


def test_dump_needs_emotion_labels(tmp_path):
    (tmp_path / "d").mkdir()
    write_kaldi_map(tmp_path / "d" / "wav.scp", {"u": "x.wav"})
    with pytest.raises(CauseError, match="emotion not found"):
        write_expression_dump(tmp_path / "d", tmp_path / "o", FakeTeacher())


class LoudTeacher(FakeTeacher):
    """Raises AU12 with loudness, as the built-in model does: not an emotion."""

    def __call__(self, wav, fs, name="input"):
        out = super().__call__(wav, fs, name)
        out[:, au_index("AU12")] = 10.0 * float(np.abs(wav).max())
        return out


def test_target_level_is_the_speakers_neutral_not_the_loudness(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    wavs = {}
    for utt, emo, level in (("s-1", "neutral", 0.05), ("s-2", "sad", 0.2)):
        path = tmp_path / f"{utt}.wav"
        write_wav(path, speech_in_silence(0.3, 1.2, 1.5) * level / 0.3, FS)
        wavs[utt] = (str(path), emo)
    write_kaldi_map(data / "wav.scp", {u: p for u, (p, _) in wavs.items()})
    write_kaldi_map(data / "emotion", {u: e for u, (_, e) in wavs.items()})
    write_kaldi_map(data / "utt2spk", {"s-1": "s", "s-2": "s"})
    write_expression_dump(data, tmp_path / "dump", LoudTeacher())
    aus = read_au_scp(tmp_path / "dump" / "au.scp")
    au12 = au_index("AU12")
    # the louder sad utterance keeps the neutral AU12 level (sad has no AU12), flat
    assert aus["s-2"][:, au12].mean() == pytest.approx(aus["s-1"][:, au12].mean(), abs=1e-4)
    assert np.ptp(aus["s-2"][:, au12]) == pytest.approx(0.0, abs=1e-5)
    # a speech AU keeps the teacher's motion at the speaker's neutral level over the speech
    au25 = aus["s-2"][:, au_index("AU25")]
    assert np.ptp(au25) > 1.0
    assert aus["s-2"][20, au_index("AU15")] > aus["s-1"][20, au_index("AU15")] + 0.4
