import numpy as np
import pytest

from espnet_cause.au import NUM_AUS
from espnet_cause.errors import CauseError
from espnet_cause.io.au_files import AUArkWriter, read_au, read_au_fps, read_au_scp, write_au


def test_npy_round_trip(tmp_path):
    values = np.random.default_rng(1).uniform(0, 5, (30, NUM_AUS)).astype(np.float32)
    write_au(tmp_path / "a.npy", values, fps=50)
    track = read_au(tmp_path / "a.npy", fps=50)
    assert np.array_equal(track.intensities, values) and track.fps == 50


def test_ark_scp_round_trip_and_fps_file(tmp_path):
    arrays = {f"utt{i}": np.full((10 + i, NUM_AUS), i, np.float32) for i in (2, 0, 1)}
    with AUArkWriter(tmp_path / "au.ark", tmp_path / "au.scp", fps=25) as w:
        for key, a in arrays.items():
            w.write(key, a)
    lines = (tmp_path / "au.scp").read_text().splitlines()
    assert [ln.split()[0] for ln in lines] == ["utt0", "utt1", "utt2"]
    assert all(str(tmp_path / "au.ark") + ":" in ln for ln in lines)
    loaded = read_au_scp(tmp_path / "au.scp")
    for key, a in arrays.items():
        assert np.array_equal(loaded[key], a)
    assert read_au_fps(tmp_path / "au.scp") == 25.0
    assert not list(tmp_path.glob(".*tmp*"))


def test_ark_writer_leaves_nothing_on_error(tmp_path):
    with pytest.raises(CauseError, match=r"utterance 'bad'.*expected \(T, 17\)"):
        with AUArkWriter(tmp_path / "au.ark", tmp_path / "au.scp") as w:
            w.write("good", np.zeros((3, NUM_AUS)))
            w.write("bad", np.zeros((3, 4)))
    assert list(tmp_path.iterdir()) == []


def test_unknown_suffix_and_bad_npy(tmp_path):
    with pytest.raises(CauseError, match="unknown AU file type '.txt'"):
        read_au(tmp_path / "x.txt")
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    with pytest.raises(CauseError, match="bad.npy: not a readable .npy"):
        read_au(tmp_path / "bad.npy")
