"""check_lipsync end to end: a clip with a face and speech, with the built-in model."""

from __future__ import annotations

import json
import math

import pytest

from espnet_cause.bin import check_lipsync


def test_model_help_names_every_built_in_model():
    from espnet_cause.assets import BUILTIN_MODELS

    text = " ".join(check_lipsync.get_parser().format_help().split())
    for name in BUILTIN_MODELS:
        assert f"'{name}'" in text


def test_check_one_clip(smile_video, tmp_path, capsys):
    out = tmp_path / "out"
    report = check_lipsync.main(["--video", str(smile_video), "--output_dir", str(out)])
    on_disk = json.loads((out / "lipsync.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    clip = on_disk["clips"][smile_video.stem]
    assert clip["frames"] == 60 and clip["frames_with_face"] == 60  # 2.4 s at 25 fps
    for system in ("model", "loudness"):
        mouth = clip["mouth"][system]
        assert mouth["r"] is None or -1.0 <= mouth["r"] <= 1.0
        assert abs(mouth["lag_ms"]) <= 80.0 and mouth["lag_ms"] % 40 == 0
        assert set(clip["aus"][system]) >= {"AU12", "AU25", "AU26"}
    # the clip's face smiles from 0.7 s on (AU12 ramp): the video reference shows it, so
    # AU12 has an r for both systems
    assert clip["aus"]["model"]["AU12"]["r"] is not None
    assert on_disk["summary"]["clips"] == 1 and on_disk["skipped"] == {}
    md = (out / "lipsync.md").read_text()
    assert md.startswith("# Lip-sync check: `cause_builtin.zip`") and md in capsys.readouterr().out
    assert (out / "plots" / f"{smile_video.stem}.png").read_bytes()[:4] == b"\x89PNG"


def test_a_set_skips_bad_clips(smile_video, demo_wav, tmp_path):
    scp = tmp_path / "video.scp"
    scp.write_text(  # Kaldi order: keys sorted
        f"audio_only {demo_wav}\ngood {smile_video}\nmissing {tmp_path / 'nope.mp4'}\n"
    )
    report = check_lipsync.main(
        ["--video_scp", str(scp), "--output_dir", str(tmp_path / "o"), "--no_plots"]
    )
    assert list(report["clips"]) == ["good"]
    assert set(report["skipped"]) == {"missing", "audio_only"}
    assert "nope.mp4" in report["skipped"]["missing"]
    assert "Skipped" in (tmp_path / "o" / "lipsync.md").read_text()
    assert not (tmp_path / "o" / "plots").exists()
    r = report["summary"]["model"]["mouth_r"]
    assert r is None or not math.isnan(r)


def test_nothing_usable_fails(demo_wav, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        check_lipsync.main(["--video", str(demo_wav), "--output_dir", str(tmp_path / "o")])
    assert e.value.code == 2
    assert "could be scored" in capsys.readouterr().err
    assert not (tmp_path / "o" / "lipsync.json").exists()
    with pytest.raises(SystemExit):
        check_lipsync.main(["--video", str(tmp_path / "x.mp4"), "--output_dir", str(tmp_path)])
    assert "video not found" in capsys.readouterr().err
