"""The ``--side_by_side`` panel: AU intensity bars with their names and the speech waveform with a
moving cursor. Static parts (labels, scale, waveform) are drawn once; a frame only fills bars."""

from __future__ import annotations

import numpy as np

from espnet_cause.au import AU_FACS_NAMES, AU_INTENSITY_MAX, AU_NAMES, NUM_AUS

#: Panel colours (RGB).
BACKGROUND = (24, 24, 28)
TEXT = (225, 225, 225)
GRID = (70, 70, 78)
BAR = (90, 180, 250)
BAR_HIGH = (250, 160, 60)
WAVE = (140, 200, 140)
CURSOR = (250, 80, 80)
#: Fraction of the panel height used by the AU bars (the rest shows the waveform).
BARS_FRACTION = 0.72
#: Fraction of the panel width used by the AU labels.
LABEL_FRACTION = 0.5
#: Intensities at or above this are drawn in the highlight colour.
HIGH_INTENSITY = 2.5
#: Narrowest panel in pixels (so that the labels stay readable).
MIN_WIDTH = 320


class SidePanel:
    """Draw panel frames for an AU sequence and (optionally) its speech.

    Args:
        aus: (T, 17) AU intensities (0-5).
        height: Panel height in pixels (the video frame height).
        width: Panel width in pixels; default ``max(height, MIN_WIDTH)``.
        audio: (N,) speech samples, or None.
        sample_rate: Their sample rate.
        fps: Frame rate of ``aus``.
    """

    def __init__(
        self,
        aus: np.ndarray,
        height: int,
        width: int | None = None,
        audio: np.ndarray | None = None,
        sample_rate: int | None = None,
        fps: float = 25.0,
    ) -> None:
        import cv2

        self.aus = np.nan_to_num(np.asarray(aus, dtype=np.float32), nan=0.0)
        self.height = int(height)
        self.width = int(width or max(height, MIN_WIDTH))
        self.width += self.width % 2
        self.fps = fps
        h, w = self.height, self.width
        bg = np.empty((h, w, 3), np.uint8)
        bg[:] = BACKGROUND
        bars_h = int(h * BARS_FRACTION) if audio is not None else h
        self.row_h = bars_h / (NUM_AUS + 1)
        self.bar_x0 = int(w * LABEL_FRACTION)
        self.bar_x1 = w - 8
        font = cv2.FONT_HERSHEY_SIMPLEX
        scale = max(0.25, min(0.45, self.row_h / 28.0, w / 900.0))
        thick = 1
        for k, name in enumerate(AU_NAMES):
            y = int((k + 1) * self.row_h)
            label = f"{name} {AU_FACS_NAMES[name]}"
            cv2.putText(bg, label, (4, y + int(self.row_h * 0.35)), font, scale, TEXT, thick,
                        cv2.LINE_AA)  # fmt: skip
        for level in range(int(AU_INTENSITY_MAX) + 1):
            x = self._bar_x(level)
            cv2.line(bg, (x, int(self.row_h * 0.5)), (x, bars_h - 2), GRID, 1)
            cv2.putText(bg, str(level), (x - 3, int(self.row_h * 0.45)), font, scale, TEXT, thick,
                        cv2.LINE_AA)  # fmt: skip
        self.bars_h = bars_h
        self.wave_y0, self.wave_y1 = bars_h + 4, h - 4
        self.num_samples = 0
        if audio is not None and sample_rate:
            self._draw_wave(bg, np.asarray(audio, np.float32).reshape(-1), cv2)
            self.duration = len(audio) / sample_rate
        else:
            self.duration = len(self.aus) / fps
        self.background = bg

    def _bar_x(self, value: float) -> int:
        return int(self.bar_x0 + (self.bar_x1 - self.bar_x0) * value / AU_INTENSITY_MAX)

    def _draw_wave(self, bg: np.ndarray, audio: np.ndarray, cv2) -> None:
        y0, y1 = self.wave_y0, self.wave_y1
        if y1 - y0 < 4 or len(audio) == 0:
            return
        w = self.width
        edges = np.linspace(0, len(audio), w + 1).astype(int)
        peak = max(float(np.abs(audio).max()), 1e-6)
        mid, half = (y0 + y1) / 2.0, (y1 - y0) / 2.0
        for x in range(w):
            seg = audio[edges[x] : max(edges[x + 1], edges[x] + 1)]
            top = int(mid - half * float(seg.max()) / peak)
            bottom = int(mid - half * float(seg.min()) / peak)
            bg[max(top, y0) : min(bottom + 1, y1), x] = WAVE
        cv2.line(bg, (0, y0 - 2), (w, y0 - 2), GRID, 1)

    def draw(self, index: int) -> np.ndarray:
        """Panel for frame ``index``: (height, width, 3) uint8 RGB."""
        out = self.background.copy()
        row = self.aus[min(max(index, 0), len(self.aus) - 1)] if len(self.aus) else None
        if row is not None:
            bar_half = max(1, int(self.row_h * 0.32))
            for k, value in enumerate(np.clip(row, 0.0, AU_INTENSITY_MAX)):
                y = int((k + 1) * self.row_h)
                x1 = self._bar_x(float(value))
                colour = BAR_HIGH if value >= HIGH_INTENSITY else BAR
                out[y - bar_half : y + bar_half, self.bar_x0 : max(x1, self.bar_x0 + 1)] = colour
        if self.wave_y1 > self.wave_y0 and self.duration > 0:
            x = int(np.clip(index / self.fps / self.duration, 0.0, 1.0) * (self.width - 1))
            out[self.wave_y0 : self.wave_y1, max(x - 1, 0) : x + 1] = CURSOR
        return out

    def compose(self, frame: np.ndarray, index: int) -> np.ndarray:
        """The video frame with the panel on its right: (H, W + width, 3) uint8."""
        return np.concatenate([frame, self.draw(index)], axis=1)
