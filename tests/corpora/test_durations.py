"""FastSpeech2 durations from eSpeak's timed phonemes: exact frame sums on several feature grids."""

from __future__ import annotations

import math

import pytest
import soundfile as sf
import torch

from espnet_cause.errors import CauseError
from espnet_cause.io.ctm import read_ctm, write_ctm
from espnet_cause.tts.durations import (
    PAUSE,
    durations_line,
    frame_durations,
    parse_durations,
    phoneme_token,
    token_list,
)
from espnet_cause.tts.espeak import VoiceSettings, synthesize_phonemes

VOICE = VoiceSettings(voice="en-us+f2", rate=175, pitch=55, pitch_range=60)
TEXT = "Did Maya measure the music by the window?"
#: (fs, hop_length, n_fft) pairs of common TTS feature extractors.
GRIDS = [(22050, 256, 1024), (16000, 256, 1024), (24000, 300, 2048), (16000, 160, 400),
         (44100, 512, 2048), (16000, 200, 801)]  # fmt: skip


@pytest.fixture(scope="module")
def spoken():
    samples, sr, phonemes = synthesize_phonemes(TEXT, VOICE)
    return samples, sr, phonemes


@pytest.mark.parametrize("fs,hop,n_fft", GRIDS)
def test_durations_sum_to_espnet_feature_frames(spoken, fs, hop, n_fft):
    from espnet2.tts.feats_extract.log_mel_fbank import LogMelFbank

    from espnet_cause.io.audio import resample

    samples, sr, phonemes = spoken
    audio = resample(samples, sr, fs)  # the utterance as a TTS corpus at fs would hold it
    durs = frame_durations([p.start for p in phonemes], len(audio), fs, hop, n_fft=n_fft)
    fbank = LogMelFbank(fs=fs, n_fft=n_fft, hop_length=hop, n_mels=20)
    _, lengths = fbank(torch.from_numpy(audio)[None], torch.tensor([len(audio)]))
    assert len(durs) == len(phonemes) and durs.min() >= 0
    assert durs.sum() == int(lengths[0])  # exactly ESPnet's frame count
    # each phoneme gets about its length in frames (centres inside it), at most one frame off
    for p, d in zip(phonemes, durs, strict=True):
        assert abs(d - (p.end - p.start) * fs / hop) <= 1.0 + 1e-9, (p, d)


def test_frames_go_to_the_segment_holding_their_centre():
    # hop 100 at fs 1000: centres at 0, 0.1, 0.2, ...; 1050 samples -> 11 frames
    durs = frame_durations([0.0, 0.25, 0.25, 0.61], 1050, 1000, 100)
    # [0, .25): centres 0, .1, .2; [.25, .25): none; [.25, .61): .3 .. .6; rest: .7 .. 1.0
    assert durs.tolist() == [3, 0, 4, 4] and durs.sum() == 11
    # frames before the first start belong to the first segment
    assert frame_durations([0.15, 0.5], 1050, 1000, 100).tolist() == [5, 6]
    with pytest.raises(ValueError, match="non-decreasing"):
        frame_durations([0.0, 0.3, 0.2], 1050, 1000, 100)
    with pytest.raises(ValueError, match="at least one"):
        frame_durations([], 1050, 1000, 100)


def test_tokens_lines_and_token_list(spoken):
    _, _, phonemes = spoken
    tokens = [phoneme_token(p.name, p.stress) for p in phonemes]
    assert tokens[0] == PAUSE and tokens[-1] == PAUSE  # eSpeak's leading and end pauses
    assert "'aI@" in tokens  # "Maya": the stressed diphthong keeps its stress mark
    assert phoneme_token("_:") == PAUSE and phoneme_token("aI", 1) == ",aI"
    with pytest.raises(ValueError):
        phoneme_token("a b")
    assert durations_line([3, 0, 5]) == "3 0 5 0"  # <sos/eos> gets 0 frames
    assert parse_durations("3 0 5 0").tolist() == [3, 0, 5, 0]
    for bad in ("3 x", "3 -1", ""):
        with pytest.raises(CauseError, match="durations"):
            parse_durations(bad)
    tl = token_list([tokens, ["b", "_"]])
    assert tl[:2] == ["<blank>", "<unk>"] and tl[-1] == "<sos/eos>"
    assert set(tl[2:-1]) == set(tokens) | {"b"} and len(tl) == len(set(tl))


def test_ctm_round_trip_and_errors(tmp_path):
    segs = {"u2": [(0.0, 0.1, "_"), (0.1, 0.05, "b")], "u1": [(0.0, 0.2, "'aI")]}
    write_ctm(tmp_path / "a.ctm", segs)
    back = read_ctm(tmp_path / "a.ctm")
    assert list(back) == ["u1", "u2"] and back["u2"] == [(0.0, 0.1, "_"), (0.1, 0.05, "b")]
    bad = {
        "u1 1 0.0 0.1\n": "5 fields",
        "u1 1 0.0 x a\n": "not numbers",
        "u1 1 0.2 0.1 a\nu1 1 0.1 0.1 b\n": "before the previous",
        "u1 1 0.0 0.1 a\nu2 1 0.0 0.1 a\nu1 1 0.1 0.1 b\n": "not together",
        "u1 1 -0.1 0.1 a\n": "bad time",
    }
    for i, (text, needle) in enumerate(bad.items()):
        path = tmp_path / f"bad{i}.ctm"
        path.write_text(text)
        with pytest.raises(CauseError, match=needle) as e:
            read_ctm(path)
        assert str(path) in str(e.value)
    with pytest.raises(CauseError, match="white space"):
        write_ctm(tmp_path / "w.ctm", {"u": [(0.0, 0.1, "a b")]})


def test_make_durations_cli(spoken, tmp_path):
    from espnet_cause.bin.make_durations import main

    samples, sr, phonemes = spoken
    fs, hop = 16000, 256
    from espnet_cause.io.audio import resample

    audio = resample(samples, sr, fs)
    sf.write(tmp_path / "a.wav", audio, fs)
    sf.write(tmp_path / "b.wav", samples, sr)  # at another rate: skipped with the reason
    segs = [(p.start, p.end - p.start, phoneme_token(p.name, p.stress)) for p in phonemes]
    write_ctm(tmp_path / "phones.ctm", {"a": segs, "b": segs})
    (tmp_path / "wav.scp").write_text(
        f"a {tmp_path / 'a.wav'}\nb {tmp_path / 'b.wav'}\nc {tmp_path / 'a.wav'}\n"
    )
    out = tmp_path / "out"
    main(["--ctm", str(tmp_path / "phones.ctm"), "--wav_scp", str(tmp_path / "wav.scp"),
          "--fs", str(fs), "--hop_length", str(hop), "--output_dir", str(out),
          "--write_token_list", "--max_fail_fraction", "0.7"])  # 2 of 3 are bad  # fmt: skip
    text = (out / "text").read_text().split("\n")[0].split()
    durs = (out / "durations").read_text().split("\n")[0].split()
    assert text[0] == "a" and durs[0] == "a" and len((out / "text").read_text().splitlines()) == 1
    assert text[1:] == [t for _, _, t in segs]
    assert len(durs) - 1 == len(text) and durs[-1] == "0"  # one per token, 0 for <sos/eos>
    assert sum(map(int, durs[1:])) == 1 + len(audio) // hop
    report = (out / "durations_report.tsv").read_text()
    assert "not --fs 16000" in report and "not in" in report  # b and c, with their reasons
    tokens = (out / "token_list").read_text().splitlines()
    assert tokens[0] == "<blank>" and tokens[-1] == "<sos/eos>" and "'aI@" in tokens
    assert math.isclose(len(audio) / fs, phonemes[-1].end, abs_tol=1 / fs)
