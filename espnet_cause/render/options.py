"""The warp renderer's settings: their ranges and the one range check with a clear error.

:class:`~espnet_cause.render.warp.WarpRenderer` checks its gain, head motion, blink rate and frame
rate with :func:`check_range`; the ``render`` CLI and job check theirs against the same ranges.
"""

from __future__ import annotations

import math

from espnet_cause.errors import CauseError

#: Ranges of the renderer's settings (checked with a clear error).
GAIN_RANGE = (0.0, 4.0)
HEAD_MOTION_RANGE = (0.0, 4.0)
BLINK_RATE_RANGE = (0.0, 60.0)
FPS_RANGE = (1.0, 120.0)


def check_range(name: str, value: float, bounds: tuple[float, float], fix: str = "") -> float:
    """``value`` as a float, or CauseError naming the option, the value and the range."""
    lo, hi = bounds
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and lo <= number <= hi):
        raise CauseError(
            f"{name} must be a number from {lo:g} to {hi:g}, got {value}", fix=fix or None
        )
    return number
