"""GANimation data preparation: aligned face crops + ``aus.csv`` from videos or photos.

Writes the face directory that :class:`espnet_cause.ganimation.data.FaceAUDataset` reads (layout
there), plus ``faces_report.tsv`` (per video/photo: key, status, reason, faces, no_face,
no_label). Faces are found and aligned by :mod:`espnet_cause.face`, the same alignment the renderer
uses, so training and rendering see the same framing. Runs through the batch runner
(:mod:`espnet_cause.jobs.batch`): resumable, on Dask when configured.
"""

from __future__ import annotations

import csv
import functools
import logging
import os
from pathlib import Path

import numpy as np

from espnet_cause.au import AU_INTENSITY_COLUMNS
from espnet_cause.errors import CauseError
from espnet_cause.face.align import align_crop
from espnet_cause.face.landmarker import FaceLandmarker, close_all
from espnet_cause.face.model_file import resolve_face_landmarker
from espnet_cause.ganimation.data import (
    AU_TABLE,
    DEFAULT_IMAGE_SIZE,
    FACES_SUBDIR,
    FILE_COLUMN,
    read_au_table,
)
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.au_files import read_au_fps, read_au_scp
from espnet_cause.io.datadir import read_kaldi_map
from espnet_cause.io.image import load_image
from espnet_cause.io.video import iter_frames
from espnet_cause.jobs.batch import output_lock, run_batch, write_report

logger = logging.getLogger(__name__)

#: The preparation report and its own columns (after the batch runner's key, status, reason).
REPORT_FILE = "faces_report.tsv"
REPORT_COLUMNS = ("faces", "no_face", "no_label")


def _landmarker_env(face_landmarker_path: str) -> dict:

    return {"landmarker": FaceLandmarker(face_landmarker_path, max_faces=1)}


def _crop(landmarker, image: np.ndarray, image_size: int) -> np.ndarray | None:

    faces = landmarker.detect(image)
    if not faces:
        return None
    crop, _ = align_crop(image, faces[0], image_size)
    return crop


def _write_png(path: Path, image: np.ndarray) -> None:
    import cv2

    with atomic_write(path) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
            raise OSError(f"cannot write {path}")


def _video_item(
    key: str,
    payload: dict,
    *,
    landmarker,
) -> dict:
    """Crop every ``frame_stride``-th frame of one video; pair it with its AU row."""

    aus = np.asarray(payload["aus"], dtype=np.float32)
    out_dir = Path(payload["output_dir"])
    rows, no_face, no_label = [], 0, 0
    for n, (t, frame) in enumerate(iter_frames(payload["video"])):
        if n % payload["frame_stride"]:
            continue
        if len(rows) >= payload["max_frames"]:
            break
        row = int(round(t * payload["au_fps"]))
        if row >= len(aus) or not np.all(np.isfinite(aus[row])):
            no_label += 1
            continue
        crop = _crop(landmarker, frame, payload["image_size"])
        if crop is None:
            no_face += 1
            continue
        name = f"{FACES_SUBDIR}/{key}_{n:06d}.png"
        _write_png(out_dir / name, crop)
        rows.append([name, *(float(v) for v in aus[row])])
    if not rows:
        reason = f"no usable frame ({no_face} without a face, {no_label} without AU labels)"
        return {"key": key, "status": "error", "reason": reason}
    return {
        "key": key,
        "status": "ok",
        "rows": rows,
        "faces": len(rows),
        "no_face": no_face,
        "no_label": no_label,
    }


def _image_item(key: str, payload: dict, *, landmarker) -> dict:
    """Crop one still photo; pair it with its AU row."""

    crop = _crop(landmarker, load_image(payload["image"]), payload["image_size"])
    if crop is None:
        return {"key": key, "status": "error", "reason": "no face found"}
    name = f"{FACES_SUBDIR}/{key}.png"
    _write_png(Path(payload["output_dir"]) / name, crop)
    return {"key": key, "status": "ok", "rows": [[name, *payload["aus"]]], "faces": 1}


def _safe_stem(stem: str) -> str:
    """A photo's name as part of a key: white space and unprintable characters become ``_``."""
    return "".join(c if c.isprintable() and not c.isspace() else "_" for c in stem)


def _run(items, fn, output_dir: Path, settings: dict, face_landmarker_path, parallel_config) -> int:
    """Crop every item through the batch runner, then write ``aus.csv`` and the report."""
    with output_lock(output_dir):
        records = run_batch(
            items,
            fn,
            output_dir=output_dir,
            settings=settings,
            setup_fn=functools.partial(
                _landmarker_env, str(resolve_face_landmarker(face_landmarker_path))
            ),
            teardown_fn=close_all,
            parallel_config=parallel_config,
            desc="faces",
        )
        return _write_table(output_dir, records)


def _write_table(output_dir: Path, records: dict[str, dict]) -> int:
    write_report(output_dir / REPORT_FILE, records.values(), REPORT_COLUMNS)
    rows = [row for key in sorted(records) for row in records[key].get("rows", [])]
    if not rows:
        raise CauseError(
            "no face could be prepared", path=output_dir / REPORT_FILE, fix="read the reasons there"
        )
    with atomic_write(output_dir / AU_TABLE) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([FILE_COLUMN, *AU_INTENSITY_COLUMNS])
        for row in rows:
            writer.writerow([row[0], *(f"{v:.4f}" for v in row[1:])])
    failed = sorted(k for k, r in records.items() if r.get("status") != "ok")
    for key in failed:
        logger.warning("%s skipped: %s", key, records[key].get("reason"))
    logger.info("%d faces from %d items (%d skipped) in %s", len(rows), len(records),
                len(failed), output_dir)  # fmt: skip
    return len(rows)


def prepare_faces_from_videos(
    video_scp: str | os.PathLike,
    au_scp: str | os.PathLike,
    output_dir: str | os.PathLike,
    face_landmarker_path: str | os.PathLike | None = None,
    *,
    frame_stride: int = 5,
    max_frames_per_video: int = 1000,
    image_size: int = DEFAULT_IMAGE_SIZE,
    au_fps: float | None = None,
    parallel_config=None,
) -> int:
    """Face crops from speaking-face videos, labelled by the AU tracks of stage 2.

    Every ``frame_stride``-th frame is decoded, its face aligned and cropped; its AU row is the
    one at the frame's timestamp (``round(t * au_fps)``). Resumable: finished videos are skipped.

    Args:
        video_scp: Kaldi ``video.scp`` (utt -> video file).
        au_scp: ``au.scp`` of the same utterances (AUs on the 0-5 scale, ``au_fps`` frames/s).
        output_dir: The face directory to write.
        face_landmarker_path: MediaPipe ``face_landmarker.task`` (None: the packaged model).
        frame_stride: Take one frame in this many.
        max_frames_per_video: At most this many crops per video.
        image_size: Side of the crops.
        au_fps: AU frame rate; default: the ``au_fps`` file beside ``au_scp`` (else 25).
        parallel_config: From ``espnet_cause.jobs.parallel.load_parallel_config``; None in-process.

    Returns:
        The number of crops in ``aus.csv``.
    """

    output_dir = Path(output_dir)
    videos = read_kaldi_map(video_scp, check_sorted=False)
    tracks = read_au_scp(au_scp)
    fps = au_fps or read_au_fps(au_scp)
    keys = [k for k in videos if k in tracks]
    if not keys:
        raise CauseError(
            "no utterance is in both the video scp and the AU scp",
            path=video_scp,
            fix=f"check that {au_scp} lists the same utterance ids",
        )
    items = [
        (
            key,
            {
                "video": videos[key],
                "aus": np.asarray(tracks[key], dtype=np.float32).tolist(),
                "au_fps": fps,
                "output_dir": str(output_dir),
                "frame_stride": frame_stride,
                "max_frames": max_frames_per_video,
                "image_size": image_size,
            },
        )
        for key in keys
    ]
    settings = {
        "from": "videos",
        "au_fps": fps,
        "frame_stride": frame_stride,
        "max_frames": max_frames_per_video,
        "image_size": image_size,
    }
    return _run(items, _video_item, output_dir, settings, face_landmarker_path, parallel_config)


def prepare_faces_from_images(
    au_csv: str | os.PathLike,
    output_dir: str | os.PathLike,
    face_landmarker_path: str | os.PathLike | None = None,
    *,
    image_size: int = DEFAULT_IMAGE_SIZE,
    parallel_config=None,
) -> int:
    """Face crops from still photos (CelebA, EmotioNet, ...) with AU labels in a CSV.

    Args:
        au_csv: CSV with a ``file`` column (photo path, relative to the CSV's directory or
            absolute) and the 17 ``AUxx_r`` columns (0-5), e.g. gathered from OpenFace
            ``FaceLandmarkImg`` outputs.
        output_dir: The face directory to write.
        face_landmarker_path: MediaPipe ``face_landmarker.task`` (None: the packaged model).
        image_size: Side of the crops.
        parallel_config: From ``espnet_cause.jobs.parallel.load_parallel_config``; None in-process.

    Returns:
        The number of crops in ``aus.csv``.
    """
    au_csv, output_dir = Path(au_csv), Path(output_dir)
    files, aus = read_au_table(au_csv)
    items = [
        (
            f"{i:07d}_{_safe_stem(Path(f).stem)}",
            {
                "image": str(f),
                "aus": [float(v) for v in a],
                "output_dir": str(output_dir),
                "image_size": image_size,
            },
        )
        for i, (f, a) in enumerate(zip(files, aus))
    ]
    settings = {"from": "images", "image_size": image_size}
    return _run(items, _image_item, output_dir, settings, face_landmarker_path, parallel_config)
