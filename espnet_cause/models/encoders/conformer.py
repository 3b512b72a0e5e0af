"""Conformer CAUSE encoder: ESPnet's ``ConformerEncoder`` on features at the AU frame rate."""

from __future__ import annotations

import torch

from espnet_cause.models.encoders.abs_encoder import AbsCAUSEEncoder, length_mask


class ConformerCAUSEEncoder(AbsCAUSEEncoder):
    """Wraps :class:`espnet2.asr.encoder.conformer_encoder.ConformerEncoder`.

    The features are already at the AU frame rate, so the input layer is a linear projection
    (no convolutional subsampling). Not causal (full self-attention); it does not stream.

    Args:
        input_size: Feature dimension D.
        output_size: Attention dimension (also the output size).
        attention_heads: Attention heads.
        linear_units: Units of the feed-forward modules.
        num_blocks: Conformer blocks.
        dropout_rate: Dropout probability.
        positional_dropout_rate: Dropout after the positional encoding.
        attention_dropout_rate: Dropout on attention weights.
        cnn_module_kernel: Kernel size of the convolution module.
    """

    def __init__(
        self,
        input_size: int,
        output_size: int = 128,
        attention_heads: int = 4,
        linear_units: int = 256,
        num_blocks: int = 4,
        dropout_rate: float = 0.1,
        positional_dropout_rate: float = 0.1,
        attention_dropout_rate: float = 0.1,
        cnn_module_kernel: int = 15,
    ) -> None:
        super().__init__()
        from espnet2.asr.encoder.conformer_encoder import ConformerEncoder

        self.conformer = ConformerEncoder(
            input_size=input_size,
            output_size=output_size,
            attention_heads=attention_heads,
            linear_units=linear_units,
            num_blocks=num_blocks,
            dropout_rate=dropout_rate,
            positional_dropout_rate=positional_dropout_rate,
            attention_dropout_rate=attention_dropout_rate,
            input_layer="linear",
            normalize_before=True,
            pos_enc_layer_type="rel_pos",
            selfattention_layer_type="rel_selfattn",
            rel_pos_type="latest",
            macaron_style=True,
            use_cnn_module=True,
            cnn_module_kernel=cnn_module_kernel,
        )
        self._output_size = output_size

    def output_size(self) -> int:
        return self._output_size

    def forward(self, xs: torch.Tensor, ilens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """See :meth:`AbsCAUSEEncoder.forward`."""
        out, olens, _ = self.conformer(xs, ilens)
        mask = length_mask(olens, out.size(1)).unsqueeze(-1).to(out.dtype)
        return out * mask, olens
