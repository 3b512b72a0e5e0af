"""Fast GANimation rendering equals the plain generator; bad model files are CauseErrors."""

import numpy as np
import pytest
import torch

from espnet_cause.au import AU_INTENSITY_MAX, NUM_AUS
from espnet_cause.errors import CauseError
from espnet_cause.ganimation.checkpoint import save_generator
from espnet_cause.ganimation.generator import GANimationGenerator
from espnet_cause.ganimation.renderer import (
    GANimationRenderer,
    to_model_image,
    to_uint8_frames,
)

SIZE = 32
CONF = {"conv_dim": 8, "num_res_blocks": 2}


@pytest.fixture
def model(tmp_path):
    torch.manual_seed(0)
    g = GANimationGenerator(**CONF).eval()
    path = tmp_path / "generator.pth"
    save_generator(path, g, SIZE, CONF)
    return g, path


def _inputs(t=5):
    rng = np.random.default_rng(0)
    face = (rng.random((SIZE, SIZE, 3)) * 255).astype(np.uint8)
    aus = (rng.random((t, NUM_AUS)) * AU_INTENSITY_MAX).astype(np.float32)
    return face, aus


def _reference(g, face, aus):
    with torch.inference_mode():
        image = to_model_image(face).expand(len(aus), -1, -1, -1)
        return to_uint8_frames(g(image, torch.from_numpy(aus / AU_INTENSITY_MAX))[0])


@pytest.mark.parametrize("backend,tolerance", [("fp32", 1), ("bf16", 12), ("auto", 12)])
def test_fast_render_matches_generator(model, backend, tolerance):
    g, path = model
    face, aus = _inputs()
    frames = GANimationRenderer(path, backend=backend).render(face, aus, batch_size=2)
    assert frames.shape == (len(aus), SIZE, SIZE, 3) and frames.dtype == np.uint8
    diff = np.abs(frames.astype(int) - _reference(g, face, aus).astype(int))
    assert diff.max() <= tolerance
    assert diff.mean() < 1.0


def test_render_other_face_size_and_nan(model):
    _, path = model
    face, aus = _inputs(3)
    aus[1, 4] = np.nan
    big = np.repeat(np.repeat(face, 2, axis=0), 2, axis=1)
    frames = GANimationRenderer(path, backend="fp32").render(big, aus)
    assert frames.shape == (3, 2 * SIZE, 2 * SIZE, 3)


def test_missing_and_bad_model_files(tmp_path, model):
    g, _ = model
    with pytest.raises(CauseError, match="not found") as e:
        GANimationRenderer(tmp_path / "nope.pth")
    assert "nope.pth" in str(e.value)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(CauseError, match="not a PyTorch checkpoint"):
        GANimationRenderer(junk)
    other = tmp_path / "other.pth"
    torch.save({"weights": 1}, other)
    with pytest.raises(CauseError, match="kind"):
        GANimationRenderer(other)
    wrong = tmp_path / "wrong.pth"
    save_generator(wrong, g, SIZE, {"conv_dim": 4})  # weights of conv_dim 8
    with pytest.raises(CauseError, match="shape mismatch") as e:
        GANimationRenderer(wrong)
    assert "wrong.pth" in str(e.value)
