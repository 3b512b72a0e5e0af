"""RAVDESS and CREMA-D audio without video, from tiny fake trees, into labelled data dirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from espnet_cause.corpora import prepare
from espnet_cause.corpora.ravdess import SPLIT, parse_name
from espnet_cause.errors import CauseError
from espnet_cause.io.datadir import read_kaldi_map, validate_data_dir


def touch(root: Path, *relpaths: str) -> None:
    for rel in relpaths:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"")


def read(data: Path, split: str, name: str) -> dict[str, str]:
    path = data / split / name
    return read_kaldi_map(path) if path.exists() else {}


def test_parse_name_reads_every_field():
    labels = parse_name("03-01-05-02-01-02-17")
    assert labels == {
        "modality": "03",
        "channel": "01",
        "emotion": "angry",
        "emotion_name": "angry",
        "intensity": "strong",
        "statement": "01",
        "repetition": "02",
        "actor": "Actor_17",
    }
    calm = parse_name("03-01-02-01-02-01-04")
    assert calm["emotion"] == "neutral" and calm["emotion_name"] == "calm"
    assert parse_name("03-01-09-01-01-01-01") is None  # no emotion 09
    assert parse_name("notes") is None


def test_ravdess_is_split_by_actor_with_labels(tmp_path):
    root = tmp_path / "ravdess"
    for actor in range(1, 21):
        a = f"{actor:02d}"
        touch(
            root,
            f"Actor_{a}/03-01-01-01-01-01-{a}.flac",
            f"Actor_{a}/03-01-03-02-02-01-{a}.flac",
            f"Actor_{a}/03-01-02-01-01-02-{a}.wav",
        )
    touch(root, "Actor_01/03-02-03-01-01-01-01.flac")  # song: not speech
    touch(root, "Actor_01/02-01-03-01-01-01-01.flac")  # video only: no sound
    touch(root, "Actor_01/readme.txt")
    data = tmp_path / "data"
    counts = prepare("ravdess", root, data)
    assert counts == {"train": 42, "valid": 6, "test": 12}
    for split in ("train", "valid", "test"):
        validate_data_dir(data / split)
    assert sorted(read(data, "test", "spk2utt")) == sorted(SPLIT["test"])
    assert sorted(read(data, "valid", "spk2utt")) == sorted(SPLIT["valid"])
    utt = "Actor_18-03-01-03-02-02-01-18"
    assert read(data, "test", "emotion")[utt] == "happy"
    assert read(data, "test", "intensity")[utt] == "strong"
    assert read(data, "test", "text")[utt] == "Dogs are sitting by the door."
    assert read(data, "test", "utt2spk")[utt] == "Actor_18"
    assert read(data, "train", "emotion")["Actor_01-03-01-02-01-01-02-01"] == "neutral"  # calm
    assert (data / "emotion_classes").read_text().split() == [
        "neutral", "happy", "surprised", "sad", "angry", "disgusted", "fearful",
    ]  # fmt: skip
    # sizes given: the hashed split of the other corpora instead
    prepare("ravdess", root, tmp_path / "hashed", valid_speakers=1, test_speakers=1)
    assert len(read(tmp_path / "hashed", "test", "spk2utt")) == 1


def test_ravdess_without_files_is_a_clear_error(tmp_path):
    touch(tmp_path / "r", "Actor_01/notes.txt")
    with pytest.raises(CauseError, match="no ravdess utterances"):
        prepare("ravdess", tmp_path / "r", tmp_path / "data")


def test_crema_d_flat_audio_without_video(tmp_path):
    root = tmp_path / "cremad"
    for spk in ("1001", "1002", "1003"):
        touch(root, f"{spk}_DFA_ANG_XX.wav", f"{spk}_IEO_HAP_HI.wav", f"{spk}_IEO_SAD_LO.wav")
    data = tmp_path / "data"
    counts = prepare("crema_d", root, data, valid_speakers=1, test_speakers=1)
    assert sum(counts.values()) == 9
    intensity = {}
    emotion = {}
    for split in ("train", "valid", "test"):
        intensity.update(read(data, split, "intensity"))
        emotion.update(read(data, split, "emotion"))
        assert not (data / split / "video.scp").exists()
    assert intensity["1002_IEO_HAP_HI"] == "strong" and intensity["1001_IEO_SAD_LO"] == "normal"
    assert "1003_DFA_ANG_XX" not in intensity  # XX: unspecified
    assert emotion["1003_DFA_ANG_XX"] == "angry"
