import numpy as np
import pytest

from espnet_cause.au import NUM_AUS
from espnet_cause.bin.convert_au import get_parser, main
from espnet_cause.io.au_files import read_au, read_au_scp, write_au


def test_parser_has_the_documented_options():
    args = get_parser().parse_args(
        ["--input", "a.csv", "--output", "b.npy", "--fps", "25", "--face_id", "1"]
    )
    assert (args.fps, args.face_id) == (25.0, 1)


def test_openface_csv_to_npy(openface20_csv, tmp_path):
    out = tmp_path / "x.npy"
    main(
        [
            "--input",
            str(openface20_csv),
            "--output",
            str(out),
            "--fps",
            "25",
        ]
    )
    array = np.load(out)
    assert array.dtype == np.float32 and array.ndim == 2 and array.shape[1] == NUM_AUS
    # The fixture's 100 frames are at 30 fps (0 .. 3.3 s): 25 fps frames at 0, 0.04 .. 3.28 s.
    assert array.shape[0] == 83
    from made_fixtures import openface20_aus

    known = openface20_aus()
    assert np.allclose(array[0], known[0], atol=1e-4)  # t = 0 is on both grids
    assert np.allclose(array[25], known[30], atol=1e-4)  # and so is t = 1 s


def test_dir_to_scp_to_csv_dir_with_resampling(tmp_path):
    src = tmp_path / "npys"
    for i in range(3):
        write_au(src / f"utt{i}.npy", np.full((50, NUM_AUS), i, np.float32), fps=50)
    main(
        [
            "--input",
            str(src),
            "--input_fps",
            "50",
            "--output",
            str(tmp_path / "au.scp"),
            "--fps",
            "25",
        ]
    )
    arrays = read_au_scp(tmp_path / "au.scp")
    assert sorted(arrays) == ["utt0", "utt1", "utt2"] and arrays["utt2"].shape == (25, NUM_AUS)
    main(
        [
            "--input",
            str(tmp_path / "au.scp"),
            "--output",
            str(tmp_path / "csv"),
            "--output_format",
            "csv",
        ]
    )
    track = read_au(tmp_path / "csv" / "utt1.csv")
    assert (
        len(track) == 25
        and track.fps == pytest.approx(25.0)
        and np.allclose(track.intensities, 1.0)
    )


def test_errors_exit_2_and_write_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("frame,timestamp\n1,0.0\n")
    with pytest.raises(SystemExit) as e:
        main(["--input", str(bad), "--output", str(tmp_path / "o.npy")])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "no AU intensity columns" in err and "Traceback" not in err
    assert not (tmp_path / "o.npy").exists()
    with pytest.raises(SystemExit):
        main(["--input", str(tmp_path / "missing.csv"), "--output", str(tmp_path / "o.npy")])


def test_an_extract_au_dir_converts_without_its_blendshape_csvs(tmp_path):
    from espnet_cause.arkit import NUM_BLENDSHAPES
    from espnet_cause.io.blendshapes import write_blendshape_csv

    src = tmp_path / "tracked"  # what extract_au --extractor mediapipe --output_dir writes
    for i in range(2):
        write_au(src / f"utt{i}.csv", np.full((25, NUM_AUS), i, np.float32), fps=25)
        write_blendshape_csv(
            src / f"utt{i}.blendshapes.csv", np.zeros((25, NUM_BLENDSHAPES)), np.arange(25) / 25
        )
    main(["--input", str(src), "--output", str(tmp_path / "au.scp"), "--fps", "25"])
    arrays = read_au_scp(tmp_path / "au.scp")
    assert sorted(arrays) == ["utt0", "utt1"] and np.allclose(arrays["utt1"], 1.0)
