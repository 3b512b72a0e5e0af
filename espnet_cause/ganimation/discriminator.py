"""GANimation discriminator: a PatchGAN critic with a condition head (AU regression, or emotion
classification logits for the emotion-conditioned variant)."""

from __future__ import annotations

import torch
from torch import nn

from espnet_cause.au import NUM_AUS

#: Negative slope of the discriminator's LeakyReLUs (the paper's 0.01).
LEAKY_SLOPE: float = 0.01


class GANimationDiscriminator(nn.Module):
    """``num_layers`` stride-2 4x4 convs with LeakyReLU, then two heads.

    The critic head is a 3x3 conv giving a (H / 2^L, W / 2^L) map of WGAN scores; the condition
    head (``au_head``) is a conv whose kernel covers the whole final feature map, giving one
    vector per image: AUs on [0, 1] (regression), or emotion logits (classification).

    Args:
        image_size: Side of the square input images (must be divisible by 2^num_layers).
        condition_size: Length of the vector the condition head predicts (17 AUs, 8 emotions).
        conv_dim: Channels of the first conv; doubled by each further layer.
        num_layers: Stride-2 convs (the paper's 6).
        max_dim: Upper bound on the channels of any layer.
    """

    def __init__(
        self,
        image_size: int = 128,
        condition_size: int = NUM_AUS,
        conv_dim: int = 64,
        num_layers: int = 6,
        max_dim: int = 2048,
    ) -> None:
        super().__init__()
        if image_size % (2**num_layers):
            raise ValueError(f"image_size {image_size} is not divisible by 2^{num_layers}")
        layers: list[nn.Module] = []
        in_dim, dim = 3, conv_dim
        for _ in range(num_layers):
            layers += [nn.Conv2d(in_dim, dim, 4, 2, 1), nn.LeakyReLU(LEAKY_SLOPE, inplace=True)]
            in_dim, dim = dim, min(dim * 2, max_dim)
        self.body = nn.Sequential(*layers)
        final_size = image_size // 2**num_layers
        self.critic_head = nn.Conv2d(in_dim, 1, 3, 1, 1, bias=False)
        self.au_head = nn.Conv2d(in_dim, condition_size, final_size, 1, 0, bias=False)
        self.image_size = image_size

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Score faces and predict their condition (AUs, or emotion logits).

        Args:
            image: (B, 3, image_size, image_size) faces in [-1, 1].

        Returns:
            critic: (B, 1, image_size / 2^L, image_size / 2^L) WGAN critic map (higher = real).
            aus: (B, condition_size) predicted AUs on the generator's [0, 1] scale, or logits.
        """
        feats = self.body(image)
        return self.critic_head(feats), self.au_head(feats).flatten(1)
