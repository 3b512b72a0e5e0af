"""Contact-sheet tiles: square crops of rendered frames (the expression and sweep sheets)."""

from __future__ import annotations

import cv2
import numpy as np


def square_crop(
    frame: np.ndarray, box: tuple[int, int, int], cell: int, fill: int | None = None
) -> np.ndarray:
    """The square ``box`` of a frame resized to a tile.

    Args:
        frame: (H, W, 3) uint8 image.
        box: (x0, y0, side) in pixels; it may reach over the frame's border.
        cell: Side of the returned tile (pixels).
        fill: Grey level shown outside the frame (None: the border pixels repeated).

    Returns:
        (cell, cell, 3) uint8 tile.
    """
    x0, y0, side = box
    pad = side  # room for boxes that reach over the border
    if fill is None:
        padded = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    else:
        padded = cv2.copyMakeBorder(
            frame, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(fill,) * 3
        )
    crop = padded[y0 + pad : y0 + pad + side, x0 + pad : x0 + pad + side]
    return cv2.resize(crop, (cell, cell), interpolation=cv2.INTER_AREA)
