"""The fully convolutional CAUSE encoder (gated Conv1d blocks) and its dilated variant.

Kameoka et al. (Interspeech 2022) found a stack of gated convolutions best: a 128-unit
frame-wise linear layer, then 8 GLU Conv1d blocks (kernel 3, channels 128, 64, 64, 32, 32, 16,
16, 8), weight normalisation, dropout 0.1 and LeakyReLU. ``DilatedCNNEncoder`` is the same stack
with dilations 1, 3, 9, 27 (twice), which widens the receptive field from 17 to 161 frames.

Padding replicates the edge frames (each block's first and last valid input frame), never zeros:
the features are z-scored, so a zero frame is "average speech", and zero padding made the first
and last receptive-field half of every utterance look like talking even in silence. Streaming
starts from the same replicated left edge (:meth:`CNNEncoder.init_state`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from espnet_cause.models.encoders.abs_encoder import AbsCAUSEEncoder, length_mask
from espnet_cause.models.encoders.causal_norm import CausalMeanNorm

DEFAULT_CHANNELS = (128, 64, 64, 32, 32, 16, 16, 8)
DILATED_DILATIONS = (1, 3, 9, 27, 1, 3, 9, 27)


class GatedConvBlock(nn.Module):
    """Conv1d with twice the channels -> GLU -> dropout -> LeakyReLU.

    Padding is applied explicitly, by repeating the edge frames (both sides, or only on the left
    when causal), so a stream can hand in the previous inputs instead.

    Args:
        in_channels: Input channels.
        out_channels: Output channels (after the gate).
        kernel_size: Temporal kernel size.
        dilation: Temporal dilation.
        dropout: Dropout probability.
        causal: Pad only on the left (no look-ahead).
        negative_slope: LeakyReLU slope.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        dilation: int = 1,
        dropout: float = 0.1,
        causal: bool = False,
        negative_slope: float = 0.2,
        input_norm_frames: int = 0,
    ) -> None:
        super().__init__()
        self.conv = weight_norm(
            nn.Conv1d(in_channels, 2 * out_channels, kernel_size, dilation=dilation)
        )
        self.context = (kernel_size - 1) * dilation
        self.causal = causal
        self.dropout = nn.Dropout(dropout)
        self.act = nn.LeakyReLU(negative_slope)

    def padding(self) -> tuple[int, int]:
        """(left, right) padding in frames (replicated edge frames)."""
        if self.causal:
            return self.context, 0
        return self.context // 2, self.context - self.context // 2

    def forward_padded(self, xs: torch.Tensor) -> torch.Tensor:
        """(B, C, t + context) already padded input -> (B, C_out, t)."""
        return self.act(self.dropout(nn.functional.glu(self.conv(xs), dim=1)))

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        """(B, C, T) -> (B, C_out, T); the edges are padded with copies of the first/last frame."""
        left, right = self.padding()
        if left + right == 0:
            return self.forward_padded(xs)
        return self.forward_padded(nn.functional.pad(xs, (left, right), mode="replicate"))


def gated_conv_stack(
    input_size: int,
    width: int,
    channels: Sequence[int],
    dilations: Sequence[int],
    kernel_size: int,
    dropout: float,
    causal: bool,
    negative_slope: float,
) -> tuple[nn.Sequential, nn.ModuleList]:
    """A frame-wise input layer and gated conv blocks: the layers of :class:`CNNEncoder` (and of
    the expression branch of :class:`~espnet_cause.models.encoders.expressive.ExpressiveCNNEncoder`).

    Args:
        input_size: Feature dimension D.
        width: Units of the input layer (``Linear(D, width)`` + LeakyReLU).
        channels: Output channels of the blocks (``width -> channels[0] -> ...``).
        dilations: One per block.
        kernel_size, dropout, causal, negative_slope: As :class:`GatedConvBlock`'s.

    Returns:
        (input layer: (B, T, D) -> (B, T, width), blocks: each (B, C, T) -> (B, C_out, T)).
    """
    input_layer = nn.Sequential(nn.Linear(input_size, width), nn.LeakyReLU(negative_slope))
    ins = [width] + list(channels[:-1])
    blocks = nn.ModuleList(
        GatedConvBlock(i, o, kernel_size, d, dropout, causal, negative_slope)
        for i, o, d in zip(ins, channels, dilations, strict=True)
    )
    return input_layer, blocks


class CNNEncoder(AbsCAUSEEncoder):
    """Frame-wise linear layer, then gated Conv1d blocks.

    Args:
        input_size: Feature dimension D.
        hidden_size: Units of the frame-wise input layer.
        channels: Output channels of the gated blocks; the last one is the output size.
        kernel_size: Temporal kernel size of every block.
        dilations: One dilation per block; None means 1 everywhere.
        dropout: Dropout probability in the blocks.
        causal: No look-ahead (left padding only); needed for streaming.
        negative_slope: LeakyReLU slope.
        input_norm_frames: When > 0, subtract from every input feature its causal mean over
            this many frames first (:class:`CausalMeanNorm`: removes a microphone's gain and
            stationary EQ); 0 (default): off.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int = 128,
        channels: Sequence[int] = DEFAULT_CHANNELS,
        kernel_size: int = 3,
        dilations: Sequence[int] | None = None,
        dropout: float = 0.1,
        causal: bool = False,
        negative_slope: float = 0.2,
        input_norm_frames: int = 0,
    ) -> None:
        super().__init__()
        if input_norm_frames < 0:
            raise ValueError(f"input_norm_frames must be >= 0, got {input_norm_frames}")
        self.input_norm = CausalMeanNorm(input_norm_frames) if input_norm_frames > 0 else None
        channels = list(channels)
        dilations = [1] * len(channels) if dilations is None else list(dilations)
        if len(dilations) != len(channels):
            raise ValueError(f"{len(dilations)} dilations for {len(channels)} blocks")
        self.causal = causal
        self.input_layer, self.blocks = gated_conv_stack(
            input_size, hidden_size, channels, dilations, kernel_size, dropout, causal,
            negative_slope,
        )  # fmt: skip
        self._output_size = channels[-1]

    def output_size(self) -> int:
        return self._output_size

    @property
    def is_causal(self) -> bool:
        return self.causal

    def receptive_field(self) -> int:
        """Input frames that one output frame sees."""
        return 1 + sum(b.context for b in self.blocks)

    def forward(self, xs: torch.Tensor, ilens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """See :meth:`AbsCAUSEEncoder.forward`.

        Before every block, the frames beyond each length repeat that utterance's last valid
        frame, so a short utterance in a batch sees the same right edge as alone; the output is
        zero beyond each length.
        """
        num_frames = xs.size(1)
        mask = length_mask(ilens, num_frames).unsqueeze(1).to(xs.dtype)  # (B, 1, T)
        # (B, 1, T) index of the frame each position holds: itself, or the last valid one
        last = (ilens.to(xs.device) - 1).clamp(min=0)[:, None]
        hold = torch.minimum(torch.arange(num_frames, device=xs.device)[None, :], last)[:, None]
        if self.input_norm is not None:
            xs = self.input_norm(xs)
        h = self.input_layer(xs).transpose(1, 2)
        for block in self.blocks:
            h = block(h.gather(2, hold.expand(-1, h.size(1), -1)))
        return (h * mask).transpose(1, 2), ilens

    def init_state(self, batch_size: int, device: torch.device | None = None) -> list:
        """Per block, (B, C_in, context) frames of NaN: "no frame yet".

        The first chunk replaces them with copies of its first frame, which is the left padding
        of the offline causal forward (replicated edge), so streaming equals offline. With
        ``input_norm_frames``, the normaliser's (B, W - 1, D) history comes first.
        """
        if not self.causal:
            return super().init_state(batch_size, device)
        state = [
            torch.full((batch_size, b.conv.in_channels, b.context), float("nan"), device=device)
            for b in self.blocks
        ]
        if self.input_norm is not None:
            dim = self.input_layer[0].in_features
            state.insert(0, self.input_norm.init_state(batch_size, dim, device))
        return state

    def forward_chunk(self, xs: torch.Tensor, state: list) -> tuple[torch.Tensor, list]:
        """See :meth:`AbsCAUSEEncoder.forward_chunk`; the state is each block's last inputs."""
        if not self.causal:
            return super().forward_chunk(xs, state)
        if xs.size(1) == 0:
            return xs.new_zeros(xs.size(0), 0, self._output_size), state
        new_state = []
        if self.input_norm is not None:
            xs, norm_state = self.input_norm.forward_chunk(xs, state[0])
            new_state.append(norm_state)
            state = state[1:]
        h = self.input_layer(xs).transpose(1, 2)
        for block, past in zip(self.blocks, state):
            past = torch.where(torch.isnan(past), h[:, :, :1], past)  # stream start: the edge
            full = torch.cat([past, h], dim=2)
            new_state.append(full[:, :, full.size(2) - block.context :])
            h = block.forward_padded(full)
        return h.transpose(1, 2), new_state


class DilatedCNNEncoder(CNNEncoder):
    """:class:`CNNEncoder` with dilations 1, 3, 9, 27 repeated (the paper's dilated variant).

    Args:
        input_size: Feature dimension D.
        hidden_size: Units of the frame-wise input layer.
        channels: Output channels of the gated blocks.
        kernel_size: Temporal kernel size.
        dilations: One dilation per block.
        dropout: Dropout probability.
        causal: No look-ahead (left padding only).
        negative_slope: LeakyReLU slope.
        input_norm_frames: Causal mean normalisation window (0: off); see :class:`CNNEncoder`.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int = 128,
        channels: Sequence[int] = DEFAULT_CHANNELS,
        kernel_size: int = 3,
        dilations: Sequence[int] | None = DILATED_DILATIONS,
        dropout: float = 0.1,
        causal: bool = False,
        negative_slope: float = 0.2,
        input_norm_frames: int = 0,
    ) -> None:
        super().__init__(
            input_size=input_size,
            hidden_size=hidden_size,
            channels=channels,
            kernel_size=kernel_size,
            dilations=dilations,
            dropout=dropout,
            causal=causal,
            negative_slope=negative_slope,
            input_norm_frames=input_norm_frames,
        )
