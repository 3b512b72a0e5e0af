"""OpenFace-style CSV: the AU file format that both face trackers write and one reader reads.

OpenFace 2.x ``FeatureExtraction`` writes one row per frame. Its output varies between versions
and options: ``", "`` (2.0) or ``","`` (2.2) separators, a ``face_id`` column or not, several
faces per frame, ``success``/``confidence`` columns, 17 ``AUxx_r`` intensity and 18 ``AUxx_c``
presence columns among hundreds of others. Columns are always selected by name.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from espnet_cause.au import AU_INTENSITY_COLUMNS, NUM_AUS
from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.text import read_text_lines
from espnet_cause.io.track import AUTrack

#: Columns written by :func:`write_openface_csv`, in order.
CSV_COLUMNS: tuple[str, ...] = (
    "frame", "face_id", "timestamp", "confidence", "success", *AU_INTENSITY_COLUMNS,
)  # fmt: skip


def read_openface_csv(path: str | os.PathLike, face_id: int | None = None) -> AUTrack:
    """Read the AU intensities of one face from an OpenFace-style CSV.

    Args:
        path: The CSV file.
        face_id: Face to read when the file has a ``face_id`` column. By default the face
            with the most successful frames.

    Returns:
        The face's track: (T, 17) intensities, timestamps, success and confidence. The raw
        values of failed frames are kept; :meth:`AUTrack.valid_mask` excludes them.

    Raises:
        CauseError: naming the file (and line) for an empty file, missing AU or timestamp
            columns, unparsable or NaN values, timestamps going backwards, or an unknown face.
    """
    path = Path(path)
    text_lines = read_text_lines(path)
    lines = [(i + 1, ln) for i, ln in enumerate(text_lines) if ln.strip()]
    if not lines:
        raise CauseError(
            "empty file: no header and no frames",
            path=path,
            fix="re-run OpenFace FeatureExtraction with -aus on the video",
        )
    header = [c.strip() for c in lines[0][1].split(",")]
    col = {name: i for i, name in enumerate(header)}
    missing = [c for c in AU_INTENSITY_COLUMNS if c not in col]
    if missing:
        raise CauseError(
            f"no AU intensity columns {', '.join(missing)} in the header",
            path=path,
            line=lines[0][0],
            fix="produce the CSV with OpenFace FeatureExtraction -aus (17 AUxx_r columns)",
        )
    if "timestamp" not in col:
        raise CauseError(
            "no 'timestamp' column in the header",
            path=path,
            line=lines[0][0],
            fix="use the CSV as OpenFace wrote it, or add a timestamp column in seconds",
        )
    rows = lines[1:]
    if not rows:
        raise CauseError("header only, no frames", path=path, fix="check the video had frames")

    wanted = [col[c] for c in AU_INTENSITY_COLUMNS] + [col["timestamp"]]
    optional = {name: col.get(name) for name in ("face_id", "success", "confidence")}
    data = np.empty((len(rows), len(wanted) + 3), dtype=np.float64)
    for r, (lineno, line) in enumerate(rows):
        fields = line.split(",")
        if len(fields) != len(header):
            raise CauseError(
                f"{len(fields)} fields, the header has {len(header)}",
                path=path,
                line=lineno,
                fix="the file is truncated or corrupt; re-run the extractor",
            )
        try:
            values = [float(fields[i]) for i in wanted]
            extra = [
                float(fields[optional[n]]) if optional[n] is not None else default
                for n, default in (("face_id", 0.0), ("success", 1.0), ("confidence", 1.0))
            ]
        except ValueError as e:
            raise CauseError(f"not a number: {e}", path=path, line=lineno) from None
        if any(math.isnan(x) for x in values + extra):
            bad = [header[i] for i, x in zip(wanted, values) if math.isnan(x)]
            raise CauseError(
                f"NaN value in {', '.join(bad) or 'face_id/success/confidence'}",
                path=path,
                line=lineno,
                fix="mark failed frames with success 0 instead of NaN values",
            )
        data[r, : len(wanted)] = values
        data[r, len(wanted) :] = extra

    faces = data[:, NUM_AUS + 1].astype(np.int64)
    success = data[:, NUM_AUS + 2] > 0.5
    face_ids = sorted(set(faces.tolist()))
    if face_id is None:
        face_id = max(face_ids, key=lambda f: (int(success[faces == f].sum()), -f))
    elif face_id not in face_ids:
        raise CauseError(
            f"no face_id {face_id}; the file has face_id {', '.join(map(str, face_ids))}",
            path=path,
            fix="pass one of those face ids",
        )
    sel = faces == face_id
    line_numbers = np.array([ln for ln, _ in rows])[sel]
    timestamps = data[sel, NUM_AUS]
    back = np.flatnonzero(np.diff(timestamps) < 0)
    if len(back):
        i = int(back[0]) + 1
        raise CauseError(
            f"timestamp goes backwards ({timestamps[i - 1]:.3f} s, then {timestamps[i]:.3f} s)"
            + (f" for face_id {face_id}" if optional["face_id"] is not None else ""),
            path=path,
            line=int(line_numbers[i]),
            fix="frames must be in time order; re-run the extractor on the whole video",
        )
    diffs = np.diff(timestamps)
    diffs = diffs[diffs > 0]
    fps = float(round(1.0 / np.median(diffs), 3)) if len(diffs) else None
    return AUTrack(
        intensities=data[sel, :NUM_AUS].astype(np.float32),
        timestamps=timestamps,
        success=success[sel],
        confidence=data[sel, NUM_AUS + 3].astype(np.float32),
        fps=fps,
        source=str(path),
    )


def openface_csv_text(track: AUTrack, face_id: int = 0) -> str:
    """A track as OpenFace-style CSV text (``frame,face_id,timestamp,confidence,success,AU..``).

    Frames with NaN intensities are written as OpenFace writes failed frames: success 0,
    confidence 0 and zero intensities, so that readers treat them as missing.

    Args:
        track: The track to write.
        face_id: Value of the ``face_id`` column.
    """
    values = track.intensities
    nan = np.isnan(values).any(axis=1)
    success = track.success & ~nan
    confidence = np.where(nan, 0.0, track.confidence)
    lines = [",".join(CSV_COLUMNS)]
    values = np.where(nan[:, None], 0.0, values)
    for i in range(len(track)):
        aus = ",".join(f"{x:.4f}" for x in values[i])
        lines.append(
            f"{i + 1},{face_id},{track.timestamps[i]:.6f},{confidence[i]:.3f},{int(success[i])},{aus}"
        )
    return "\n".join(lines) + "\n"


def write_openface_csv(path: str | os.PathLike, track: AUTrack, face_id: int = 0) -> None:
    """Write :func:`openface_csv_text` of a track to ``path``; the file appears whole or not at all."""
    with atomic_write(path) as tmp:
        Path(tmp).write_text(openface_csv_text(track, face_id), encoding="utf-8")
