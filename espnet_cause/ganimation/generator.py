"""GANimation generator: an AU-conditioned colour and attention image-to-image network.

Pumarola et al., "GANimation: Anatomically-aware Facial Animation from a Single Image",
ECCV 2018. The generator sees the RGB face and the target condition vector (17 AUs, or 8
emotion posteriors for the emotion-conditioned variant) tiled over the image, and
predicts a colour image ``C`` and an attention mask ``A``; the output keeps the input where the
attention is high: ``A * I + (1 - A) * C``.
"""

from __future__ import annotations

import torch
from torch import nn

from espnet_cause.au import NUM_AUS


class ResidualBlock(nn.Module):
    """Two 3x3 conv + instance-norm layers with an identity skip.

    Args:
        channels: Input and output channels.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.InstanceNorm2d(channels, affine=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C, H, W)."""
        return x + self.body(x)


def _conv_block(in_ch: int, out_ch: int, kernel: int, stride: int, pad: int) -> list[nn.Module]:
    return [
        nn.Conv2d(in_ch, out_ch, kernel, stride, pad, bias=False),
        nn.InstanceNorm2d(out_ch, affine=True),
        nn.ReLU(inplace=True),
    ]


def _up_block(in_ch: int, out_ch: int) -> list[nn.Module]:
    return [
        nn.ConvTranspose2d(in_ch, out_ch, 4, 2, 1, bias=False),
        nn.InstanceNorm2d(out_ch, affine=True),
        nn.ReLU(inplace=True),
    ]


class GANimationGenerator(nn.Module):
    """The paper's generator: 7x7 stem, 2 downsamplings, residual blocks, 2 upsamplings, 2 heads.

    Images are in [-1, 1]; conditions are in [0, 1]: AUs normalised by the caller (intensity /
    ``AU_INTENSITY_MAX``, dataset or renderer), or emotion probability vectors.

    Args:
        condition_size: Length of the condition vector (17 AUs; 8 for emotions).
        conv_dim: Channels of the 7x7 stem; doubled by each downsampling.
        num_downsamplings: Stride-2 downsamplings (and as many upsamplings).
        num_res_blocks: Residual blocks at the bottleneck.
    """

    def __init__(
        self,
        condition_size: int = NUM_AUS,
        conv_dim: int = 64,
        num_downsamplings: int = 2,
        num_res_blocks: int = 6,
    ) -> None:
        super().__init__()
        self.condition_size = condition_size
        layers = _conv_block(3 + condition_size, conv_dim, 7, 1, 3)
        dim = conv_dim
        for _ in range(num_downsamplings):
            layers += _conv_block(dim, dim * 2, 4, 2, 1)
            dim *= 2
        layers += [ResidualBlock(dim) for _ in range(num_res_blocks)]
        for _ in range(num_downsamplings):
            layers += _up_block(dim, dim // 2)
            dim //= 2
        self.body = nn.Sequential(*layers)
        self.color_head = nn.Sequential(nn.Conv2d(dim, 3, 7, 1, 3, bias=False), nn.Tanh())
        self.attention_head = nn.Sequential(nn.Conv2d(dim, 1, 7, 1, 3, bias=False), nn.Sigmoid())

    def forward(
        self, image: torch.Tensor, aus: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Translate faces to the expression given by the condition ``aus``.

        Args:
            image: (B, 3, H, W) faces in [-1, 1].
            aus: (B, condition_size) target conditions in [0, 1] (AUs or emotion posteriors).

        Returns:
            output: (B, 3, H, W) ``A * image + (1 - A) * color`` in [-1, 1].
            color: (B, 3, H, W) colour image ``C`` in [-1, 1].
            attention: (B, 1, H, W) attention mask ``A`` in [0, 1] (1 keeps the input pixel).
        """
        b, _, h, w = image.shape
        cond = aus.to(image.dtype)[:, :, None, None].expand(b, self.condition_size, h, w)
        feats = self.body(torch.cat([image, cond], dim=1))
        color = self.color_head(feats)
        attention = self.attention_head(feats)
        output = attention * image + (1.0 - attention) * color
        return output, color, attention
