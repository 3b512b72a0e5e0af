"""Side-by-side panel and paste-back compositor."""

from __future__ import annotations

import numpy as np

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.face.compose import CropCompositor, feather_mask
from espnet_cause.render.panel import MIN_WIDTH, SidePanel


def test_panel_dimensions_and_motion():
    aus = np.zeros((10, NUM_AUS), np.float32)
    aus[:, au_index("AU25")] = np.linspace(0, 5, 10)
    audio = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    panel = SidePanel(aus, height=300, audio=audio, sample_rate=16000, fps=10)
    first, last = panel.draw(0), panel.draw(9)
    assert first.shape == (300, MIN_WIDTH, 3) and first.dtype == np.uint8
    assert not np.array_equal(first, last)
    frame = np.zeros((300, 200, 3), np.uint8)
    assert panel.compose(frame, 3).shape == (300, 200 + MIN_WIDTH, 3)
    tall = SidePanel(aus, height=601)
    assert tall.draw(0).shape == (601, 602, 3)  # even width


def test_feather_mask():
    mask = feather_mask(128)
    assert mask.shape == (128, 128)
    assert mask[64, 64] == 1.0 and mask[0, 0] < 0.05
    assert (np.diff(mask[64, :64]) >= 0).all()


def test_paste_back_of_unchanged_crop(landmarker, grace):
    face = landmarker.detect(grace)[0]
    comp = CropCompositor(grace, face)
    assert comp.crop.shape == (128, 128, 3)
    back = comp.paste(comp.crop)
    assert back.shape == grace.shape
    # outside the face box nothing changes; inside, only resampling blur
    assert np.array_equal(back[:20], grace[:20])
    box = (slice(comp.y0, comp.y1), slice(comp.x0, comp.x1))
    assert np.abs(back[box].astype(float) - grace[box]).mean() < 12
    # a changed crop changes the photo inside the face box
    changed = comp.paste(np.zeros_like(comp.crop))
    assert changed[box].mean() < grace[box].mean() - 20
