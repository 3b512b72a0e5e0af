"""Frame-wise CAUSE encoder: a stack of linear layers (no temporal context)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from espnet_cause.models.encoders.abs_encoder import AbsCAUSEEncoder, length_mask

DEFAULT_UNITS = (128, 128, 64, 64, 32, 32, 16, 16, 8, 8)


class MLPEncoder(AbsCAUSEEncoder):
    """``len(units)`` frame-wise Linear -> LeakyReLU -> Dropout layers.

    Frame-wise, hence causal and streamable by construction.

    Args:
        input_size: Feature dimension D.
        units: Output units of each layer (default 10 layers, 128 down to 8).
        dropout: Dropout probability after every layer.
        negative_slope: LeakyReLU slope.
    """

    def __init__(
        self,
        input_size: int,
        units: Sequence[int] = DEFAULT_UNITS,
        dropout: float = 0.1,
        negative_slope: float = 0.2,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i, o in zip([input_size] + list(units)[:-1], units):
            layers += [nn.Linear(i, o), nn.LeakyReLU(negative_slope), nn.Dropout(dropout)]
        self.layers = nn.Sequential(*layers)
        self._output_size = list(units)[-1]

    def output_size(self) -> int:
        return self._output_size

    @property
    def is_causal(self) -> bool:
        return True

    def forward(self, xs: torch.Tensor, ilens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """See :meth:`AbsCAUSEEncoder.forward`."""
        mask = length_mask(ilens, xs.size(1)).unsqueeze(-1).to(xs.dtype)
        return self.layers(xs) * mask, ilens

    def init_state(self, batch_size: int, device: torch.device | None = None) -> None:
        """No state: every frame is independent."""
        return None

    def forward_chunk(self, xs: torch.Tensor, state: None) -> tuple[torch.Tensor, None]:
        """See :meth:`AbsCAUSEEncoder.forward_chunk`."""
        return self.layers(xs), None
