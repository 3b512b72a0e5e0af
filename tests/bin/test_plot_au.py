"""espnet_cause.bin.plot_au: a generated AU track -> PNG of the expected size; bad inputs exit 2."""

from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pytest
import soundfile as sf

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.bin.plot_au import main, parse_aus
from espnet_cause.evaluation.plots import DPI, FIG_WIDTH_IN, ROW_HEIGHT_IN
from espnet_cause.io.au_files import AUArkWriter, write_au

FPS = 25
FS = 16000
SECONDS = 2.0


def _track(num_frames: int = int(SECONDS * FPS)) -> np.ndarray:
    """A smile rising and falling, the mouth opening twice a second, a 0.2 s tracking gap."""
    t = np.arange(num_frames) / FPS
    aus = np.zeros((num_frames, NUM_AUS), np.float32)
    aus[:, au_index("AU12")] = 2.5 * (1 - np.cos(2 * np.pi * t / SECONDS))
    aus[:, au_index("AU25")] = 4.0 * np.abs(np.sin(2 * np.pi * t))
    aus[10:15] = np.nan
    return aus


def _png_size(path) -> tuple[int, int]:
    """(width, height) in pixels of a PNG, read back by matplotlib."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = mpimg.imread(str(path))
    return image.shape[1], image.shape[0]


def _expected(rows: int) -> tuple[int, int]:
    return round(FIG_WIDTH_IN * DPI), round(ROW_HEIGHT_IN * rows * DPI)


def test_csv_with_speech_and_reference(tmp_path):
    aus = _track()
    write_au(tmp_path / "au.csv", aus, fps=FPS)
    write_au(tmp_path / "ref.npy", np.clip(0.8 * aus + 0.3, 0, 5), fps=FPS)
    t = np.arange(int(SECONDS * FS)) / FS
    sf.write(tmp_path / "speech.wav", (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), FS)
    out = tmp_path / "plots" / "au.png"
    main(["--input", str(tmp_path / "au.csv"), "--wav", str(tmp_path / "speech.wav"),
          "--reference", str(tmp_path / "ref.npy"), "--aus", "AU01,AU12,AU25,AU26",
          "--output", str(out)])  # fmt: skip
    assert _png_size(out) == _expected(4 + 1)  # four AU panels under the waveform
    image = mpimg.imread(str(out))[..., :3]
    red = (image[..., 0] > 0.7) & (image[..., 1] < 0.3) & (image[..., 2] < 0.3)
    assert red.sum() > 500, "the track's curves were not drawn"
    assert [p.name for p in out.parent.iterdir()] == ["au.png"]  # no temp file left behind


def test_scp_key_all_aus_and_default_aus(tmp_path):
    with AUArkWriter(tmp_path / "au.ark", tmp_path / "au.scp", fps=FPS) as w:
        w.write("utt_a", np.nan_to_num(_track()))
        w.write("utt_b", np.nan_to_num(_track(30)))
    out = tmp_path / "all.png"
    main(["--input", str(tmp_path / "au.scp"), "--key", "utt_b", "--all", "--output", str(out)])
    assert _png_size(out) == _expected(NUM_AUS)
    out = tmp_path / "default.png"
    main(["--input", str(tmp_path / "au.scp"), "--key", "utt_a", "--output", str(out)])
    assert _png_size(out) == _expected(4)  # the four AUs that move most


def test_parse_aus_accepts_openface_spellings():
    assert parse_aus("AU12, au25,12,AU12_r") == [au_index("AU12"), au_index("AU25")]


def _fails(args, capsys, *needles):
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("plot_au: error: ")
    for needle in needles:
        assert needle in err, err
    return err


def test_bad_inputs_exit_2_with_a_message(tmp_path, capsys):
    write_au(tmp_path / "au.npy", _track(), fps=FPS)
    with AUArkWriter(tmp_path / "au.ark", tmp_path / "au.scp") as w:
        w.write("utt_a", np.zeros((5, NUM_AUS), np.float32))
        w.write("utt_b", np.zeros((5, NUM_AUS), np.float32))
    out = str(tmp_path / "o.png")
    _fails(["--input", str(tmp_path / "missing.csv"), "--output", out], capsys, "missing.csv")
    _fails(["--input", str(tmp_path / "au.npy"), "--aus", "AU12,AU99", "--output", out], capsys,
           "unknown AU 'AU99'", "AU45")  # fmt: skip
    scp = str(tmp_path / "au.scp")
    _fails(["--input", scp, "--key", "nope", "--output", out], capsys, "'nope'", "utt_a")
    _fails(["--input", scp, "--output", out], capsys, "2 utterances", "--key")
    _fails(["--input", str(tmp_path / "au.npy"), "--wav", str(tmp_path / "none.wav"),
            "--output", out], capsys, "none.wav")  # fmt: skip
    np.save(tmp_path / "bad.npy", np.zeros((5, 3), np.float32))
    _fails(["--input", str(tmp_path / "bad.npy"), "--output", out], capsys, "(5, 3)")
    assert not (tmp_path / "o.png").exists()
