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
    """(B, D) weights: a 0 drops that utterance's output, all 1 is the plain loss."""
    pred, target, mask = _batch()
    ones = torch.ones(2, 3)
    for loss in (MaskedMSELoss(), MaskedL1Loss(), CCCLoss()):
        assert torch.allclose(loss(pred, target, mask, ones), loss(pred, target, mask))
    w = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 1.0]])  # utterance 1 does not teach dim 1
    garbage = target.clone()
    garbage[1, :, 1] = 50.0
    for loss in (MaskedMSELoss(), MaskedL1Loss(), CCCLoss()):
        assert torch.allclose(loss(pred, target, mask, w), loss(pred, garbage, mask, w))
        assert not torch.allclose(loss(pred, target, mask), loss(pred, garbage, mask))
    # the MSE is normalised by the total weight: the mean over the elements that teach
    m = mask.unsqueeze(-1) & (w[:, None, :] > 0)
    expected = ((pred - target) ** 2)[m].mean()
    assert MaskedMSELoss()(pred, target, mask, w).item() == pytest.approx(expected.item())
    # Pearson leaves the zero-weighted utterance out of that dimension
    r = masked_pearson(pred, garbage, mask, w)
    assert torch.allclose(r, masked_pearson(pred, target, mask, w))
    with pytest.raises(ValueError, match="expected"):
        MaskedMSELoss()(pred, target, mask, torch.ones(3, 3))


def test_per_frame_weights():
    """(B, T, D) weights: broadcasting a (B, D) one gives the same loss; zero frames are ignored."""
    pred, target, mask = _batch()
    w = torch.tensor([[1.0, 0.5, 1.0], [1.0, 0.0, 2.0]])
    frames = w[:, None, :].expand(-1, 6, -1).clone()
    for loss in (MaskedMSELoss(), MaskedL1Loss(), CCCLoss()):
        assert torch.allclose(loss(pred, target, mask, w), loss(pred, target, mask, frames))
    frames[0, :2] = 0.0  # utterance 0's first two frames do not teach
    garbage = target.clone()
    garbage[0, :2] = 40.0
    for loss in (MaskedMSELoss(), MaskedL1Loss(), CCCLoss()):
        assert torch.allclose(loss(pred, target, mask, frames), loss(pred, garbage, mask, frames))
    # shorter weights are zero-padded, longer ones cropped to the frames
    assert torch.allclose(
        MaskedMSELoss()(pred, target, mask, frames[:, :4]),
        MaskedMSELoss()(pred, target, mask * torch.arange(6).lt(4), frames),
    )
