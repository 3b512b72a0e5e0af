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


def test_paste_back_blends_the_whole_box_as_one(landmarker, grace):
    """The paste copies the crop where the mask is 1 and blends only the strips around that
    rectangle (speed, session 12): the same photo as one ``cv2.blendLinear`` over the whole box,
    for random crops, at two crop sizes, with the demo face turned (the mask's box tilted)."""
    import cv2

    face = landmarker.detect(grace)[0]
    h, w = grace.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), 12.0, 1.0)
    turned = cv2.warpAffine(grace, turn, (w, h), borderMode=cv2.BORDER_REFLECT)
    rng = np.random.default_rng(5)
    for image in (grace, turned):
        face = landmarker.detect(image)[0]
        for size in (128, 200):
            comp = CropCompositor(image, face, size=size)
            rows, cols = comp.solid
            assert (rows.stop - rows.start) * (cols.stop - cols.start) > 0.2 * comp.mask.size
            assert (comp.mask[comp.solid] == 1.0).all()
            crop = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            patch = cv2.warpAffine(
                crop,
                comp.to_box,
                comp.box_size,
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
            expected = image.copy()
            expected[comp.y0 : comp.y1, comp.x0 : comp.x1] = cv2.blendLinear(
                patch, comp.background, comp.mask, comp.keep
            )
            np.testing.assert_array_equal(comp.paste(crop), expected)
