"""GANimation losses: one optimisation step each, finite values, gradients reach the model."""

import pytest
import torch

from espnet_cause.au import NUM_AUS
from espnet_cause.ganimation.discriminator import GANimationDiscriminator
from espnet_cause.ganimation.generator import GANimationGenerator
from espnet_cause.ganimation.losses import (
    AttentionLoss,
    AURegressionLoss,
    CycleLoss,
    WassersteinCriticLoss,
    WassersteinGeneratorLoss,
)

SIZE = 32


@pytest.fixture
def nets():
    torch.manual_seed(0)
    g = GANimationGenerator(conv_dim=4, num_res_blocks=1)
    d = GANimationDiscriminator(image_size=SIZE, conv_dim=4, num_layers=3)
    return g, d


def _step(module, loss):
    opt = torch.optim.Adam(module.parameters(), lr=1e-3)
    before = [p.detach().clone() for p in module.parameters()]
    opt.zero_grad()
    loss.backward()
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(gr).all() for gr in grads)
    assert any(gr.abs().sum() > 0 for gr in grads)
    opt.step()
    assert any((p - b).abs().max() > 0 for p, b in zip(module.parameters(), before))


def test_critic_loss_with_gradient_penalty(nets):
    g, d = nets
    real = torch.rand(4, 3, SIZE, SIZE) * 2 - 1
    fake = g(real, torch.rand(4, NUM_AUS))[0].detach()
    loss_fn = WassersteinCriticLoss(gradient_penalty_weight=10.0)
    loss, parts = loss_fn(d, real, fake, d(real)[0], d(fake)[0])
    assert torch.isfinite(loss) and parts["gradient_penalty"] >= 0
    expected = parts["wasserstein"] + 10.0 * parts["gradient_penalty"]
    torch.testing.assert_close(loss.detach(), expected)
    _step(d, loss)


def test_gradient_penalty_is_zero_for_unit_norm_critic():
    # D(x) = sum(x * w) with ||w|| = 1 has gradient norm exactly 1 everywhere.
    w = torch.randn(1, 3, 4, 4)
    w /= w.norm()

    def critic(x):
        return (x * w).flatten(1).sum(1, keepdim=True)

    gp = WassersteinCriticLoss().gradient_penalty(
        critic, torch.rand(2, 3, 4, 4), torch.rand(2, 3, 4, 4)
    )
    assert gp.item() == pytest.approx(0.0, abs=1e-10)


def test_generator_losses_step(nets):
    g, d = nets
    real = torch.rand(4, 3, SIZE, SIZE) * 2 - 1
    real_aus, target = torch.rand(4, NUM_AUS), torch.rand(4, NUM_AUS)
    fake, _, attention = g(real, target)
    score, pred = d(fake)
    recon = g(fake, real_aus)[0]
    att, parts = AttentionLoss()(attention)
    loss = (
        WassersteinGeneratorLoss()(score)
        + AURegressionLoss()(pred, target)
        + CycleLoss()(recon, real)
        + att
    )
    assert torch.isfinite(loss) and parts["smoothness"] >= 0
    _step(g, loss)


def test_loss_values_match_definitions():
    pred, target = torch.zeros(4, NUM_AUS), torch.ones(4, NUM_AUS)
    assert AURegressionLoss(weight=4000.0)(pred, target).item() == pytest.approx(4000.0 / 4)
    assert CycleLoss(weight=10.0)(torch.zeros(2, 3), torch.ones(2, 3)).item() == pytest.approx(10)
    a = torch.zeros(2, 1, 3, 3)
    a[:, :, :, 2] = 1.0  # one vertical edge of 3 pixels per image
    loss, parts = AttentionLoss(saturation_weight=0.1, smoothness_weight=1e-5)(a)
    assert parts["smoothness"].item() == pytest.approx(3.0)
    assert parts["saturation"].item() == pytest.approx(1 / 3)
    assert loss.item() == pytest.approx(0.1 / 3 + 3e-5)
    assert WassersteinGeneratorLoss()(torch.full((2, 1, 2, 2), 3.0)).item() == -3.0
