"""Recurrent CAUSE encoder: frame-wise linear layer, then a (Bi)LSTM stack."""

from __future__ import annotations

import torch
from torch import nn

from espnet_cause.models.encoders.abs_encoder import AbsCAUSEEncoder, length_mask


class RNNEncoder(AbsCAUSEEncoder):
    """Linear ``hidden_size`` -> LeakyReLU -> ``num_layers`` LSTM layers.

    Bidirectional by default (output ``2 * rnn_units``); ``causal=True`` makes it
    unidirectional (output ``rnn_units``) and streamable.

    Args:
        input_size: Feature dimension D.
        hidden_size: Units of the frame-wise input layer.
        rnn_units: LSTM units per direction.
        num_layers: LSTM layers.
        dropout: Dropout between LSTM layers.
        causal: Unidirectional LSTM (no look-ahead).
        negative_slope: LeakyReLU slope.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int = 128,
        rnn_units: int = 64,
        num_layers: int = 4,
        dropout: float = 0.1,
        causal: bool = False,
        negative_slope: float = 0.2,
    ) -> None:
        super().__init__()
        self.causal = causal
        self.input_layer = nn.Sequential(
            nn.Linear(input_size, hidden_size), nn.LeakyReLU(negative_slope)
        )
        self.rnn = nn.LSTM(
            hidden_size,
            rnn_units,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
            bidirectional=not causal,
        )
        self._output_size = rnn_units * (1 if causal else 2)

    def output_size(self) -> int:
        return self._output_size

    @property
    def is_causal(self) -> bool:
        return self.causal

    def forward(self, xs: torch.Tensor, ilens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """See :meth:`AbsCAUSEEncoder.forward`; padding never enters the backward direction."""
        h = self.input_layer(xs)
        packed = nn.utils.rnn.pack_padded_sequence(
            h, ilens.cpu(), batch_first=True, enforce_sorted=False
        )
        out, _ = self.rnn(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=xs.size(1))
        mask = length_mask(ilens, xs.size(1)).unsqueeze(-1).to(out.dtype)
        return out * mask, ilens

    def init_state(self, batch_size: int, device: torch.device | None = None) -> None:
        """None: the LSTM starts from zeros."""
        if not self.causal:
            return super().init_state(batch_size, device)
        return None

    def forward_chunk(self, xs: torch.Tensor, state) -> tuple[torch.Tensor, tuple]:
        """See :meth:`AbsCAUSEEncoder.forward_chunk`; the state is the LSTM's (h, c)."""
        if not self.causal:
            return super().forward_chunk(xs, state)
        out, new_state = self.rnn(self.input_layer(xs), state)
        return out, new_state
