"""Masked regression losses and correlation for AU sequences.

Every function takes a prediction and a target of shape (B, T, D) and a boolean mask of shape
(B, T) that is True on valid frames; padded frames never contribute.

Weights (optional): (D,) per output, (B, D) per utterance and output (a per-utterance
``au_weight`` vector: 0 = this output does not teach for this utterance), or (B, T', D) per frame
(cropped or zero-padded to the T frames). Losses are weighted
and normalised by the total weight: an element with weight 0 contributes nothing, and weights
that are all 1 give the plain mean.
"""

from __future__ import annotations

import torch
from torch import nn

#: Floor on variances and denominators (a constant dimension has no correlation).
VAR_EPS = 1e-8


def element_weights(mask: torch.Tensor, weights: torch.Tensor | None, dim: int) -> torch.Tensor:
    """(B, T, D) weight of every element: the (B, T) ``mask`` times ``weights``.

    Args:
        mask: (B, T) True (or a weight) on valid frames.
        weights: None (all 1), (D,) per output, (B, D) per utterance and output, or (B, T', D)
            per frame (cropped, or zero-padded, to T).
        dim: D.

    Raises:
        ValueError: for weights of another shape.
    """
    m = mask.unsqueeze(-1).float()
    if weights is None:
        return m.expand(-1, -1, dim)
    w = weights.to(m)
    if w.dim() == 1 and w.shape == (dim,):
        return m * w
    if w.dim() == 2 and w.shape == (mask.size(0), dim):
        return m * w[:, None, :]
    if w.dim() == 3 and w.size(0) == mask.size(0) and w.size(2) == dim:
        t = mask.size(1)
        w = w[:, :t] if w.size(1) >= t else torch.nn.functional.pad(w, (0, 0, 0, t - w.size(1)))
        return m * w
    raise ValueError(
        f"weights of shape {tuple(w.shape)}: expected ({dim},), ({mask.size(0)}, {dim}) or "
        f"({mask.size(0)}, T, {dim})"
    )


def _masked_moments(
    pred: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, ...]:
    """Per-dimension means, variances and covariance over the valid frames of a batch.

    Args:
        pred: (B, T, D) predictions.
        target: (B, T, D) targets.
        mask: (B, T) True on valid frames.
        weights: (B, D) per-utterance or (B, T, D) per-frame weights (None: all 1).

    Returns:
        ``(mean_p, mean_t, var_p, var_t, cov)``, each (D,), population statistics (weighted).
    """
    m = element_weights(mask, weights, pred.size(-1)).to(pred.dtype)
    count = m.sum((0, 1)).clamp(min=VAR_EPS)
    mean_p = (pred * m).sum((0, 1)) / count
    mean_t = (target * m).sum((0, 1)) / count
    dp = (pred - mean_p) * m
    dt = (target - mean_t) * m
    var_p = (dp * dp).sum((0, 1)) / count
    var_t = (dt * dt).sum((0, 1)) / count
    cov = (dp * dt).sum((0, 1)) / count
    return mean_p, mean_t, var_p, var_t, cov


def masked_pearson(
    pred: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Pearson correlation per dimension over all valid frames of the batch.

    Args:
        pred: (B, T, D) predictions.
        target: (B, T, D) targets.
        mask: (B, T) True on valid frames.
        weights: (B, D) or (B, T, D) weights (None: all 1; 0 leaves the element out).

    Returns:
        (D,) correlations; a dimension that is constant in pred or target gives NaN.
    """
    _, _, var_p, var_t, cov = _masked_moments(pred, target, mask, weights)
    denom = torch.sqrt(var_p * var_t)
    return torch.where(
        denom > VAR_EPS, cov / denom.clamp(min=VAR_EPS), torch.full_like(cov, float("nan"))
    )


def masked_ccc(
    pred: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Lin's concordance correlation coefficient per dimension over the valid frames.

    ``CCC = 2 cov / (var_p + var_t + (mean_p - mean_t)^2)``.

    Args:
        pred: (B, T, D) predictions.
        target: (B, T, D) targets.
        mask: (B, T) True on valid frames.
        weights: (B, D) or (B, T, D) weights (None: all 1).

    Returns:
        (D,) CCC values in [-1, 1].
    """
    mean_p, mean_t, var_p, var_t, cov = _masked_moments(pred, target, mask, weights)
    return 2.0 * cov / (var_p + var_t + (mean_p - mean_t) ** 2 + VAR_EPS)


def _masked_mean(
    errors: torch.Tensor, mask: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Weighted mean of (B, T, D) ``errors`` over the frames where the (B, T) ``mask`` is True.

    ``weights``: (D,) or (B, D) (see the module docstring), or None for all 1. The mean is
    normalised by the total weight (0 when every weight is 0).
    """
    w = element_weights(mask, weights, errors.size(-1)).to(errors.dtype)
    return (errors * w).sum() / w.sum().clamp(min=1.0 if weights is None else VAR_EPS)


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
            weights: (D,) or (B, D) weights, or None (all 1).

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
    """``1 - CCC`` averaged over dimensions (CCC over all valid frames of the batch).

    With (B, D) or (B, T, D) weights, each dimension's CCC is over its weighted frames and the dimensions are
    averaged by their mean weight over the batch (a dimension no utterance teaches is left out).
    """

    def forward(
        self,
        pred: torch.Tensor,
        target: torch.Tensor,
        mask: torch.Tensor,
        weights: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Loss of (B, T, D) ``pred`` against ``target`` on the (B, T) ``mask``; in [0, 2] for
        any non-negative ``weights`` ((D,) or (B, D); None: all 1)."""
        if weights is None or weights.dim() == 1:
            loss = 1.0 - masked_ccc(pred, target, mask)
            if weights is not None:
                loss = loss * weights.to(loss)
            return loss.mean()
        w = element_weights(mask, weights, pred.size(-1)).to(pred.dtype)
        per_dim = w.sum((0, 1))
        loss = 1.0 - masked_ccc(pred, target, mask, weights)
        return (loss * per_dim).sum() / per_dim.sum().clamp(min=VAR_EPS)
