"""The expressive encoder: the CAUSE cnn for the speech motion plus an utterance-level branch.

A face holds an emotion over a whole utterance, and a voice shows it over seconds (level,
pitch range, voice quality, tempo), longer than the cnn's 17-frame (0.7 s) view. So next to the
frame-level :class:`~espnet_cause.models.encoders.cnn.CNNEncoder` (the mouth), an expression
branch reads the same features through its own gated convolutions, pools them over the
utterance (mean and standard deviation over the valid frames, x-vector style) into an
``expression_size`` vector ``g``, and hands every frame ``gate_t * g``, where ``gate_t`` in
(0, 1) is the branch's own per-frame estimate of "the expression is shown now" (it learns the
rise at the onset and the easing after the speech). The output layer of the model sees
``[cnn_t, gate_t * g]``: the expression adds to the speech motion, per AU.

``expression_output: emotions`` hands the frames ``gate_t * softmax(head(g))`` instead: the
utterance's emotion probabilities (the multi-task head's, :data:`espnet_cause.emotion.EMOTIONS`
order), which the model's output layer maps to AUs starting from the prototype table
(:meth:`ESPnetCAUSEModel <espnet_cause.models.espnet_model.ESPnetCAUSEModel>` initialises those
columns to :data:`espnet_cause.emotion.PROTOTYPES`): the expression is the emotion heard, shown
as its face.

``expression_norm: utterance`` z-scores the branch's input per band over the utterance's valid
frames (``cumulative``: over the frames so far) before its convolutions: the speaker's timbre, the
recording's level and its spectral tilt go, and the branch hears the movements within the
utterance (pitch and loudness contours, rhythm, changes of voice quality) relative to the
speaker's own voice in it. The frame-level cnn keeps the plain features.

``pooling: mean`` pools over the whole utterance (not causal: for whole recordings);
``pooling: cumulative`` pools over the frames so far (causal: a stream's expression builds up
as it hears more), which streams with a running sum in its state.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from espnet_cause.models.encoders.abs_encoder import length_mask
from espnet_cause.models.encoders.cnn import DEFAULT_CHANNELS, CNNEncoder, gated_conv_stack

POOLINGS = ("mean", "cumulative")
NORMS = ("none", "utterance")
#: Floor of the pooled variance (features are z-scored: 1e-4 is far below any real spread).
VAR_FLOOR = 1e-4


class ExpressiveCNNEncoder(CNNEncoder):
    """:class:`CNNEncoder` + an utterance-level expression branch (module docstring).

    Args:
        input_size: Feature dimension D.
        hidden_size, channels, kernel_size, dilations, dropout, causal, negative_slope,
            input_norm_frames: The frame-level cnn, as :class:`CNNEncoder`.
        expression_size: Size of the pooled expression vector ``g``.
        expression_channels: Channels of the branch's gated conv blocks.
        expression_dilations: Their dilations (default 1, 2, 4, ...).
        pooling: ``mean`` (whole utterance) or ``cumulative`` (frames so far; needs
            ``causal: true``).
        num_emotions: When > 0, a linear head on the utterance's pooled vector (its last frame's
            with cumulative pooling) gives emotion logits for a multi-task loss
            (:meth:`emotion_logits`; the model's ``emotion_weight``).
        expression_output: ``vector`` (the frames get ``gate * g``) or ``emotions`` (they get
            ``gate * softmax(head(g))``, needs ``num_emotions``; see the module docstring).
        expression_norm: ``none`` or ``utterance`` (the branch's input z-scored per band over
            the utterance; see the module docstring).
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
        expression_size: int = 32,
        expression_channels: Sequence[int] = (64, 64, 64),
        expression_dilations: Sequence[int] | None = None,
        pooling: str = "mean",
        num_emotions: int = 0,
        expression_output: str = "vector",
        expression_norm: str = "none",
    ) -> None:
        super().__init__(
            input_size, hidden_size, channels, kernel_size, dilations, dropout, causal,
            negative_slope, input_norm_frames,
        )  # fmt: skip
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        if pooling == "mean" and causal:
            raise ValueError("pooling: mean sees the whole utterance; a causal encoder needs "
                             "pooling: cumulative")  # fmt: skip
        self.pooling = pooling
        if expression_norm not in NORMS:
            raise ValueError(f"expression_norm must be one of {NORMS}, got {expression_norm!r}")
        self.expression_norm = expression_norm
        expression_channels = list(expression_channels)
        if expression_dilations is None:
            expression_dilations = [2**i for i in range(len(expression_channels))]
        if len(expression_dilations) != len(expression_channels):
            raise ValueError(
                f"{len(expression_dilations)} expression_dilations for "
                f"{len(expression_channels)} expression_channels"
            )
        self.expr_input, self.expr_blocks = gated_conv_stack(
            input_size, expression_channels[0], expression_channels, expression_dilations,
            kernel_size, dropout, causal, negative_slope,
        )  # fmt: skip
        last = expression_channels[-1]
        self.expr_pool = nn.Sequential(nn.Linear(2 * last, expression_size), nn.Tanh())
        self.expr_gate = nn.Linear(last, 1)
        self.expression_size = int(expression_size)
        self.emotion_head = nn.Linear(expression_size, num_emotions) if num_emotions > 0 else None
        self._pooled: torch.Tensor | None = None
        if expression_output not in ("vector", "emotions"):
            raise ValueError(f"expression_output must be vector or emotions: {expression_output}")
        if expression_output == "emotions" and self.emotion_head is None:
            raise ValueError("expression_output: emotions needs num_emotions > 0")
        self.expression_output = expression_output
        self._cnn_size = self._output_size
        extra = num_emotions if expression_output == "emotions" else self.expression_size
        self._output_size = self._cnn_size + extra

    @property
    def emotion_columns(self) -> tuple[int, int] | None:
        """(first, end) of the emotion-probability columns of the output, or None."""
        if self.expression_output != "emotions":
            return None
        return self._cnn_size, self._output_size

    def _branch(self, xs: torch.Tensor, ilens: torch.Tensor) -> torch.Tensor:
        """(B, T, D) features -> (B, T, C) branch features (edge frames replicated)."""
        num_frames = xs.size(1)
        last = (ilens.to(xs.device) - 1).clamp(min=0)[:, None]
        hold = torch.minimum(torch.arange(num_frames, device=xs.device)[None, :], last)[:, None]
        h = self.expr_input(xs).transpose(1, 2)
        for block in self.expr_blocks:
            h = block(h.gather(2, hold.expand(-1, h.size(1), -1)))
        return h.transpose(1, 2)

    def _statistics(self, b: torch.Tensor, ilens: torch.Tensor):
        """Mean and standard deviation of (B, T, C) over the valid frames: (B, 1 or T, C) each
        (``mean`` pooling: all of them; ``cumulative``: frames 0..t)."""
        m = length_mask(ilens, b.size(1)).unsqueeze(-1).to(b.dtype)
        if self.pooling == "mean":
            count = m.sum(1, keepdim=True).clamp(min=1.0)
            s1 = (b * m).sum(1, keepdim=True) / count
            s2 = (b * b * m).sum(1, keepdim=True) / count
        else:
            count = torch.cumsum(m, 1).clamp(min=1.0)
            s1 = torch.cumsum(b * m, 1) / count
            s2 = torch.cumsum(b * b * m, 1) / count
        return s1, torch.sqrt((s2 - s1 * s1).clamp(min=VAR_FLOOR))

    def pool(self, b: torch.Tensor, ilens: torch.Tensor) -> torch.Tensor:
        """(B, T, C) branch features -> (B, T, expression_size) pooled ``g`` per frame.

        ``mean``: the same vector on every frame (statistics of all valid frames);
        ``cumulative``: frame t's statistics of frames 0..t.
        """
        s1, std = self._statistics(b, ilens)
        g = self.expr_pool(torch.cat([s1, std], dim=-1))
        return g.expand(-1, b.size(1), -1)

    def emotion_logits(self) -> torch.Tensor:
        """(B, num_emotions) logits from the utterance vectors of the last :meth:`forward`.

        Raises:
            RuntimeError: without ``num_emotions`` or before a forward.
        """
        if self.emotion_head is None or self._pooled is None:
            raise RuntimeError("no emotion head (num_emotions: 0) or no forward yet")
        return self.emotion_head(self._pooled)

    def forward(self, xs: torch.Tensor, ilens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """See :meth:`AbsCAUSEEncoder.forward`: (B, T, D) -> (B, T, cnn + expression_size)."""
        hs, _ = super().forward(xs, ilens)
        if self.input_norm is not None:
            xs = self.input_norm(xs)
        if self.expression_norm == "utterance":
            mean, std = self._statistics(xs, ilens)
            xs = (xs - mean) / std
        b = self._branch(xs, ilens)
        gate = torch.sigmoid(self.expr_gate(b))
        mask = length_mask(ilens, xs.size(1)).unsqueeze(-1).to(xs.dtype)
        g = self.pool(b, ilens)
        if self.emotion_head is not None:  # the utterance vector: its last valid frame's
            last = (ilens.to(g.device) - 1).clamp(min=0)
            self._pooled = g[torch.arange(g.size(0), device=g.device), last]
        if self.expression_output == "emotions":
            g = torch.softmax(self.emotion_head(g), dim=-1)
        return torch.cat([hs, gate * g], dim=-1) * mask, ilens

    def init_state(self, batch_size: int, device: torch.device | None = None):
        raise NotImplementedError("ExpressiveCNNEncoder does not stream yet (offline only)")

    def forward_chunk(self, xs: torch.Tensor, state):
        raise NotImplementedError("ExpressiveCNNEncoder does not stream yet (offline only)")
