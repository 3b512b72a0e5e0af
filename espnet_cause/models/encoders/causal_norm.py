"""Causal per-band mean normalisation: each feature minus its mean over the last ``W`` frames.

A microphone's gain and a stationary EQ (mic response, room colour, codec) add a constant to
every log-mel band; the global MVN of the features scales that constant but does not remove it,
so a model trained on one recording chain sees another one's speech as "louder" or "brighter".
Subtracting each band's own recent mean removes any such constant exactly (once it has been
constant for ``W`` frames), like cepstral mean normalisation, but causally: frame ``t`` uses
frames ``max(0, t - W + 1) .. t`` only, the running mean of all frames so far while fewer than
``W`` have been seen. So it streams: the state is the last ``W - 1`` frames (NaN: no frame yet).
"""

from __future__ import annotations

import torch
from torch import nn


class CausalMeanNorm(nn.Module):
    """``x[t] - mean(x[max(0, t - W + 1) .. t])`` per feature.

    Args:
        window: ``W``, frames in the mean (>= 2).
    """

    def __init__(self, window: int) -> None:
        super().__init__()
        if window < 2:
            raise ValueError(f"window must be >= 2 frames, got {window}")
        self.window = int(window)

    def _windowed_mean(self, values: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """(B, D, W - 1 + t) values (0 where not valid) and validity -> (B, t, D) means."""
        # window averages (of the values and of the validity): their ratio is the mean of the
        # valid frames; average pooling keeps the graph free of shape-dependent kernels (ONNX)
        sums = nn.functional.avg_pool1d(values, self.window, stride=1)
        counts = nn.functional.avg_pool1d(valid, self.window, stride=1)
        return (sums / counts.clamp(min=0.5 / self.window)).transpose(1, 2)

    def init_state(self, batch_size: int, dim: int, device: torch.device | None = None):
        """(B, W - 1, D) of NaN: no frame seen yet."""
        return torch.full((batch_size, self.window - 1, dim), float("nan"), device=device)

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B, T, D) normalised (frames past a length do not affect earlier ones)."""
        h = xs.transpose(1, 2)
        values = nn.functional.pad(h, (self.window - 1, 0))
        valid = nn.functional.pad(torch.ones_like(h), (self.window - 1, 0))
        return xs - self._windowed_mean(values, valid)

    def forward_chunk(
        self, xs: torch.Tensor, state: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The next (B, t, D) frames of a stream and the (B, W - 1, D) state -> output, state."""
        full = torch.cat([state, xs], dim=1)
        h = full.transpose(1, 2)
        valid = ~torch.isnan(h)
        values = torch.where(valid, h, torch.zeros_like(h))
        out = xs - self._windowed_mean(values, valid.to(xs.dtype))
        return out, full[:, full.size(1) - (self.window - 1) :]
