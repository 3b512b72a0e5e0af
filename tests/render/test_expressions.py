"""Expressions on the demo photo: strong emotional AU combinations read back as those emotions."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.emotion import PROTOTYPES, SCORED_EMOTIONS, classify_change
from espnet_cause.render.warp import WarpRenderer


@pytest.fixture(scope="module")
def demo(landmarker_path, grace):
    renderer = WarpRenderer(landmarker_path)  # absolute targets: AUs not named are 0
    renderer.prepare(grace)
    yield renderer
    renderer.close()


def _expression(name: str, intensity: float) -> np.ndarray:
    """(17,) the emotion's prototype with its strongest AU at ``intensity`` (as
    bench/render_expressions.py drives it)."""
    row = np.zeros(NUM_AUS, np.float32)
    weights = PROTOTYPES[name]
    for au, weight in weights.items():
        row[au_index(au)] = intensity * weight / max(weights.values())
    return row


def test_lip_stretcher_is_read_back(demo, tracker):
    """AU20 stretches the lips sideways far enough for the tracker to see it (at 2 it read 0.16:
    the fear mouth was read as a surprised one)."""
    row = np.zeros(NUM_AUS, np.float32)
    rest = tracker.read_photo(demo.frame(row))[au_index("AU20")]
    row[au_index("AU20")] = 2.0
    assert tracker.read_photo(demo.frame(row))[au_index("AU20")] - rest > 0.5


def test_fear_mouth_is_read_stretched(demo, tracker):
    """Fear (FACS 1+2+4+5+20+26) at 3: the tracker reads its lips stretched with the jaw open, and
    the face not as surprise (the tracker reads no AU04 under raised brows, so the stretch is what
    tells fear from surprise; with AU20's old 0.18 pull it was hardly read: 0.16). The read-back
    moves by 0.1 with sub-pixel changes of the mouth the fear frame does not drive (0.83-0.97
    with the AU15 fields of session 6 and 5 and the photo's own AU15 of 0.05 undone or not)."""
    neutral = tracker.read_photo(demo.frame(np.zeros(NUM_AUS, np.float32)))
    fear = tracker.read_photo(demo.frame(_expression("fearful", 3.0)))
    change = fear - neutral
    assert change[au_index("AU20")] > 0.7
    assert SCORED_EMOTIONS[int(np.argmax(classify_change(change)))] != "surprised"
