"""The OpenFace CSV reader on a real OpenFace 2.0 file and on 2.2-style files written here."""

from pathlib import Path

import numpy as np
import pytest

from espnet_cause.au import AU_INTENSITY_COLUMNS, AU_PRESENCE_NAMES, NUM_AUS
from espnet_cause.errors import CauseError
from espnet_cause.io.openface import read_openface_csv, write_openface_csv
from espnet_cause.io.track import AUTrack


def write_openface22(path: Path, rows: list[dict], sep: str = ",") -> Path:
    """Write an OpenFace 2.2-style CSV: face_id, pose columns between, _r and _c columns."""
    header = ["frame", "face_id", "timestamp", "confidence", "success", "pose_Tx", "pose_Ty"]
    header += list(AU_INTENSITY_COLUMNS) + [n + "_c" for n in AU_PRESENCE_NAMES]
    lines = [sep.join(header)]
    for r in rows:
        aus = r.get("aus", np.zeros(NUM_AUS))
        values = [
            r["frame"],
            r.get("face_id", 0),
            r["t"],
            r.get("conf", 0.98),
            r.get("ok", 1),
            1.5,
            -2.0,
        ]
        values += [f"{x:.2f}" for x in aus] + ["1"] * len(AU_PRESENCE_NAMES)
        lines.append(sep.join(str(v) for v in values))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_openface20_layout_file(openface20_csv):
    """OpenFace 2.0's own 431-column layout (no face_id; header joined by ", "), both row separators."""
    from made_fixtures import openface20_aus

    csv = openface20_csv
    track = read_openface_csv(csv)
    assert track.intensities.shape == (100, NUM_AUS)
    assert track.intensities.dtype == np.float32
    assert track.success.all()
    assert np.allclose(track.intensities, openface20_aus(), atol=1e-4)
    # Values by column name: the first row of the file has AU01_r = 0.68 after many other columns.
    header = [c.strip() for c in csv.read_text().splitlines()[0].split(",")]
    first = [c.strip() for c in csv.read_text().splitlines()[1].split(",")]
    assert len(header) == 431 and header.index("AU01_r") == 396
    assert track.intensities[0, 0] == pytest.approx(float(first[header.index("AU01_r")]))
    assert track.intensities[0, 16] == pytest.approx(float(first[header.index("AU45_r")]))
    assert np.all(np.diff(track.timestamps) > 0)
    assert track.fps == pytest.approx(30.0)


def test_two_faces_default_is_most_tracked(tmp_path):
    rows = []
    for i in range(10):
        rows.append(
            {
                "frame": i + 1,
                "face_id": 0,
                "t": i / 30,
                "ok": int(i < 3),
                "aus": np.full(NUM_AUS, 1.0),
            }
        )
        rows.append({"frame": i + 1, "face_id": 1, "t": i / 30, "aus": np.full(NUM_AUS, 2.0)})
    csv = write_openface22(tmp_path / "two.csv", rows)
    track = read_openface_csv(csv)
    assert len(track) == 10 and track.fps == pytest.approx(30.0)
    assert np.allclose(track.intensities, 2.0)
    face0 = read_openface_csv(csv, face_id=0)
    assert face0.success.sum() == 3
    with pytest.raises(CauseError, match=r"no face_id 7; the file has face_id 0, 1"):
        read_openface_csv(csv, face_id=7)


def test_comma_space_and_comma_separators_read_the_same(tmp_path):
    rows = [{"frame": i + 1, "t": i * 0.04, "aus": np.arange(NUM_AUS) * 0.1 + i} for i in range(5)]
    a = read_openface_csv(write_openface22(tmp_path / "a.csv", rows, sep=","))
    b = read_openface_csv(write_openface22(tmp_path / "b.csv", rows, sep=", "))
    assert np.array_equal(a.intensities, b.intensities)
    assert a.fps == pytest.approx(25.0)


def test_round_trip_keeps_values_and_marks_missing(tmp_path):
    values = np.random.default_rng(0).uniform(0, 5, (20, NUM_AUS)).astype(np.float32)
    values[5:8] = np.nan
    track = AUTrack.from_array(values, fps=25)
    write_openface_csv(tmp_path / "t.csv", track)
    back = read_openface_csv(tmp_path / "t.csv")
    ok = ~np.isnan(values).any(axis=1)
    assert np.allclose(back.intensities[ok], values[ok], atol=1e-4)
    assert not back.success[5:8].any() and back.success[ok].all()
    assert not back.valid_mask()[5:8].any()
    header = (tmp_path / "t.csv").read_text().splitlines()[0]
    assert header.startswith("frame,face_id,timestamp,confidence,success,AU01_r")


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "empty file"),
        (
            "frame, timestamp, confidence, success, gaze_0_x\n1, 0.0, 0.9, 1, 0.1\n",
            "no AU intensity columns",
        ),
        ("frame,timestamp," + ",".join(AU_INTENSITY_COLUMNS) + "\n", "header only"),
    ],
)
def test_bad_files_name_the_problem(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CauseError, match=message) as err:
        read_openface_csv(path)
    assert str(path) in str(err.value)


def test_backwards_timestamps_and_nan_name_the_line(tmp_path):
    rows = [{"frame": i + 1, "t": t} for i, t in enumerate([0.0, 0.04, 0.02, 0.06])]
    path = write_openface22(tmp_path / "back.csv", rows)
    with pytest.raises(CauseError, match=r"back.csv:4: timestamp goes backwards"):
        read_openface_csv(path)
    aus = np.zeros(NUM_AUS)
    aus[3] = np.nan
    rows = [{"frame": 1, "t": 0.0}, {"frame": 2, "t": 0.04, "aus": aus}]
    path = write_openface22(tmp_path / "nan.csv", rows)
    with pytest.raises(CauseError, match=r"nan.csv:3: NaN value in AU05_r"):
        read_openface_csv(path)


def test_missing_file(tmp_path):
    with pytest.raises(CauseError, match="file not found"):
        read_openface_csv(tmp_path / "nope.csv")
