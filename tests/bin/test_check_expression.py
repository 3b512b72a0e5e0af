"""check_expression and make_expression_targets CLIs: real runs of the built-in model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from espnet_cause.bin.check_expression import get_parser
from espnet_cause.bin.check_expression import main as check_main
from espnet_cause.bin.make_expression_targets import main as targets_main
from espnet_cause.io.au_files import read_au_scp
from espnet_cause.io.audio import write_wav
from espnet_cause.io.datadir import read_kaldi_map, write_kaldi_map

FS = 16000


def vowel(f0: float, level: float, seconds: float = 1.0) -> np.ndarray:
    """A buzzy vowel-like sound in silence (harmonics of f0)."""
    t = np.arange(int(seconds * FS)) / FS
    sig = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 12))
    wav = np.zeros(int((seconds + 0.5) * FS), dtype=np.float32)
    wav[int(0.25 * FS) : int(0.25 * FS) + len(t)] = level * sig / np.abs(sig).max()
    return wav


@pytest.fixture()
def data_dir(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    wavs, emo, spk, inten = {}, {}, {}, {}
    for s, base in (("a", 110.0), ("b", 200.0)):
        for i, (e, f, lvl) in enumerate(
            [("neutral", 1.0, 0.1), ("happy", 1.3, 0.3), ("sad", 0.9, 0.05), ("angry", 1.2, 0.6)]
        ):
            utt = f"{s}-{i}"
            path = tmp_path / f"{utt}.wav"
            write_wav(path, vowel(base * f, lvl), FS)
            wavs[utt], emo[utt], spk[utt], inten[utt] = str(path), e, s, "strong"
    write_kaldi_map(data / "wav.scp", wavs)
    write_kaldi_map(data / "emotion", emo)
    write_kaldi_map(data / "utt2spk", spk)
    write_kaldi_map(data / "intensity", inten)
    return data


def test_check_expression_on_a_data_dir(data_dir, tmp_path):
    out = tmp_path / "check"
    results = check_main(["--data_dir", str(data_dir), "--output_dir", str(out)])
    scores = results["speech"][str(data_dir)]
    assert scores["num_utterances"] == 6 and 0.0 <= scores["accuracy"] <= 1.0
    assert sum(map(sum, scores["confusion"])) == 6
    assert set(scores["per_speaker"]) == {"a", "b"}
    assert (out / "scores.md").read_text().startswith("# Expression check: builtin")
    assert json.loads((out / "scores.json").read_text())["speech"]
    assert list(out.glob("confusion_*.png"))


def test_check_expression_streams_each_speaker(data_dir, tmp_path):
    """--speaker_stats stream: each speaker's utterances in a row through the live variant."""
    out = tmp_path / "stream"
    args = ["--data_dir", str(data_dir), "--output_dir", str(out), "--model", "expressive"]
    results = check_main([*args, "--speaker_stats", "stream", "--stream_seed", "3"])
    scores = results["speech"][str(data_dir)]
    assert scores["num_utterances"] == 6 and scores["stream_seed"] == 3
    assert 0.0 <= scores["posterior_accuracy"] <= 1.0 and 0.0 <= scores["tail_accuracy"] <= 1.0
    assert sum(map(sum, scores["confusion"])) == 6
    offline = check_main([*args, "--output_dir", str(tmp_path / "offline")])
    assert "posterior_accuracy" not in offline["speech"][str(data_dir)]


def test_check_expression_needs_something_to_check(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        check_main(["--output_dir", str(tmp_path / "o")])
    assert e.value.code != 0 and "nothing to check" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        check_main(["--speech", "ravdess", "--output_dir", str(tmp_path / "o")])
    assert "CORPUS:DIR" in capsys.readouterr().err
    assert "CC BY-NC-SA 4.0" in " ".join(get_parser().format_help().split())


def test_make_expression_targets_with_the_builtin_teacher(data_dir, tmp_path):
    out = tmp_path / "dump"
    counts = targets_main(["--data_dir", str(data_dir), "--output_dir", str(out)])
    assert counts == {"neutral": 2, "happy": 2, "sad": 2, "angry": 2}
    aus = read_au_scp(out / "au.scp")
    assert aus["a-1"].shape == (38, 17) and np.isfinite(aus["a-1"]).all()
    assert len(read_kaldi_map(out / "au_weight.scp")) == 8
