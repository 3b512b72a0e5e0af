"""Each real corpus layout, from a tiny fake tree of empty files, into Kaldi data dirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from espnet_cause.bin.prepare_data import get_parser, main
from espnet_cause.corpora import prepare
from espnet_cause.corpora.common import split_speakers
from espnet_cause.errors import CauseError
from espnet_cause.io.datadir import read_kaldi_map, validate_data_dir


def touch(root: Path, *relpaths: str, text: str = "") -> None:
    for rel in relpaths:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def read_split(data: Path, split: str, name: str) -> dict[str, str]:
    path = data / split / name
    return read_kaldi_map(path) if path.exists() else {}


def all_utts(data: Path, name: str = "utt2spk") -> dict[str, str]:
    out = {}
    for split in ("train", "valid", "test"):
        out.update(read_split(data, split, name))
    return out


def check_speaker_split(data: Path) -> None:
    """Every split is a valid data dir and no speaker is in two splits."""
    seen: dict[str, str] = {}
    for split in ("train", "valid", "test"):
        validate_data_dir(data / split)
        for spk in read_split(data, split, "spk2utt"):
            assert spk not in seen, f"speaker {spk} in {seen.get(spk)} and {split}"
            seen[spk] = split


def test_crema_d(tmp_path):
    root = tmp_path / "CREMA-D"
    for spk in ("1001", "1002", "1003", "1004"):
        touch(root, f"AudioWAV/{spk}_DFA_ANG_XX.wav", f"AudioWAV/{spk}_IEO_HAP_HI.wav")
        touch(root, f"VideoFlash/{spk}_DFA_ANG_XX.flv")
    touch(root, "VideoFlash/1004_IEO_HAP_HI.mp4")
    data = tmp_path / "data"
    counts = prepare("crema_d", root, data)
    assert counts == {"train": 4, "valid": 2, "test": 2}
    check_speaker_split(data)
    utt2spk = all_utts(data)
    assert utt2spk["1001_DFA_ANG_XX"] == "1001"
    wav = all_utts(data, "wav.scp")
    assert wav["1002_IEO_HAP_HI"] == str(root.resolve() / "AudioWAV/1002_IEO_HAP_HI.wav")
    video = all_utts(data, "video.scp")
    assert len(video) == 5 and video["1004_IEO_HAP_HI"].endswith(".mp4")
    assert all_utts(data, "text")["1003_DFA_ANG_XX"] == "Don't forget a jacket."
    emotion = all_utts(data, "emotion")
    assert emotion["1003_DFA_ANG_XX"] == "angry" and emotion["1002_IEO_HAP_HI"] == "happy"
    assert len(emotion) == 8
    assert (data / "emotion_classes").read_text().split() == [
        "neutral",
        "happy",
        "sad",
        "angry",
        "disgusted",
        "fearful",
    ]


def test_mead(tmp_path):
    root = tmp_path / "MEAD"
    for spk in ("M003", "W009", "M030"):
        touch(
            root,
            f"{spk}/video/front/angry/level_1/001.mp4",
            f"{spk}/video/left_30/angry/level_1/001.mp4",  # other views are ignored
            f"{spk}/audio/angry/level_1/001.m4a",
            f"{spk}/audio/happy/level_3/002.m4a",
        )
    touch(root, "M003/audio/fear/level_2/003.m4a", "M003/audio/contempt/level_1/004.m4a")
    data = tmp_path / "data"
    prepare("mead", root, data, valid_speakers=1, test_speakers=1)
    check_speaker_split(data)
    utt2spk = all_utts(data)
    assert len(utt2spk) == 8
    emotion = all_utts(data, "emotion")
    assert (
        emotion["W009-angry-level1-001"] == "angry" and emotion["M003-fear-level2-003"] == "fearful"
    )
    assert emotion["M003-contempt-level1-004"] == "contempt" and len(emotion) == 8
    assert len((data / "emotion_classes").read_text().split()) == 8
    assert utt2spk["W009-angry-level1-001"] == "W009"
    assert all_utts(data, "wav.scp")["M003-happy-level3-002"].endswith(
        "audio/happy/level_3/002.m4a"
    )
    video = all_utts(data, "video.scp")
    assert sorted(video) == [
        "M003-angry-level1-001",
        "M030-angry-level1-001",
        "W009-angry-level1-001",
    ]
    assert all("/video/front/" in v for v in video.values())


def test_voxceleb2(tmp_path):
    root = tmp_path / "vox2"
    touch(
        root,
        "dev/mp4/id00012/21Uxsk56VDQ/00001.mp4",
        "dev/mp4/id00012/21Uxsk56VDQ/00002.mp4",
        "dev/mp4/id00015/0fijmz4vTVU/00001.mp4",
        "test/mp4/id00017/01dfn2spqyE/00001.mp4",
        "dev/aac/id00012/21Uxsk56VDQ/00001.m4a",  # not part of the mp4 layout
    )
    data = tmp_path / "data"
    prepare("voxceleb2", root, data)
    check_speaker_split(data)
    utt2spk = all_utts(data)
    assert len(utt2spk) == 4
    assert utt2spk["id00012-21Uxsk56VDQ-00002"] == "id00012"
    assert all_utts(data, "wav.scp") == all_utts(data, "video.scp")


def test_lrs3(tmp_path):
    root = tmp_path / "lrs3"
    for part, spk in (
        ("trainval", "0af00UcTOSc"),
        ("trainval", "0akiEFwtkyA"),
        ("test", "0Fi83BHQsMA"),
    ):
        touch(root, f"{part}/{spk}/50001.mp4")
        touch(root, f"{part}/{spk}/50001.txt", text="Text:  HELLO  WORLD\nConf:  4\n")
    # Same number as in trainval: a distinct id. Its transcript is missing, so the split that
    # holds it gets no text file (text must cover every utterance).
    touch(root, "pretrain/0af00UcTOSc/50001.mp4")
    data = tmp_path / "data"
    prepare("lrs3", root, data)
    check_speaker_split(data)
    utt2spk = all_utts(data)
    assert sorted(utt2spk) == [
        "0Fi83BHQsMA-50001",
        "0af00UcTOSc-50001",
        "0af00UcTOSc-50001-pretrain",
        "0akiEFwtkyA-50001",
    ]
    text = all_utts(data, "text")
    assert "0af00UcTOSc-50001" not in text and "0af00UcTOSc-50001-pretrain" not in text
    assert text["0akiEFwtkyA-50001"] == "HELLO WORLD"


def test_folder_with_openface_csvs(tmp_path):
    root = tmp_path / "videos"
    touch(root, "alice/a1.mp4", "alice/day2/a2.mov", "bob/b1.mp4", "carol_take1.mp4", "dave.webm")
    touch(root, "notes.txt")
    csvs = tmp_path / "openface"
    touch(csvs, "a1.csv", "sub/carol_take1.csv")
    data = tmp_path / "data"
    prepare("folder", root, data, openface_dir=csvs, valid_speakers=1, test_speakers=1)
    check_speaker_split(data)
    utt2spk = all_utts(data)
    assert utt2spk == {
        "alice-a1": "alice",
        "alice-day2-a2": "alice",
        "bob-b1": "bob",
        "carol-take1": "carol",
        "dave": "dave",
    }
    assert all_utts(data, "au_csv.scp") == {
        "alice-a1": str(csvs.resolve() / "a1.csv"),
        "carol-take1": str(csvs.resolve() / "sub/carol_take1.csv"),
    }


def test_rerun_is_idempotent_and_deterministic(tmp_path):
    root = tmp_path / "vox2"
    for i in range(12):
        touch(root, f"dev/mp4/id{i:05d}/yt/00001.mp4")
    data = tmp_path / "data"
    prepare("voxceleb2", root, data, valid_speakers=2, test_speakers=3)
    first = {f: (data / f).read_text() for f in ("train/utt2spk", "valid/wav.scp", "test/spk2utt")}
    prepare("voxceleb2", root, data, valid_speakers=2, test_speakers=3)
    assert {f: (data / f).read_text() for f in first} == first
    assert len(read_split(data, "test", "spk2utt")) == 3
    # The split depends on the speaker ids, not on listing order.
    speakers = [f"id{i:05d}" for i in range(12)]
    assert split_speakers(speakers, seed=1) == split_speakers(reversed(speakers), seed=1)


@pytest.mark.parametrize("corpus", ["crema_d", "mead", "voxceleb2", "lrs3", "folder"])
def test_missing_corpus_dir_names_it(tmp_path, corpus):
    bad = tmp_path / "no_such_corpus"
    with pytest.raises(CauseError, match="no_such_corpus") as err:
        prepare(corpus, bad, tmp_path / "data")
    assert "--corpus_dir" in str(err.value)


def test_wrong_layout_and_too_few_speakers(tmp_path):
    root = tmp_path / "flat"
    touch(root, "x.wav")
    with pytest.raises(CauseError, match="no crema_d utterances") as err:
        prepare("crema_d", root, tmp_path / "data")
    assert str(root) in str(err.value)
    touch(root, "AudioWAV/1001_DFA_ANG_XX.wav")
    with pytest.raises(CauseError, match="1 speaker"):
        prepare("crema_d", root, tmp_path / "data")


def test_cli(tmp_path, capsys):
    root = tmp_path / "videos"
    touch(root, "a/1.mp4", "b/1.mp4", "c/1.mp4")
    parser = get_parser()
    assert parser.parse_args(["--corpus_dir", "x"]).corpus == "mini"
    counts = main(
        ["--corpus", "folder", "--corpus_dir", str(root), "--output_dir", str(tmp_path / "d")]
    )
    assert counts == {"train": 1, "valid": 1, "test": 1}
    with pytest.raises(SystemExit) as exc:
        main(["--corpus", "lrs3", "--corpus_dir", str(tmp_path / "missing"), "--output_dir", "d"])
    assert exc.value.code == 2
    assert "missing" in capsys.readouterr().err
