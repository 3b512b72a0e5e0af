"""The emotion condition panel: one bar per emotion (posterior 0-1), masked classes greyed."""

from __future__ import annotations

import numpy as np

from espnet_cause.emotion import EMOTIONS, NUM_EMOTIONS
from espnet_cause.render.panel import BACKGROUND, BAR, BAR_HIGH, GRID, MIN_WIDTH, TEXT

#: Posteriors at or above this are drawn in the highlight colour.
HIGH_POSTERIOR = 0.5
#: Colour of the label of a class the recogniser cannot output.
MASKED_TEXT = (110, 110, 110)


class EmotionPanel:
    """Draw panel frames for an emotion posterior sequence.

    Args:
        posteriors: (T, 8) frame posteriors (rows sum to 1).
        height: Panel height in pixels.
        width: Panel width; default ``max(height, MIN_WIDTH)``.
        title: Drawn at the top.
    """

    def __init__(
        self, posteriors: np.ndarray, height: int, width: int | None = None, title: str = ""
    ) -> None:
        import cv2

        self.posteriors = np.nan_to_num(np.asarray(posteriors, np.float32), nan=0.0)
        self.height = int(height)
        self.width = int(width or max(height, MIN_WIDTH))
        self.width += self.width % 2
        h, w = self.height, self.width
        bg = np.empty((h, w, 3), np.uint8)
        bg[:] = BACKGROUND
        self.row_h = h / (NUM_EMOTIONS + 2)
        self.bar_x0, self.bar_x1 = int(w * 0.38), w - 8
        font, scale = cv2.FONT_HERSHEY_SIMPLEX, max(0.3, min(0.5, self.row_h / 26.0))
        cv2.putText(bg, title, (4, int(self.row_h * 0.7)), font, scale, TEXT, 1, cv2.LINE_AA)
        present = self.posteriors.max(0) > 0 if len(self.posteriors) else np.zeros(8, bool)
        for k, name in enumerate(EMOTIONS):
            y = int((k + 1.5) * self.row_h)
            colour = TEXT if present[k] else MASKED_TEXT
            cv2.putText(bg, name, (4, y + int(self.row_h * 0.2)), font, scale, colour, 1,
                        cv2.LINE_AA)  # fmt: skip
        for level in (0.0, 0.5, 1.0):
            x = self._bar_x(level)
            cv2.line(bg, (x, int(self.row_h)), (x, h - 2), GRID, 1)
        self.background = bg

    def _bar_x(self, value: float) -> int:
        return int(self.bar_x0 + (self.bar_x1 - self.bar_x0) * value)

    def draw(self, index: int) -> np.ndarray:
        """Panel for frame ``index``: (height, width, 3) uint8 RGB."""
        out = self.background.copy()
        if not len(self.posteriors):
            return out
        row = self.posteriors[min(max(index, 0), len(self.posteriors) - 1)]
        half = max(1, int(self.row_h * 0.3))
        for k, value in enumerate(np.clip(row, 0.0, 1.0)):
            y = int((k + 1.5) * self.row_h)
            x1 = max(self._bar_x(float(value)), self.bar_x0 + 1)
            out[y - half : y + half, self.bar_x0 : x1] = (
                BAR_HIGH if value >= HIGH_POSTERIOR else BAR
            )
        return out
