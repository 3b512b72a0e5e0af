"""Sharpness (issue 28): the face keeps the photo's detail while it moves, and still parts stay the
photo's own pixels."""

from __future__ import annotations

import numpy as np
import pytest
from made_fixtures import au_row

from espnet_cause.render.fidelity import detail_ratio
from espnet_cause.render.warp import WarpRenderer, _between_pixels


@pytest.fixture(scope="module")
def grainy(grace):
    """The demo photo with seeded pixel noise: detail at the highest frequencies, which any
    interpolation at a fractional offset attenuates most."""
    noise = np.random.default_rng(0).normal(0.0, 12.0, grace.shape)
    return np.clip(grace + noise, 0, 255).astype(np.uint8)


def test_a_moving_grainy_face_keeps_the_photo_s_detail(landmarker_path, landmarker, grainy):
    """With the idle head motion and the photo's own AUs (only the head moves), the face box keeps
    0.9-1.15 of the photo's variance of the Laplacian (Lanczos alone kept 0.84, bicubic 0.73),
    not sharper than the photo either."""
    face = landmarker.detect(grainy)[0]
    renderer = WarpRenderer(landmarker_path, head_motion=1.0)
    renderer.prepare(grainy, face=face, photo_aus=au_row())
    frames = renderer.frames(np.zeros((20, 17), np.float32) + 1e-2 * au_row(AU01=1.0))
    kept = detail_ratio(frames, grainy, face)
    renderer.close()
    assert 0.9 <= kept["mean"] <= 1.15, kept
    assert kept["min"] >= 0.85, kept


def test_still_pixels_are_the_photo_s_own(landmarker_path, landmarker, grainy):
    """Without head motion, pixels the AUs do not move sample the photo on its pixel grid: no
    restoration there, they stay bit-identical (the brows raised, the chin's row is the photo's)."""
    face = landmarker.detect(grainy)[0]
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(grainy, face=face, photo_aus=au_row())
    frame = next(renderer.frames(au_row(AU01=4.0, AU02=4.0)[None]))
    prepared = renderer._prepared
    renderer.close()
    source = prepared.source_map(prepared.coefficients(au_row(AU01=4.0, AU02=4.0)))
    on_grid = _between_pixels(source) == 0.0
    assert 0.2 < on_grid.mean() < 0.99  # the brows moved, much of the region did not
    roi = frame[prepared.y0 : prepared.y1, prepared.x0 : prepared.x1]
    photo = grainy[prepared.y0 : prepared.y1, prepared.x0 : prepared.x1]
    assert np.array_equal(roi[on_grid], photo[on_grid])
    assert not np.array_equal(roi, photo)
