"""Interface of the CAUSE encoders."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import nn


def length_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B, max_len) bool mask, True on the first ``lengths[b]`` frames."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


class AbsCAUSEEncoder(nn.Module, ABC):
    """Maps normalised acoustic features at the AU frame rate to hidden features.

    The model adds the output layer to 17 AUs. Causal encoders also run chunk by chunk:
    ``forward_chunk`` over consecutive chunks, starting from ``init_state``, gives the same
    output as ``forward`` over the concatenation.
    """

    @abstractmethod
    def output_size(self) -> int:
        """Size H of the hidden features."""

    @property
    def is_causal(self) -> bool:
        """True when output frame t depends only on input frames <= t."""
        return False

    @abstractmethod
    def forward(self, xs: torch.Tensor, ilens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode a padded batch.

        Args:
            xs: (B, T, D) input features (zero beyond each length).
            ilens: (B,) valid lengths.

        Returns:
            (B, T, H) hidden features (zero beyond each length) and the (B,) lengths.
        """

    def init_state(self, batch_size: int, device: torch.device | None = None) -> Any:
        """Streaming state before the first chunk (causal encoders only)."""
        raise NotImplementedError(f"{type(self).__name__} does not stream (not causal)")

    def forward_chunk(self, xs: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        """Encode the next chunk of a stream.

        Args:
            xs: (B, t, D) the next ``t`` input frames.
            state: From ``init_state`` or the previous call.

        Returns:
            (B, t, H) hidden features and the new state.
        """
        raise NotImplementedError(f"{type(self).__name__} does not stream (not causal)")
