"""prepare_faces_from_images: crops + aus.csv, a bad photo skipped in the report, resume."""

import csv

import numpy as np

from espnet_cause.au import AU_INTENSITY_COLUMNS
from espnet_cause.ganimation import data, prepare
from espnet_cause.jobs.batch import read_report


def _au_csv(tmp_path, photo):
    blank = tmp_path / "blank.png"
    import cv2

    cv2.imwrite(str(blank), np.full((64, 64, 3), 128, np.uint8))
    table = tmp_path / "photos.csv"
    with open(table, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", *AU_INTENSITY_COLUMNS])
        w.writerow([str(photo), *([1.5] * 17)])
        w.writerow(["blank.png", *([0.0] * 17)])
    return table


def test_faces_from_photos_report_and_resume(tmp_path, demo_image, face_model, monkeypatch):
    landmarker = face_model
    out = tmp_path / "faces"
    n = prepare.prepare_faces_from_images(
        _au_csv(tmp_path, demo_image), out, landmarker, image_size=32
    )
    assert n == 1
    files, aus = data.read_au_table(out)
    assert len(files) == 1 and np.allclose(aus, 1.5)
    report = read_report(out / prepare.REPORT_FILE)
    assert [r["status"] for r in report.values()] == ["ok", "error"]
    ok, bad = report.values()
    assert ok["faces"] == "1" and bad["reason"] == "no face found"

    calls = []
    real = prepare._image_item
    monkeypatch.setattr(
        prepare, "_image_item", lambda k, p, **e: calls.append(k) or real(k, p, **e)
    )
    assert (
        prepare.prepare_faces_from_images(out.parent / "photos.csv", out, landmarker, image_size=32)
        == 1
    )
    assert calls == []  # finished and failed items are not redone
    prepare.prepare_faces_from_images(out.parent / "photos.csv", out, landmarker, image_size=48)
    assert len(calls) == 2  # another crop size starts over
