"""The AU track: an AU intensity sequence with its timing and per-frame tracking quality."""

from __future__ import annotations

import dataclasses
import logging
import math

import numpy as np

from espnet_cause.au import AU_INTENSITY_MAX, AU_INTENSITY_MIN, AU_NAMES, NUM_AUS
from espnet_cause.errors import CauseError
from espnet_cause.io.timegrid import interpolate_frames

logger = logging.getLogger(__name__)

#: Frames whose tracker confidence is below this are missing data (OpenFace's own cut-off is 0.5
#: for its "success" decision; 0.75 is a common stricter choice).
DEFAULT_MIN_CONFIDENCE = 0.5
#: Longest run of missing frames, in seconds, that resampling interpolates over.
DEFAULT_MAX_GAP = 0.5


@dataclasses.dataclass
class AUTrack:
    """An AU intensity sequence as read from a tracker or a file.

    Attributes:
        intensities: (T, 17) float32 AU intensities on the 0-5 scale, OpenFace order.
            NaN marks frames with no value (missing data, never zeros).
        timestamps: (T,) float64 frame times in seconds, non-decreasing.
        success: (T,) bool, False where the face tracker failed on the frame.
        confidence: (T,) float32 tracker confidence in [0, 1].
        fps: Nominal frame rate, or None when the timing is irregular.
        source: Where the track came from, used in messages.
        blendshapes: (T, 51) float32 ARKit blendshape scores in 0..1 of the same frames
            (:data:`espnet_cause.arkit.BLENDSHAPE_NAMES`), or None when the source has none.
        head_pose: (T, 3) float32 head yaw, pitch, roll in degrees, or None.
    """

    intensities: np.ndarray
    timestamps: np.ndarray
    success: np.ndarray
    confidence: np.ndarray
    fps: float | None = None
    source: str = ""
    blendshapes: np.ndarray | None = None
    head_pose: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.intensities = np.asarray(self.intensities, dtype=np.float32)
        if self.intensities.ndim != 2 or self.intensities.shape[1] != NUM_AUS:
            raise CauseError(
                f"AU array has shape {self.intensities.shape}, expected (T, {NUM_AUS})",
                path=self.source or None,
                fix=f"give one column per AU in OpenFace order ({NUM_AUS} columns)",
            )
        n = len(self.intensities)
        self.timestamps = np.asarray(self.timestamps, dtype=np.float64)
        self.success = np.asarray(self.success, dtype=bool)
        self.confidence = np.asarray(self.confidence, dtype=np.float32)
        for name in ("timestamps", "success", "confidence"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name} has shape {getattr(self, name).shape}, expected ({n},)")
        for name in ("blendshapes", "head_pose"):
            extra = getattr(self, name)
            if extra is not None:
                extra = np.asarray(extra, dtype=np.float32)
                if extra.ndim != 2 or len(extra) != n:
                    raise ValueError(f"{name} has shape {extra.shape}, expected ({n}, D)")
                setattr(self, name, extra)

    @classmethod
    def from_array(
        cls, intensities: np.ndarray, fps: float, start: float = 0.0, source: str = ""
    ) -> AUTrack:
        """A track on a regular grid; NaN rows are marked as failed frames.

        Args:
            intensities: (T, 17) AU intensities.
            fps: Frame rate of the rows.
            start: Time of the first row in seconds.
            source: Where the array came from, for messages.
        """
        values = np.asarray(intensities, dtype=np.float32)
        n = len(values)
        ok = ~np.isnan(values).any(axis=1) if values.ndim == 2 else np.ones(n, bool)
        return cls(
            intensities=values,
            timestamps=start + np.arange(n, dtype=np.float64) / fps,
            success=ok,
            confidence=ok.astype(np.float32),
            fps=float(fps),
            source=source,
        )

    def __len__(self) -> int:
        return len(self.intensities)

    @property
    def duration(self) -> float:
        """Seconds covered by the track (last timestamp plus one frame period)."""
        if len(self) == 0:
            return 0.0
        period = 1.0 / self.fps if self.fps else 0.0
        return float(self.timestamps[-1]) + period

    def valid_mask(self, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> np.ndarray:
        """(T,) bool: frames that carry a usable AU value."""
        return (
            self.success
            & (self.confidence >= min_confidence)
            & ~np.isnan(self.intensities).any(axis=1)
        )

    def resample(
        self,
        fps: float,
        *,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        max_gap: float = DEFAULT_MAX_GAP,
        num_frames: int | None = None,
    ) -> tuple[AUTrack, GapReport]:
        """Resample by timestamp to a regular grid ``k / fps``, k = 0 .. num_frames - 1.

        Failed and low-confidence frames are missing data. A grid point whose surrounding gap of
        missing data is at most ``max_gap`` seconds is linearly interpolated between the valid
        frames around it (or takes the nearest valid value at the track's ends); a point inside a
        longer gap stays NaN and the report is flagged.

        Args:
            fps: Target frame rate.
            min_confidence: Frames below this confidence are missing.
            max_gap: Longest gap in seconds that is filled.
            num_frames: Output length; by default the grid covers the track's timestamps.

        Returns:
            The resampled track ((num_frames, 17), NaN inside long gaps) and its gap report.
            Blendshapes and head pose, when present, are resampled the same way.
        """
        if fps <= 0 or not math.isfinite(fps):
            raise CauseError(f"frame rate must be positive, got {fps}", fix="pass --fps > 0")
        if num_frames is None:
            last = float(self.timestamps[-1]) if len(self) else -1.0
            num_frames = int(math.floor(last * fps + 1e-6)) + 1 if len(self) else 0
        grid = np.arange(num_frames, dtype=np.float64) / fps
        valid = self.valid_mask(min_confidence)
        t = self.timestamps[valid]
        extras = [x for x in (self.blendshapes, self.head_pose) if x is not None]
        v = np.hstack([self.intensities] + extras)[valid]
        out = np.full((num_frames, v.shape[1]), np.nan, dtype=np.float32)
        if len(t) == 0:
            report = GapReport(num_frames, num_frames, grid[-1] - grid[0] if num_frames else 0.0)
            return self._on_grid(out, fps), report

        # Index of the first valid frame at or after each grid time.
        right = np.searchsorted(t, grid, side="left")
        left = right - 1
        has_left = left >= 0
        has_right = right < len(t)
        # Gap length around each grid point: distance between the valid frames that bound it,
        # or, at the ends, distance to the single valid neighbour.
        exact = has_right & (t[np.minimum(right, len(t) - 1)] == grid)
        t_left = np.where(has_left, t[np.maximum(left, 0)], -np.inf)
        t_right = np.where(has_right, t[np.minimum(right, len(t) - 1)], np.inf)
        span = np.where(has_left & has_right, t_right - t_left, 0.0)
        span = np.where(~has_left, t_right - grid, span)
        span = np.where(~has_right, grid - t_left, span)
        # A frame period of slack: consecutive valid frames are one period apart, not a gap.
        period = 1.0 / self.fps if self.fps else np.median(np.diff(t)) if len(t) > 1 else 0.0
        fill = exact | (span <= max_gap + period + 1e-9)

        # Linear between the valid frames around each filled point, held at the track's ends.
        out[fill] = interpolate_frames(v, t, grid[fill])
        np.clip(out[:, :NUM_AUS], AU_INTENSITY_MIN, AU_INTENSITY_MAX, out=out[:, :NUM_AUS])
        if self.blendshapes is not None:
            bs = slice(NUM_AUS, NUM_AUS + self.blendshapes.shape[1])
            np.clip(out[:, bs], 0.0, 1.0, out=out[:, bs])

        missing = ~fill
        report = GapReport(
            num_frames=num_frames,
            num_missing=int(missing.sum()),
            longest_gap=_longest_run(missing) / fps,
            num_source_missing=int((~valid).sum()),
        )
        return self._on_grid(out, fps), report

    def _on_grid(self, values: np.ndarray, fps: float) -> AUTrack:
        """A regular-grid track from resampled columns: AUs, then blendshapes and head pose."""
        aus, rest = values[:, :NUM_AUS], values[:, NUM_AUS:]
        extra = {}
        for name in ("blendshapes", "head_pose"):
            width = getattr(self, name).shape[1] if getattr(self, name) is not None else 0
            if width:
                extra[name], rest = rest[:, :width], rest[:, width:]
        ok = ~np.isnan(aus).any(axis=1)
        return AUTrack(
            intensities=np.ascontiguousarray(aus),
            timestamps=np.arange(len(values), dtype=np.float64) / fps,
            success=ok,
            confidence=ok.astype(np.float32),
            fps=float(fps),
            source=self.source,
            **{k: np.ascontiguousarray(v) for k, v in extra.items()},
        )


@dataclasses.dataclass
class GapReport:
    """What resampling found missing.

    Attributes:
        num_frames: Frames on the output grid.
        num_missing: Output frames left NaN because they sit in a gap longer than ``max_gap``.
        longest_gap: Longest run of NaN output frames, in seconds.
        num_source_missing: Input frames that were failed or below the confidence threshold.
    """

    num_frames: int
    num_missing: int
    longest_gap: float
    num_source_missing: int = 0

    @property
    def flagged(self) -> bool:
        """True when some output frames could not be filled."""
        return self.num_missing > 0

    @property
    def missing_fraction(self) -> float:
        return self.num_missing / self.num_frames if self.num_frames else 1.0


def _longest_run(mask: np.ndarray) -> int:
    """Length of the longest run of True in a 1-D bool array."""
    if not mask.any():
        return 0
    padded = np.concatenate([[0], mask.astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return int((edges[1::2] - edges[::2]).max())


def fill_gaps(values: np.ndarray, fill_value: float = 0.0) -> np.ndarray:
    """Fill the NaN (missing) values of an AU matrix, column by column.

    Inside a column, a missing value is linearly interpolated between the nearest valid values
    before and after it; before the first and after the last valid value the edge value holds;
    a column without any valid value becomes ``fill_value``.

    Args:
        values: (T, C) array with NaN where the tracker failed.
        fill_value: Value of columns that have no valid entry.

    Returns:
        (T, C) float32 copy without NaN.
    """
    values = np.array(values, dtype=np.float32)
    t = np.arange(len(values))
    for j in range(values.shape[1]):
        column = values[:, j]
        bad = np.isnan(column)
        if not bad.any():
            continue
        if bad.all():
            column[:] = fill_value
            continue
        column[bad] = np.interp(t[bad], t[~bad], column[~bad])
    return values


def check_au_values(track: AUTrack) -> AUTrack:
    """Apply the one rule for AU values read from a file; returns the (clipped) track.

    - NaN is missing data (a failed frame) and stays; a track without one usable frame
      (every frame failed or NaN) is refused.
    - Infinite values are refused: they are no intensity and no missing-data marker.
    - Finite values outside the 0-5 scale are clipped to it, with a warning giving the count.

    Raises:
        CauseError: naming the track's source, with counts and the first bad frame.
    """
    values = track.intensities
    source = track.source or None
    inf = np.isinf(values)
    if inf.any():
        frame, au = (int(i) for i in np.argwhere(inf)[0])

        raise CauseError(
            f"{int(inf.sum())} infinite AU values (first: frame {frame}, {AU_NAMES[au]} = "
            f"{values[frame, au]})",
            path=source,
            fix="write missing frames as NaN (or empty CSV cells) and intensities on the 0-5 scale",
        )
    if len(track) and not track.valid_mask(min_confidence=0.0).any():
        raise CauseError(
            f"no usable frame: all {len(track)} frames are missing (NaN or failed)",
            path=source,
            fix="check the face tracking of this file (no frame had a face)",
        )
    low, high = values < AU_INTENSITY_MIN, values > AU_INTENSITY_MAX
    count = int(low.sum() + high.sum())
    if count:
        logger.warning(
            "%s: %d of %d AU values outside %g-%g clipped (min %.3g, max %.3g)",
            track.source or "AU track",
            count,
            values.size,
            AU_INTENSITY_MIN,
            AU_INTENSITY_MAX,
            float(np.nanmin(values)),
            float(np.nanmax(values)),
        )
        track.intensities = np.clip(values, AU_INTENSITY_MIN, AU_INTENSITY_MAX)
    return track
