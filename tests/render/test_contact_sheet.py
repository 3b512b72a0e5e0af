"""Contact-sheet tiles."""

from __future__ import annotations

import numpy as np

from espnet_cause.render.contact_sheet import square_crop


def test_square_crop_resizes_and_pads_past_the_border():
    frame = np.zeros((40, 60, 3), np.uint8)
    frame[:, 30:] = 200
    tile = square_crop(frame, (20, 10, 20), 10)  # inside: left half dark, right half light
    assert tile.shape == (10, 10, 3)
    assert tile[:, :4].max() == 0 and tile[:, 6:].min() == 200
    over = square_crop(frame, (50, -10, 20), 8, fill=128)  # reaches over the top right corner
    assert (over[:2, :] == 128).all() and (over[-2:, :2] == 200).all()
    repeated = square_crop(frame, (50, -10, 20), 8)
    assert (repeated[:2, :2] == 200).all()
