import pytest

from espnet_cause.errors import CauseError
from espnet_cause.io.datadir import (
    read_kaldi_map,
    spk2utt_from_utt2spk,
    subset_data_dir,
    validate_data_dir,
    value_path,
    write_kaldi_map,
    write_utt2spk_spk2utt,
)


def make_dir(tmp_path, n=3):
    d = tmp_path / "data"
    tmp_path.mkdir(parents=True, exist_ok=True)
    wavs = {}
    for i in range(n):
        w = tmp_path / f"u{i}.wav"
        w.write_bytes(b"RIFF")
        wavs[f"spkA-u{i}"] = str(w)
    write_kaldi_map(d / "wav.scp", wavs)
    write_utt2spk_spk2utt(d, {k: "spkA" for k in wavs})
    return d


def test_write_sorts_and_read_round_trips(tmp_path):
    write_kaldi_map(tmp_path / "x.scp", {"b": "2", "a": "1 with spaces"})
    assert (tmp_path / "x.scp").read_text() == "a 1 with spaces\nb 2\n"
    assert read_kaldi_map(tmp_path / "x.scp") == {"a": "1 with spaces", "b": "2"}


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "b x\na y\n",
            r"x.scp:2: key 'a' comes after 'b': not sorted \(fix: sort it: LC_ALL=C sort",
        ),
        ("a x\na y\n", r"x.scp:2: duplicate key 'a'"),
        ("a x\nb\n", r"x.scp:2: line has a key 'b' but no value"),
    ],
)
def test_read_errors_name_file_and_line(tmp_path, text, message):
    (tmp_path / "x.scp").write_text(text)
    with pytest.raises(CauseError, match=message):
        read_kaldi_map(tmp_path / "x.scp")


def test_validate_good_dir(tmp_path):
    d = make_dir(tmp_path)
    assert validate_data_dir(d) == ["spkA-u0", "spkA-u1", "spkA-u2"]


def test_validate_finds_missing_wav_and_key_mismatch(tmp_path):
    d = make_dir(tmp_path)
    (tmp_path / "u1.wav").unlink()
    with pytest.raises(
        CauseError, match=r"wav.scp:2: utterance 'spkA-u1' refers to .*u1.wav, which does not exist"
    ):
        validate_data_dir(d)
    d = make_dir(tmp_path / "second")
    write_kaldi_map(d / "au.scp", {"spkA-u0": "x.ark:1"})
    with pytest.raises(CauseError, match=r"au.scp: keys differ from utt2spk: 2 utterances"):
        validate_data_dir(d, check_files=False)


def test_validate_spk2utt_mismatch_and_missing_file(tmp_path):
    d = make_dir(tmp_path)
    write_kaldi_map(d / "spk2utt", {"spkA": "spkA-u0"})
    with pytest.raises(CauseError, match="spk2utt does not match utt2spk"):
        validate_data_dir(d)
    (d / "wav.scp").unlink()
    with pytest.raises(CauseError, match="missing wav.scp"):
        validate_data_dir(d)


def test_value_path_and_spk2utt():
    assert value_path("/a/b.ark:123") == "/a/b.ark"
    assert value_path("sox a.wav -t wav - |") is None
    assert value_path("/x/y.wav") == "/x/y.wav"
    assert spk2utt_from_utt2spk({"b1": "b", "a2": "a", "a1": "a"}) == {"a": "a1 a2", "b": "b1"}


def test_subset(tmp_path):
    d = make_dir(tmp_path)
    subset_data_dir(d, tmp_path / "sub", ["spkA-u2", "spkA-u0"])
    assert validate_data_dir(tmp_path / "sub") == ["spkA-u0", "spkA-u2"]
