"""Masked regression losses and correlation for AU sequences.

Every function takes a prediction and a target of shape (B, T, D) and a boolean mask of shape
(B, T) that is True on valid frames; padded frames never contribute.
"""

from __future__ import annotations

import torch
from torch import nn

#: Floor on variances and denominators (a constant dimension has no correlation).
VAR_EPS = 1e-8


def _masked_moments(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, ...]:
    """Per-dimension means, variances and covariance over the valid frames of a batch.

    Args:
        pred: (B, T, D) predictions.
        target: (B, T, D) targets.
        mask: (B, T) True on valid frames.

    Returns:
        ``(mean_p, mean_t, var_p, var_t, cov)``, each (D,), population statistics.
    """
    m = mask.unsqueeze(-1).to(pred.dtype)
    count = m.sum().clamp(min=1.0)
    mean_p = (pred * m).sum((0, 1)) / count
    mean_t = (target * m).sum((0, 1)) / count
    dp = (pred - mean_p) * m
    dt = (target - mean_t) * m
    var_p = (dp * dp).sum((0, 1)) / count
    var_t = (dt * dt).sum((0, 1)) / count
    cov = (dp * dt).sum((0, 1)) / count
    return mean_p, mean_t, var_p, var_t, cov


def masked_pearson(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Pearson correlation per dimension over all valid frames of the batch.

    Args:
        pred: (B, T, D) predictions.
        target: (B, T, D) targets.
        mask: (B, T) True on valid frames.

    Returns:
        (D,) correlations; a dimension that is constant in pred or target gives NaN.
    """
    _, _, var_p, var_t, cov = _masked_moments(pred, target, mask)
    denom = torch.sqrt(var_p * var_t)
    return torch.where(
        denom > VAR_EPS, cov / denom.clamp(min=VAR_EPS), torch.full_like(cov, float("nan"))
    )


def masked_ccc(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Lin's concordance correlation coefficient per dimension over the valid frames.

    ``CCC = 2 cov / (var_p + var_t + (mean_p - mean_t)^2)``.

    Args:
        pred: (B, T, D) predictions.
        target: (B, T, D) targets.
        mask: (B, T) True on valid frames.

    Returns:
        (D,) CCC values in [-1, 1].
    """
    mean_p, mean_t, var_p, var_t, cov = _masked_moments(pred, target, mask)
    return 2.0 * cov / (var_p + var_t + (mean_p - mean_t) ** 2 + VAR_EPS)


def _masked_mean(
    errors: torch.Tensor, mask: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Weighted mean of (B, T, D) ``errors`` over the frames where the (B, T) ``mask`` is True.

    ``weights``: (D,) per-dimension weights or (B, D) per-utterance per-dimension weights (0: the
    element does not count); the mean divides by the summed weights of the valid frames, so
    (D,) weights with mean 1 give the plain mean over dimensions. None: all 1.
    """
    m = mask.unsqueeze(-1).to(errors.dtype)
    if weights is None:
        return (errors * m).sum() / (m.sum() * errors.size(-1)).clamp(min=1.0)
    w = weights.to(errors)
    w = w.view(1, 1, -1) if w.dim() == 1 else w[:, None, :]
    wm = m * w
    return (errors * wm).sum() / wm.expand_as(errors).sum().clamp(min=1e-8)


class _MaskedFrameLoss(nn.Module):
    """Mean of a per-element error over valid frames and all dimensions."""

    def error(self, diff: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(
        self,
        pred: torch.Tensor,
        target: torch.Tensor,
        mask: torch.Tensor,
        weights: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Compute the loss.

        Args:
            pred: (B, T, D) predictions.
            target: (B, T, D) targets.
            mask: (B, T) True on valid frames.
            weights: (D,) per-dimension or (B, D) per-utterance weights, or None (all 1).

        Returns:
            Scalar loss.
        """
        return _masked_mean(self.error(pred - target), mask, weights)


class MaskedMSELoss(_MaskedFrameLoss):
    """Mean squared error over valid frames and all dimensions."""

    def error(self, diff: torch.Tensor) -> torch.Tensor:
        return diff**2


class MaskedL1Loss(_MaskedFrameLoss):
    """Mean absolute error over valid frames and all dimensions."""

    def error(self, diff: torch.Tensor) -> torch.Tensor:
        return diff.abs()


class CCCLoss(nn.Module):
    """``1 - CCC`` averaged over dimensions (CCC over all valid frames of the batch)."""

    def forward(
        self,
        pred: torch.Tensor,
        target: torch.Tensor,
        mask: torch.Tensor,
        weights: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Loss of (B, T, D) ``pred`` against ``target`` on the (B, T) ``mask``; in [0, 2] when
        the (D,) ``weights`` (None: all 1) have mean 1. (B, D) per-utterance weights count as
        their mean over the batch (CCC is a statistic of the whole batch)."""
        loss = 1.0 - masked_ccc(pred, target, mask)
        if weights is not None:
            if weights.dim() == 2:
                weights = weights.mean(0)
            loss = loss * weights.to(loss)
        return loss.mean()
