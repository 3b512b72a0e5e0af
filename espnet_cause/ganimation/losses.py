"""GANimation losses as small device-agnostic modules (Pumarola et al., ECCV 2018, Sec. 4).

Each module carries its paper weight, so a trainer sums their outputs. Defaults are the paper's
and its official code's: gradient penalty 10, AU regression 4000 (MSE divided by the batch
size), cycle 10, attention saturation 0.1, attention smoothness 1e-5.
"""

from __future__ import annotations

import torch
from torch import nn


class WassersteinCriticLoss(nn.Module):
    """WGAN-GP critic loss: ``mean D(fake) - mean D(real) + w_gp * GP``.

    The gradient penalty pushes the norm of the critic's gradient at random interpolates of real
    and fake images towards 1 (Gulrajani et al., 2017).

    Args:
        gradient_penalty_weight: Weight of the gradient penalty.
    """

    def __init__(self, gradient_penalty_weight: float = 10.0) -> None:
        super().__init__()
        self.gradient_penalty_weight = gradient_penalty_weight

    def gradient_penalty(
        self, critic: nn.Module, real: torch.Tensor, fake: torch.Tensor
    ) -> torch.Tensor:
        """Unweighted penalty ``mean((||grad D(x_hat)||_2 - 1)^2)``.

        Args:
            critic: Callable returning ``(critic_map, ...)`` or a critic map for (B, C, H, W).
            real: (B, C, H, W) real images.
            fake: (B, C, H, W) generated images (detached).
        """
        alpha = torch.rand(real.size(0), 1, 1, 1, device=real.device, dtype=real.dtype)
        mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
        score = critic(mixed)
        if isinstance(score, tuple):
            score = score[0]
        (grad,) = torch.autograd.grad(score.sum(), mixed, create_graph=True)
        norm = grad.flatten(1).norm(2, dim=1)
        return ((norm - 1.0) ** 2).mean()

    def forward(
        self,
        critic: nn.Module,
        real: torch.Tensor,
        fake: torch.Tensor,
        real_score: torch.Tensor,
        fake_score: torch.Tensor,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Critic loss.

        Args:
            critic: The discriminator (called again on interpolates for the penalty).
            real: (B, C, H, W) real images.
            fake: (B, C, H, W) generated images.
            real_score: (B, 1, h, w) critic map of ``real``.
            fake_score: (B, 1, h, w) critic map of ``fake`` (detached from the generator).

        Returns:
            The weighted loss and its parts ``{"wasserstein", "gradient_penalty"}`` (unweighted).
        """
        wasserstein = fake_score.mean() - real_score.mean()
        penalty = self.gradient_penalty(critic, real, fake)
        loss = wasserstein + self.gradient_penalty_weight * penalty
        return loss, {"wasserstein": wasserstein.detach(), "gradient_penalty": penalty.detach()}


class WassersteinGeneratorLoss(nn.Module):
    """WGAN generator loss ``-mean D(G(x))``.

    Args:
        weight: Weight of the adversarial term (the paper's 1).
    """

    def __init__(self, weight: float = 1.0) -> None:
        super().__init__()
        self.weight = weight

    def forward(self, fake_score: torch.Tensor) -> torch.Tensor:
        """(B, 1, h, w) critic map of generated images -> weighted scalar loss."""
        return -self.weight * fake_score.mean()


class AURegressionLoss(nn.Module):
    """AU regression: ``weight * MSE(pred, target) / B``, as in the official code.

    Args:
        weight: The paper's 4000 (applied after dividing the mean squared error by the batch).
    """

    def __init__(self, weight: float = 4000.0) -> None:
        super().__init__()
        self.weight = weight

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(B, A) predicted and target AUs on the [0, 1] scale -> weighted scalar loss."""
        return self.weight * nn.functional.mse_loss(pred, target) / pred.size(0)


class CycleLoss(nn.Module):
    """Identity (cycle) loss: L1 between the input and its round trip through the generator.

    Args:
        weight: The paper's 10.
    """

    def __init__(self, weight: float = 10.0) -> None:
        super().__init__()
        self.weight = weight

    def forward(self, reconstructed: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) reconstructed and original images -> weighted scalar loss."""
        return self.weight * nn.functional.l1_loss(reconstructed, original)


class AttentionLoss(nn.Module):
    """Attention regularisers: saturation ``mean(A)`` and total-variation smoothness.

    Without the saturation term the mask saturates to 1 (the generator copies its input); the
    smoothness term is the anisotropic total variation, summed over pixels and averaged over the
    batch, which is why its weight is small.

    Args:
        saturation_weight: The paper's 0.1.
        smoothness_weight: The paper's 1e-5.
    """

    def __init__(self, saturation_weight: float = 0.1, smoothness_weight: float = 1e-5) -> None:
        super().__init__()
        self.saturation_weight = saturation_weight
        self.smoothness_weight = smoothness_weight

    @staticmethod
    def total_variation(attention: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) -> per-image summed absolute neighbour differences, averaged over B."""
        dx = (attention[..., :, 1:] - attention[..., :, :-1]).abs().flatten(1).sum(1)
        dy = (attention[..., 1:, :] - attention[..., :-1, :]).abs().flatten(1).sum(1)
        return (dx + dy).mean()

    def forward(self, attention: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(B, 1, H, W) attention mask -> weighted loss and unweighted parts."""
        saturation = attention.mean()
        smoothness = self.total_variation(attention)
        loss = self.saturation_weight * saturation + self.smoothness_weight * smoothness
        return loss, {"saturation": saturation.detach(), "smoothness": smoothness.detach()}


class EmotionClassificationLoss(nn.Module):
    """Emotion classification (the emotion-conditioned variant's replacement of the AU loss):
    ``weight * mean_b(-sum_c target_bc * log_softmax(logits)_bc)``, a cross-entropy with soft
    targets (one-hot labels of real faces, the sampled probability vector of generated ones).

    Args:
        weight: Weight of the term.
    """

    def __init__(self, weight: float = 1.0) -> None:
        super().__init__()
        self.weight = weight

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(B, C) logits and (B, C) target probabilities -> weighted scalar loss."""
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        return -self.weight * (target.float() * log_probs).sum(-1).mean()
