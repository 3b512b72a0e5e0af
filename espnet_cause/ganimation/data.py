"""GANimation training data: a folder of aligned face crops with one AU vector per crop.

Layout of a face directory (what :func:`prepare_faces_from_videos` and
:func:`prepare_faces_from_images` write, and what :class:`FaceAUDataset` reads)::

    DIR/aus.csv        header "file,AU01_r,...,AU45_r"; one row per crop; AUs on the 0-5 scale
    DIR/faces/*.png    crops, aligned by the eyes (espnet_cause.render.face.align_crop)
    DIR/faces_report.tsv   per video/photo: key, status, reason, faces, no_face, no_label

``file`` is relative to DIR. Crops are found and aligned with the MediaPipe face landmarker, the
same alignment the renderer uses at inference time, so training and rendering see the same
framing.
"""

from __future__ import annotations

import csv
import functools
import logging
import os
from pathlib import Path

import numpy as np

from espnet_cause.au import AU_INTENSITY_COLUMNS, AU_INTENSITY_MAX, AU_INTENSITY_MIN, NUM_AUS
from espnet_cause.errors import CauseError
from espnet_cause.extract.mediapipe import resolve_face_landmarker
from espnet_cause.io.atomic import atomic_write

logger = logging.getLogger(__name__)

#: The AU table of a face directory.
AU_TABLE = "aus.csv"
#: Sub-directory of a face directory holding the crops.
FACES_SUBDIR = "faces"
#: The preparation report and its own columns (after the batch runner's key, status, reason).
REPORT_FILE = "faces_report.tsv"
REPORT_COLUMNS = ("faces", "no_face", "no_label")
#: Column of ``aus.csv`` naming the crop file (relative to the face directory).
FILE_COLUMN = "file"
#: Default side of the training crops (the paper's 128 px).
DEFAULT_IMAGE_SIZE = 128
#: Half-width of the uniform noise added to the sampled target AUs (official code: 0.1 on the
#: normalised [0, 1] scale).
TARGET_AU_NOISE = 0.1


def normalize_aus(aus: np.ndarray) -> np.ndarray:
    """AUs on the 0..AU_INTENSITY_MAX scale -> the generator's [0, 1] scale (clipped)."""
    aus = np.clip(np.asarray(aus, dtype=np.float32), AU_INTENSITY_MIN, AU_INTENSITY_MAX)
    return aus / np.float32(AU_INTENSITY_MAX)


def read_au_table(source: str | os.PathLike) -> tuple[list[Path], np.ndarray]:
    """Read ``DIR/aus.csv`` (``source`` a face directory) or another CSV with its columns.

    File names are relative to the CSV's directory (absolute ones are kept).

    Returns:
        (crop paths, (N, 17) float32 AUs on the 0-5 scale).

    Raises:
        CauseError: naming the file and line for a missing table, missing columns, a bad number,
            NaN, or a crop file that does not exist.
    """
    table = Path(source)
    if table.is_dir():
        table = table / AU_TABLE
    directory = table.parent
    if not table.is_file():
        raise CauseError(
            "AU table not found",
            path=table,
            fix="prepare it with python -m espnet_cause.bin.prepare_faces",
        )
    files: list[Path] = []
    rows: list[list[float]] = []
    with open(table, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in (FILE_COLUMN, *AU_INTENSITY_COLUMNS) if c not in header]
        if missing:
            raise CauseError(
                f"missing columns {', '.join(missing)}",
                path=table,
                line=1,
                fix=f"the header must be {FILE_COLUMN},{','.join(AU_INTENSITY_COLUMNS)}",
            )
        for lineno, row in enumerate(reader, start=2):
            row = {k.strip(): v for k, v in row.items() if k is not None}
            try:
                values = [float(row[c]) for c in AU_INTENSITY_COLUMNS]
            except (TypeError, ValueError):
                raise CauseError("not a number in an AU column", path=table, line=lineno) from None
            if not np.all(np.isfinite(values)):
                raise CauseError(
                    "NaN or infinite AU value", path=table, line=lineno, fix="drop the row"
                )
            image = directory / row[FILE_COLUMN].strip()
            if not image.is_file():
                raise CauseError(f"face image {image} not found", path=table, line=lineno)
            files.append(image)
            rows.append(values)
    if not files:
        raise CauseError("no faces listed", path=table, fix="prepare the faces again")
    return files, np.asarray(rows, dtype=np.float32).reshape(-1, NUM_AUS)


def read_face(path: str | os.PathLike, image_size: int) -> np.ndarray:
    """Read a crop as (image_size, image_size, 3) uint8 RGB (resized when needed)."""
    import cv2

    data = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if data is None:
        raise CauseError("cannot read the face image", path=path, fix="re-create or remove it")
    if data.shape[:2] != (image_size, image_size):
        data = cv2.resize(data, (image_size, image_size), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(data, cv2.COLOR_BGR2RGB)


class FaceAUDataset:
    """Map-style dataset of (face, its AUs, a random target AU vector) for GANimation.

    Target AUs are those of another random face plus uniform noise, as in the official code.
    Works with ``torch.utils.data.DataLoader`` (items are numpy arrays).

    Args:
        data_dir: A face directory (see the module docstring).
        image_size: Side of the square crops fed to the model.
        flip: Random horizontal flips (AUs are symmetric, so labels are unchanged).
        target_noise: Half-width of the uniform noise on the normalised target AUs.
        cache: Keep decoded crops in memory (small corpora).
    """

    def __init__(
        self,
        data_dir: str | os.PathLike,
        image_size: int = DEFAULT_IMAGE_SIZE,
        flip: bool = True,
        target_noise: float = TARGET_AU_NOISE,
        cache: bool = False,
    ) -> None:
        self.files, aus = read_au_table(data_dir)
        self.aus = normalize_aus(aus)
        self.image_size = image_size
        self.flip = flip
        self.target_noise = target_noise
        self._cache: dict[int, np.ndarray] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.files)

    def _image(self, index: int) -> np.ndarray:
        if self._cache is not None and index in self._cache:
            return self._cache[index]
        image = read_face(self.files[index], self.image_size)
        if self._cache is not None:
            self._cache[index] = image
        return image

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        """One example.

        Returns:
            ``image`` (3, S, S) float32 in [-1, 1]; ``aus`` (17,) and ``target_aus`` (17,)
            float32 on the [0, 1] scale.
        """
        rng = np.random.default_rng()
        image = self._image(index)
        if self.flip and rng.random() < 0.5:
            image = image[:, ::-1]
        chw = np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32) / 127.5 - 1.0
        other = int(rng.integers(len(self.aus)))
        noise = rng.uniform(-self.target_noise, self.target_noise, NUM_AUS).astype(np.float32)
        target = np.clip(self.aus[other] + noise, 0.0, 1.0)
        return {"image": chw, "aus": self.aus[index].copy(), "target_aus": target}


# ---------------------------------------------------------------- preparation (faces + AUs)


def _landmarker_env(face_landmarker_path: str) -> dict:
    from espnet_cause.render.face import FaceLandmarker

    return {"landmarker": FaceLandmarker(face_landmarker_path, max_faces=1)}


def _close_landmarkers() -> None:
    from espnet_cause.render.face import close_all

    close_all()


def _crop(landmarker, image: np.ndarray, image_size: int) -> np.ndarray | None:
    from espnet_cause.render.face import align_crop

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
    from espnet_cause.io.video import iter_frames

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
    from espnet_cause.render.face import load_image

    crop = _crop(landmarker, load_image(payload["image"]), payload["image_size"])
    if crop is None:
        return {"key": key, "status": "error", "reason": "no face found"}
    name = f"{FACES_SUBDIR}/{key}.png"
    _write_png(Path(payload["output_dir"]) / name, crop)
    return {"key": key, "status": "ok", "rows": [[name, *payload["aus"]]], "faces": 1}


def _write_table(output_dir: Path, records: dict[str, dict]) -> int:
    from espnet_cause.batch import write_report

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
        parallel_config: From ``espnet_cause.parallel.load_parallel_config``; None in-process.

    Returns:
        The number of crops in ``aus.csv``.
    """
    from espnet_cause.batch import run_batch
    from espnet_cause.io.au_files import read_au_fps, read_au_scp
    from espnet_cause.io.datadir import read_kaldi_map

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
    records = run_batch(
        items,
        _video_item,
        output_dir=output_dir,
        settings={
            "from": "videos",
            "au_fps": fps,
            "frame_stride": frame_stride,
            "max_frames": max_frames_per_video,
            "image_size": image_size,
        },
        setup_fn=functools.partial(
            _landmarker_env, str(resolve_face_landmarker(face_landmarker_path))
        ),
        teardown_fn=_close_landmarkers,
        parallel_config=parallel_config,
        desc="faces",
    )
    return _write_table(output_dir, records)


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
        parallel_config: From ``espnet_cause.parallel.load_parallel_config``; None in-process.

    Returns:
        The number of crops in ``aus.csv``.
    """
    from espnet_cause.batch import run_batch

    au_csv, output_dir = Path(au_csv), Path(output_dir)
    files, aus = read_au_table(au_csv)
    items = [
        (
            f"{i:07d}_{Path(f).stem}",
            {
                "image": str(f),
                "aus": [float(v) for v in a],
                "output_dir": str(output_dir),
                "image_size": image_size,
            },
        )
        for i, (f, a) in enumerate(zip(files, aus))
    ]
    records = run_batch(
        items,
        _image_item,
        output_dir=output_dir,
        settings={"from": "images", "image_size": image_size},
        setup_fn=functools.partial(
            _landmarker_env, str(resolve_face_landmarker(face_landmarker_path))
        ),
        teardown_fn=_close_landmarkers,
        parallel_config=parallel_config,
        desc="faces",
    )
    return _write_table(output_dir, records)
