"""Masked regression losses and correlations."""

import pytest
import torch

from espnet_cause.losses.regression import (
    CCCLoss,
    MaskedL1Loss,
    MaskedMSELoss,
    masked_ccc,
    masked_pearson,
)


def _batch():
    torch.manual_seed(0)
    target = torch.randn(2, 6, 3)
    pred = target + 0.1 * torch.randn(2, 6, 3)
    mask = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])
    return pred, target, mask


def test_masked_losses_ignore_padding():
    pred, target, mask = _batch()
    garbage = pred.clone()
    garbage[1, 4:] = 1e6
    for loss in (MaskedMSELoss(), MaskedL1Loss(), CCCLoss()):
        assert torch.allclose(loss(pred, target, mask), loss(garbage, target, mask))


def test_mse_l1_values():
    pred = torch.zeros(1, 2, 1)
    target = torch.tensor([[[1.0], [3.0]]])
    mask = torch.tensor([[True, True]])
    assert MaskedMSELoss()(pred, target, mask).item() == pytest.approx(5.0)
    assert MaskedL1Loss()(pred, target, mask).item() == pytest.approx(2.0)


def test_pearson_and_ccc():
    pred, target, mask = _batch()
    assert torch.allclose(masked_pearson(target, target, mask), torch.ones(3), atol=1e-5)
    assert torch.allclose(masked_ccc(target, target, mask), torch.ones(3), atol=1e-5)
    # Pearson ignores scale and offset, CCC does not
    r = masked_pearson(3 * target + 1, target, mask)
    assert torch.allclose(r, torch.ones(3), atol=1e-5)
    assert torch.all(masked_ccc(3 * target + 1, target, mask) < 0.9)
    assert torch.allclose(masked_pearson(-target, target, mask), -torch.ones(3), atol=1e-5)
    assert CCCLoss()(target, target, mask).item() == pytest.approx(0.0, abs=1e-5)


def test_pearson_constant_is_nan():
    pred, target, mask = _batch()
    target[..., 0] = 2.0
    r = masked_pearson(pred, target, mask)
    assert torch.isnan(r[0]) and not torch.isnan(r[1:]).any()


def test_losses_backward():
    pred, target, mask = _batch()
    pred.requires_grad_(True)
    (MaskedMSELoss()(pred, target, mask) + CCCLoss()(pred, target, mask)).backward()
    assert torch.all(pred.grad[1, 4:] == 0)


def test_per_dimension_weights():
    pred = torch.zeros(1, 2, 3)
    target = torch.zeros(1, 2, 3)
    target[..., 2] = 2.0  # only dimension 2 is wrong
    mask = torch.ones(1, 2, dtype=torch.bool)
    w = torch.tensor([0.5, 0.5, 2.0])
    assert MaskedMSELoss()(pred, target, mask).item() == pytest.approx(4.0 / 3)
    assert MaskedMSELoss()(pred, target, mask, w).item() == pytest.approx(8.0 / 3)
    assert MaskedL1Loss()(pred, target, mask, w).item() == pytest.approx(4.0 / 3)
    pred, target, mask = _batch()
    pred[..., 0] = -target[..., 0]  # dimension 0 anti-correlated: its 1 - CCC is large
    plain = CCCLoss()(pred, target, mask)
    assert CCCLoss()(pred, target, mask, torch.tensor([2.0, 0.5, 0.5])) > plain
    assert CCCLoss()(pred, target, mask, torch.tensor([0.5, 1.25, 1.25])) < plain


def test_per_utterance_weights():
    """(B, D) weights: an element with weight 0 does not count; the mean is over the rest."""
    pred = torch.zeros(2, 3, 2)
    target = torch.zeros(2, 3, 2)
    target[0, :, 1] = 3.0  # utterance 0, dimension 1: wrong, but it does not teach
    target[1, :, 0] = 1.0  # utterance 1, dimension 0: wrong and teaches
    mask = torch.ones(2, 3, dtype=torch.bool)
    mask[1, 2] = False
    w = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    # counted: utt 0 dim 0 (3 frames, error 0), utt 1 dims 0-1 (2 frames each, error 1 on dim 0)
    assert MaskedMSELoss()(pred, target, mask, w).item() == pytest.approx(2.0 / 7)
    assert MaskedL1Loss()(pred, target, mask, torch.zeros(2, 2)).item() == 0.0
    pred, target, mask = _batch()
    per_utt = torch.ones(pred.size(0), pred.size(-1))
    assert CCCLoss()(pred, target, mask, per_utt).item() == pytest.approx(
        CCCLoss()(pred, target, mask).item()
    )
