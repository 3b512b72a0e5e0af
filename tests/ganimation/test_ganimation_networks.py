"""GANimation generator and discriminator: shapes, ranges, gradients."""

import pytest
import torch

from espnet_cause.au import NUM_AUS
from espnet_cause.ganimation.discriminator import GANimationDiscriminator
from espnet_cause.ganimation.generator import GANimationGenerator


@pytest.mark.parametrize("size,downs,blocks", [(32, 2, 1), (64, 2, 2), (48, 1, 0)])
def test_generator_shapes_and_ranges(size, downs, blocks):
    g = GANimationGenerator(conv_dim=4, num_downsamplings=downs, num_res_blocks=blocks)
    image = torch.rand(2, 3, size, size) * 2 - 1
    out, color, attention = g(image, torch.rand(2, NUM_AUS))
    assert out.shape == color.shape == (2, 3, size, size)
    assert attention.shape == (2, 1, size, size)
    assert 0 <= attention.min() and attention.max() <= 1
    assert -1 <= color.min() and color.max() <= 1
    torch.testing.assert_close(out, attention * image + (1 - attention) * color)
    out.mean().backward()
    assert g.body[0].weight.grad.abs().sum() > 0


def test_generator_is_conditioned_on_aus():
    torch.manual_seed(0)
    g = GANimationGenerator(conv_dim=4, num_res_blocks=1).eval()
    image = torch.rand(1, 3, 32, 32) * 2 - 1
    a = g(image, torch.zeros(1, NUM_AUS))[0]
    b = g(image, torch.ones(1, NUM_AUS))[0]
    assert (a - b).abs().max() > 1e-4


def test_paper_generator_layout():
    g = GANimationGenerator()
    convs = [m for m in g.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs[0].kernel_size == (7, 7) and convs[0].in_channels == 3 + NUM_AUS
    assert convs[0].out_channels == 64
    norms = [m for m in g.modules() if isinstance(m, torch.nn.InstanceNorm2d)]
    assert len(norms) == 1 + 2 + 6 * 2 + 2


@pytest.mark.parametrize("size,layers", [(64, 6), (32, 3)])
def test_discriminator_shapes(size, layers):
    d = GANimationDiscriminator(image_size=size, conv_dim=4, num_layers=layers, max_dim=32)
    critic, aus = d(torch.rand(3, 3, size, size) * 2 - 1)
    final = size // 2**layers
    assert critic.shape == (3, 1, final, final)
    assert aus.shape == (3, NUM_AUS)
    (critic.mean() + aus.mean()).backward()
    assert d.body[0].weight.grad.abs().sum() > 0


def test_discriminator_leaky_slope_and_bad_size():
    d = GANimationDiscriminator(image_size=64, conv_dim=2, num_layers=6)
    slopes = {m.negative_slope for m in d.modules() if isinstance(m, torch.nn.LeakyReLU)}
    assert slopes == {0.01}
    with pytest.raises(ValueError, match="divisible"):
        GANimationDiscriminator(image_size=100, num_layers=6)
