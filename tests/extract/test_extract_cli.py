"""The extract_au and make_au_labels command lines."""

from __future__ import annotations

import numpy as np
import pytest
from extract_media import blank_frames, write_video

from espnet_cause.au import au_index
from espnet_cause.bin import extract_au, make_au_labels
from espnet_cause.io.openface import read_openface_csv
from espnet_cause.jobs.batch import read_report


def test_parsers():
    args = extract_au.get_parser().parse_args(
        ["--extractor", "mediapipe", "--video", "v.mp4", "--output", "o.csv"]
    )
    assert args.au_fps == 25.0
    with pytest.raises(SystemExit):
        extract_au.get_parser().parse_args(
            ["--extractor", "mediapipe", "--video", "v.mp4", "--video_scp", "s"]
        )
    args = make_au_labels.get_parser().parse_args(["--data_dir", "d", "--output_dir", "o"])
    assert args.au_extractor == "mediapipe" and args.max_fail_fraction == 0.3


def test_single_video_mediapipe(tmp_path, smile_video, monkeypatch):
    """Acceptance: no --face_landmarker_path, empty cache, no network: the packaged model."""
    monkeypatch.setenv("ESPNET_CAUSE_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "smile.csv"
    extract_au.main(["--extractor", "mediapipe", "--video", str(smile_video), "--output", str(out)])
    assert not (tmp_path / "cache").exists()
    track = read_openface_csv(out)
    assert track.fps == 25.0 and len(track) == 60
    au12 = track.intensities[:, au_index("AU12")]
    assert au12[-20:].mean() > au12[:20].mean() + 2.0
    # the blendshapes and head rotation of the same frames, beside the AU CSV
    from espnet_cause.arkit import BLENDSHAPE_NAMES
    from espnet_cause.io.blendshapes import read_blendshape_csv

    values, times, pose = read_blendshape_csv(tmp_path / "smile.blendshapes.csv")
    assert values.shape == (60, 51) and pose.shape == (60, 3)
    np.testing.assert_allclose(times, track.timestamps, atol=1e-3)
    smile = values[:, BLENDSHAPE_NAMES.index("mouthSmileRight")]
    assert smile[-20:].mean() > smile[:20].mean() + 0.4


def test_single_video_default_output_is_named_after_the_video(
    tmp_path, smile_video, face_model, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    video = smile_video
    extract_au.main(
        [
            "--extractor",
            "mediapipe",
            "--video",
            str(video),
            "--face_landmarker_path",
            str(face_model),
        ]
    )
    assert len(read_openface_csv(tmp_path / f"{video.stem}.csv")) > 0


def test_single_video_without_face_exits_nonzero_with_message(tmp_path, capsys):
    blank = write_video(tmp_path / "blank.mp4", blank_frames(6))
    with pytest.raises(SystemExit) as e:
        extract_au.main(
            ["--extractor", "mediapipe", "--video", str(blank), "--output", str(tmp_path / "o.csv")]
        )
    assert e.value.code != 0
    assert "no face found" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_scp_mode_openface_import(tmp_path, openface20_csv):
    of = tmp_path / "of"
    of.mkdir()
    (of / "talk.csv").write_bytes(openface20_csv.read_bytes())
    scp = tmp_path / "video.scp"
    scp.write_text(f"utt1 {tmp_path / 'talk.mp4'}\nutt2 {tmp_path / 'gone.mp4'}\n")
    extract_au.main(
        [
            "--extractor", "openface", "--video_scp", str(scp), "--output_dir",
            str(tmp_path / "au"), "--openface_dir", str(of), "--au_fps", "0",
        ]
    )  # fmt: skip
    track = read_openface_csv(tmp_path / "au" / "utt1.csv")
    assert np.isfinite(track.intensities).all()
    assert not (tmp_path / "au" / "utt2.csv").exists()  # skipped with a warning
    report = read_report(tmp_path / "au" / "extract_report.tsv")
    assert report["utt1"]["status"] == "ok" and report["utt1"]["frames"] == str(len(track))
    assert report["utt2"]["status"] == "error" and "gone" in report["utt2"]["reason"]


def test_make_au_labels_main_reports_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        make_au_labels.main(["--data_dir", str(tmp_path / "nope"), "--output_dir", str(tmp_path)])
    assert e.value.code == 2
    assert "data directory not found" in capsys.readouterr().err


def test_scp_mode_all_failing_exits_nonzero(tmp_path, capsys):
    scp = tmp_path / "video.scp"
    scp.write_text(f"utt1 {tmp_path / 'gone.mp4'}\n")
    with pytest.raises(SystemExit) as e:
        extract_au.main(
            [
                "--extractor", "openface", "--video_scp", str(scp), "--output_dir",
                str(tmp_path / "au"), "--openface_dir", str(tmp_path),
            ]
        )  # fmt: skip
    assert e.value.code == 2
    assert "no video could be processed" in capsys.readouterr().err
