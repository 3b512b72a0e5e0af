"""Live Link Face CSV and ARKit JSON writers, blendshape CSV."""

from __future__ import annotations

import json

import numpy as np
import pytest

from espnet_cause.arkit import ARKIT_NAMES, BLENDSHAPE_NAMES, LIVELINK_NAMES
from espnet_cause.errors import CauseError
from espnet_cause.io.blendshapes import (
    blendshape_csv_path,
    read_blendshape_csv,
    write_blendshape_csv,
)
from espnet_cause.io.livelink import (
    LIVELINK_COUNT,
    LIVELINK_HEADER,
    livelink_timecode,
    parse_livelink_timecode,
    read_livelink_csv,
    write_arkit_json,
    write_livelink_csv,
)


def test_timecodes():
    assert livelink_timecode(0, 60) == "00:00:00:00.000"
    assert livelink_timecode(59, 60) == "00:00:00:59.000"
    assert livelink_timecode(60, 60) == "00:00:01:00.000"
    assert livelink_timecode(60 * 3661 + 7, 60) == "01:01:01:07.000"
    assert livelink_timecode(31, 30) == "00:00:01:01.000"
    # 29.97 fps: frame 30 is 1.001 s in, 0.03 frames into the second
    assert livelink_timecode(30, 29.97) == "00:00:01:00.030"
    for k in (0, 1, 59, 61, 7325):
        assert parse_livelink_timecode(livelink_timecode(k, 60), 60) == pytest.approx(k / 60)
    with pytest.raises(ValueError):
        livelink_timecode(1, 0)
    with pytest.raises(ValueError, match="timecode"):
        parse_livelink_timecode("12.5", 60)


def test_livelink_csv_round_trip_clips_and_orders(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.uniform(-0.2, 1.2, (5, 51)).astype(np.float32)
    path = write_livelink_csv(tmp_path / "take.csv", values, BLENDSHAPE_NAMES, fps=60)
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join(LIVELINK_HEADER) and LIVELINK_COUNT == 61
    assert len(lines) == 6 and lines[1].startswith("00:00:00:00.000,61,")
    times, shapes, rot = read_livelink_csv(path, fps=60)
    np.testing.assert_allclose(times, np.arange(5) / 60, atol=1e-9)
    idx = [ARKIT_NAMES.index(n) for n in BLENDSHAPE_NAMES]
    np.testing.assert_allclose(shapes[:, idx], np.clip(values, 0, 1), atol=1e-6)
    assert (shapes[:, ARKIT_NAMES.index("tongueOut")] == 0).all()
    assert rot.shape == (5, 9) and (rot == 0).all()
    # a wrong-width or non-finite array writes nothing
    with pytest.raises(CauseError, match="shape"):
        write_livelink_csv(tmp_path / "bad.csv", values[:, :50], BLENDSHAPE_NAMES)
    values[2, 3] = np.nan
    with pytest.raises(CauseError, match="NaN"):
        write_livelink_csv(tmp_path / "bad.csv", values, BLENDSHAPE_NAMES)
    assert not (tmp_path / "bad.csv").exists()


def test_read_livelink_names_the_bad_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(",".join(LIVELINK_HEADER) + "\n00:00:00:00.000,61\n")
    with pytest.raises(CauseError, match=r"t.csv:2: 2 cells"):
        read_livelink_csv(path)
    path.write_text("a,b\n1,2\n")
    with pytest.raises(CauseError, match="not a Live Link Face CSV"):
        read_livelink_csv(path)


def test_arkit_json(tmp_path):
    values = np.full((3, 52), 0.25, np.float32)
    values[:, LIVELINK_NAMES.index("JawOpen")] = 0.75
    write_arkit_json(tmp_path / "a.json", values, LIVELINK_NAMES, fps=30)
    doc = json.loads((tmp_path / "a.json").read_text())
    assert doc["fps"] == 30.0 and doc["names"] == list(ARKIT_NAMES)
    frames = np.array(doc["frames"])
    assert frames.shape == (3, 52)
    assert (frames[:, ARKIT_NAMES.index("jawOpen")] == 0.75).all()
    assert (np.delete(frames, ARKIT_NAMES.index("jawOpen"), axis=1) == 0.25).all()


def test_blendshape_csv_round_trip_with_gaps_and_head_pose(tmp_path):
    values = np.linspace(0, 1, 4 * 51, dtype=np.float32).reshape(4, 51)
    values[2] = np.nan
    pose = np.array([[1, 2, 3], [4, 5, 6], [np.nan] * 3, [7, 8, 9]], np.float32)
    path = blendshape_csv_path(tmp_path / "clip.csv")
    assert path.name == "clip.blendshapes.csv"
    write_blendshape_csv(path, values, np.arange(4) * 0.04, head_pose=pose)
    back, times, back_pose = read_blendshape_csv(path)
    np.testing.assert_allclose(back, values, atol=1e-6)
    np.testing.assert_allclose(times, np.arange(4) * 0.04)
    np.testing.assert_allclose(back_pose, pose, atol=1e-6)
    path.write_text("frame,timestamp\n1,0.0\n")
    with pytest.raises(CauseError, match="no column 'browDownLeft'"):
        read_blendshape_csv(path)
