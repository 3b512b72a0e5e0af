"""Blendshape tracks on disk: a CSV beside the OpenFace-style AU CSV, and ``.npy``.

A blendshape track is (T, 51) float32: MediaPipe's ARKit blendshapes in
:data:`~espnet_cause.arkit.BLENDSHAPE_NAMES` order, scores in 0..1, NaN rows where the face was
lost. The CSV (what ``extract_au`` writes as ``<name>.blendshapes.csv`` next to ``<name>.csv``)::

    frame,timestamp,success,browDownLeft,...,noseSneerRight[,headYaw,headPitch,headRoll]

``frame`` counts from 1 and ``timestamp`` is in seconds, as in OpenFace CSVs; the optional
head rotation columns are in degrees (:data:`~espnet_cause.arkit.HEAD_POSE_NAMES`). The reader
selects columns by name, so extra columns and other orders are fine.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from espnet_cause.arkit import BLENDSHAPE_NAMES, HEAD_POSE_NAMES, NUM_BLENDSHAPES
from espnet_cause.au import DEFAULT_AU_FPS
from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write

#: Suffix that ``extract_au`` gives the blendshape CSV of ``<name>.csv``.
BLENDSHAPE_CSV_SUFFIX = ".blendshapes.csv"
LEADING_COLUMNS = ("frame", "timestamp", "success")


def blendshape_csv_path(au_csv: str | os.PathLike) -> Path:
    """``dir/name.csv`` -> ``dir/name.blendshapes.csv``."""
    p = Path(au_csv)
    return p.with_name(p.name.removesuffix(p.suffix) + BLENDSHAPE_CSV_SUFFIX)


def write_blendshape_csv(
    path: str | os.PathLike,
    values: np.ndarray,
    timestamps: np.ndarray,
    head_pose: np.ndarray | None = None,
) -> Path:
    """Write a blendshape CSV atomically.

    Args:
        path: Output file.
        values: (T, 51) scores (NaN rows: face lost, written as ``success`` 0 and empty cells).
        timestamps: (T,) seconds.
        head_pose: (T, 3) yaw, pitch, roll in degrees, or None (no columns).
    """
    path = Path(path)
    values = _check(values, path)
    timestamps = np.asarray(timestamps, dtype=np.float64)
    if timestamps.shape != (len(values),):
        raise ValueError(f"timestamps have shape {timestamps.shape}, expected ({len(values)},)")
    header = list(LEADING_COLUMNS) + list(BLENDSHAPE_NAMES)
    columns = [values]
    if head_pose is not None:
        head_pose = np.asarray(head_pose, dtype=np.float32)
        if head_pose.shape != (len(values), len(HEAD_POSE_NAMES)):
            raise ValueError(f"head pose has shape {head_pose.shape}, expected ({len(values)}, 3)")
        header += list(HEAD_POSE_NAMES)
        columns.append(head_pose)
    table = np.hstack(columns) if len(values) else np.zeros((0, len(header) - 3))
    lines = [",".join(header)]
    for i, row in enumerate(table):
        ok = not np.isnan(row[:NUM_BLENDSHAPES]).any()
        cells = [str(i + 1), f"{timestamps[i]:.3f}", "1" if ok else "0"]
        cells += ["" if np.isnan(v) else f"{v:.6f}" for v in row.tolist()]
        lines.append(",".join(cells))
    with atomic_write(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_blendshape_csv(
    path: str | os.PathLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Read a blendshape CSV.

    Returns:
        ``(values, timestamps, head_pose)``: (T, 51) float32 (NaN where ``success`` is 0 or a
        cell is empty), (T,) float64 seconds, and (T, 3) float32 degrees or None.

    Raises:
        CauseError: naming the file and line when it is not a blendshape CSV.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise CauseError("file not found", path=path, fix="check the path") from None
    except (OSError, UnicodeDecodeError) as e:
        raise CauseError(f"cannot read the blendshape CSV: {e}", path=path) from None
    header = [c.strip() for c in lines[0].split(",")] if lines else []
    missing = [c for c in ("timestamp", *BLENDSHAPE_NAMES) if c not in header]
    if missing:
        raise CauseError(
            f"not a blendshape CSV: no column {missing[0]!r}",
            path=path,
            line=1,
            fix="write it with extract_au or espnet_cause.io.blendshapes.write_blendshape_csv",
        )
    col = {c: i for i, c in enumerate(header)}
    has_pose = all(c in col for c in HEAD_POSE_NAMES)
    rows, times, poses = [], [], []
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split(",")]
        if len(cells) != len(header):
            raise CauseError(f"{len(cells)} cells, expected {len(header)}", path=path, line=n)
        try:
            values = [float(cells[col[c]]) if cells[col[c]] else np.nan for c in BLENDSHAPE_NAMES]
            if "success" in col and cells[col["success"]] in ("0", "0.0"):
                values = [np.nan] * NUM_BLENDSHAPES
            times.append(float(cells[col["timestamp"]]))
            if has_pose:
                poses.append(
                    [float(cells[col[c]]) if cells[col[c]] else np.nan for c in HEAD_POSE_NAMES]
                )
        except ValueError as e:
            raise CauseError(f"not a number: {e}", path=path, line=n) from None
        rows.append(values)
    values = np.asarray(rows, np.float32).reshape(-1, NUM_BLENDSHAPES)
    pose = np.asarray(poses, np.float32).reshape(-1, 3) if has_pose else None
    return values, np.asarray(times, np.float64), pose


def write_blendshapes(
    path: str | os.PathLike, values: np.ndarray, fps: float = DEFAULT_AU_FPS
) -> Path:
    """Write a (T, 51) track on a regular grid as ``.csv`` or ``.npy`` (by suffix)."""
    path = Path(path)
    values = _check(values, path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return write_blendshape_csv(path, values, np.arange(len(values)) / fps)
    if suffix == ".npy":
        with atomic_write(path) as tmp:
            np.save(tmp, values)
        return path
    raise CauseError(f"unknown blendshape file type {suffix!r}", path=path, fix="use .csv or .npy")


def _check(values: np.ndarray, path: Path) -> np.ndarray:
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 2 or values.shape[1] != NUM_BLENDSHAPES:
        raise CauseError(
            f"blendshape array has shape {values.shape}, expected (T, {NUM_BLENDSHAPES})",
            path=path,
            fix="one column per MediaPipe ARKit blendshape (espnet_cause.arkit.BLENDSHAPE_NAMES)",
        )
    return values
