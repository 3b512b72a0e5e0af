"""ARKit blendshape animation files for avatar tools: Live Link Face CSV and ARKit JSON.

Live Link Face CSV (what Epic's Live Link Face app records, and what Unreal's
LiveLinkFaceImporter plugin and the Blender/Maya Live Link Face importers read)::

    Timecode,BlendShapeCount,EyeBlinkLeft,...,TongueOut,HeadYaw,...,RightEyeRoll
    00:00:00:00.000,61,0.012345,...

- ``Timecode`` is ``HH:MM:SS:FF.mmm``: the frame's time with ``FF`` the frame number within the
  second at the take's frame rate and ``mmm`` the sub-frame fraction in thousandths (``000`` on
  a regular grid; non-integer rates such as 29.97 give fractions).
- ``BlendShapeCount`` is 61: the 52 blendshapes in :data:`~espnet_cause.arkit.LIVELINK_NAMES`
  order (PascalCase) and the 9 head and eye rotations
  (:data:`~espnet_cause.arkit.LIVELINK_ROTATION_NAMES`).
- Blendshape weights are in 0..1 (clipped); rotations (radians) are written as given (0 when
  none are given; :mod:`espnet_cause.avatar.head` makes them from the speech).

ARKit JSON (for web players)::

    {"fps": 60.0, "names": ["eyeBlinkLeft", ...52 ARKit names], "frames": [[...52], ...],
     "rotation_names": ["HeadYaw", ...9], "rotations": [[...9], ...]}

frame ``k`` at ``k / fps`` seconds, names in Apple's order (:data:`~espnet_cause.arkit.ARKIT_NAMES`);
the head and eye rotations (radians, Live Link order) are there when the writer is given them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from espnet_cause.arkit import (
    ARKIT_NAMES,
    BLENDSHAPE_MAX,
    BLENDSHAPE_MIN,
    LIVELINK_NAMES,
    LIVELINK_ROTATION_NAMES,
    reorder,
)
from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write

#: Header of a Live Link Face CSV.
LIVELINK_HEADER: tuple[str, ...] = (
    ("Timecode", "BlendShapeCount") + LIVELINK_NAMES + LIVELINK_ROTATION_NAMES
)
#: The ``BlendShapeCount`` value: 52 blendshapes + 9 rotations.
LIVELINK_COUNT: int = len(LIVELINK_NAMES) + len(LIVELINK_ROTATION_NAMES)
#: Live Link Face records at 60 fps by default.
DEFAULT_LIVELINK_FPS: float = 60.0
#: Decimals written per value.
DECIMALS = 6


def livelink_timecode(frame: int, fps: float) -> str:
    """``HH:MM:SS:FF.mmm`` of frame ``frame`` (at ``frame / fps`` seconds).

    Example:
        >>> livelink_timecode(61, 60.0)
        '00:00:01:01.000'
    """
    if not fps > 0 or not math.isfinite(fps):
        raise ValueError(f"frame rate must be positive, got {fps}")
    eps = 1e-6
    seconds = int(math.floor(frame / fps + eps))
    within = frame - seconds * fps  # frames into the second (may be fractional)
    ff = int(math.floor(within + eps))
    sub = min(int(round((within - ff) * 1000.0)), 999) if within - ff > eps else 0
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}:{ff:02d}.{sub:03d}"


def parse_livelink_timecode(text: str, fps: float) -> float:
    """Seconds of a ``HH:MM:SS:FF[.mmm]`` timecode at ``fps`` (inverse of the writer)."""
    try:
        h, m, s, frames = text.strip().split(":")
        return int(h) * 3600 + int(m) * 60 + int(s) + float(frames) / fps
    except ValueError:
        raise ValueError(f"not a Live Link timecode (HH:MM:SS:FF.mmm): {text!r}") from None


def _checked(values: np.ndarray, names: Sequence[str], path: Path) -> np.ndarray:
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 2 or values.shape[1] != len(names):
        raise CauseError(
            f"blendshape array has shape {values.shape}, expected (T, {len(names)})", path=path
        )
    if not np.isfinite(values).all():
        raise CauseError(
            "blendshape array has NaN or infinite values", path=path, fix="fill missing frames"
        )
    return np.clip(reorder(values, names, ARKIT_NAMES), BLENDSHAPE_MIN, BLENDSHAPE_MAX)


def write_livelink_csv(
    path: str | os.PathLike,
    values: np.ndarray,
    names: Sequence[str],
    fps: float = DEFAULT_LIVELINK_FPS,
    rotations: np.ndarray | None = None,
) -> Path:
    """Write a Live Link Face CSV atomically, one row per frame.

    Args:
        path: Output ``.csv``.
        values: (T, B) blendshape weights in 0..1, frame ``k`` at ``k / fps``.
        names: The B ARKit names of the columns (either spelling; missing ones are written 0).
        fps: Frame rate of the rows.
        rotations: (T, 9) head and eye rotations in Live Link order, or None (zeros).

    Returns:
        The path written.
    """
    path = Path(path)
    shapes = reorder(_checked(values, names, path), ARKIT_NAMES, LIVELINK_NAMES)
    if rotations is None:
        rotations = np.zeros((len(shapes), len(LIVELINK_ROTATION_NAMES)), np.float32)
    rotations = np.asarray(rotations, dtype=np.float32)
    if rotations.shape != (len(shapes), len(LIVELINK_ROTATION_NAMES)):
        raise CauseError(
            f"rotation array has shape {rotations.shape}, expected ({len(shapes)}, 9)", path=path
        )
    lines = [",".join(LIVELINK_HEADER)]
    for k, row in enumerate(np.hstack([shapes, rotations])):
        cells = [livelink_timecode(k, fps), str(LIVELINK_COUNT)]
        cells += [f"{v:.{DECIMALS}f}" for v in row.tolist()]
        lines.append(",".join(cells))
    with atomic_write(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_livelink_csv(
    path: str | os.PathLike, fps: float = DEFAULT_LIVELINK_FPS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a Live Link Face CSV (columns found by name).

    Args:
        path: The CSV.
        fps: The take's frame rate (the file does not store it; needed for the times).

    Returns:
        ``(times, blendshapes, rotations)``: (T,) seconds relative to the first row, (T, 52)
        weights in :data:`~espnet_cause.arkit.ARKIT_NAMES` order, (T, 9) rotations (NaN where
        the file has no such column).

    Raises:
        CauseError: naming the file and line for a malformed file.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise CauseError(f"cannot read the Live Link CSV: {e}", path=path) from None
    if not lines:
        raise CauseError("empty file, expected a Live Link Face CSV header", path=path)
    header = [c.strip() for c in lines[0].split(",")]
    if header[:1] != ["Timecode"] or not set(LIVELINK_NAMES) & set(header):
        raise CauseError(
            "not a Live Link Face CSV (no Timecode and blendshape columns)", path=path, line=1
        )
    col = {name: i for i, name in enumerate(header)}
    times, shapes, rots = [], [], []
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) != len(header):
            raise CauseError(f"{len(cells)} cells, expected {len(header)}", path=path, line=n)
        try:
            times.append(parse_livelink_timecode(cells[0], fps))
            shapes.append([float(cells[col[c]]) if c in col else 0.0 for c in LIVELINK_NAMES])
            rots.append(
                [float(cells[col[c]]) if c in col else np.nan for c in LIVELINK_ROTATION_NAMES]
            )
        except ValueError as e:
            raise CauseError(str(e), path=path, line=n) from None
    t = np.asarray(times, np.float64)
    values = reorder(np.asarray(shapes, np.float32).reshape(-1, 52), LIVELINK_NAMES, ARKIT_NAMES)
    return t - (t[0] if len(t) else 0.0), values, np.asarray(rots, np.float32).reshape(-1, 9)


def write_arkit_json(
    path: str | os.PathLike,
    values: np.ndarray,
    names: Sequence[str],
    fps: float,
    rotations: np.ndarray | None = None,
) -> Path:
    """Write ``{"fps", "names", "frames"[, "rotation_names", "rotations"]}`` atomically.

    Args:
        path: Output ``.json``.
        values: (T, B) blendshape weights in 0..1.
        names: The B ARKit names of the columns (missing ones are written 0).
        fps: Frame rate of the rows.
        rotations: (T, 9) head and eye rotations (radians, Live Link order), or None (left out).
    """
    path = Path(path)
    shapes = _checked(values, names, path)
    frames = np.round(shapes.astype(np.float64), DECIMALS).tolist()
    doc = {"fps": float(fps), "names": list(ARKIT_NAMES), "frames": frames}
    if rotations is not None:
        rotations = np.asarray(rotations, np.float64)
        if rotations.shape != (len(shapes), len(LIVELINK_ROTATION_NAMES)):
            raise CauseError(
                f"rotation array has shape {rotations.shape}, expected ({len(shapes)}, 9)",
                path=path,
            )
        doc["rotation_names"] = list(LIVELINK_ROTATION_NAMES)
        doc["rotations"] = np.round(rotations, DECIMALS).tolist()
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
    return path
