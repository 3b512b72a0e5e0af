"""Squinting photos: AU07 tightens their lids over its whole range."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_cause.au import AU_INTENSITY_MAX, NUM_AUS, au_index
from espnet_cause.render.warp import WarpRenderer
from espnet_cause.render.warp_motion import EYE_LOWER, EYE_UPPER

AU07 = au_index("AU07")
#: The demo photo's own AUs as the tracker reads it: a squint (AU07 3.1), a little of a blink.
OWN = {"AU07": 3.1, "AU45": 0.3}


@pytest.fixture(scope="module")
def squinting(landmarker_path, landmarker, grace):
    """The demo photo in absolute mode with its own squint, and its face."""
    face = landmarker.detect(grace)[0]
    own = np.zeros(NUM_AUS, np.float32)
    for name, value in OWN.items():
        own[au_index(name)] = value
    renderer = WarpRenderer(landmarker_path)
    renderer.prepare(grace, face=face, photo_aus=own)
    yield renderer._prepared, face
    renderer.close()


def test_tightening_above_a_squinting_photos_own_spans_the_whole_scale(squinting):
    """AU07 driven from 0 to 5 on a squinting photo raises the lower lid as far as 5 units of AU07
    raise it on a photo without a squint: 0 relaxes only part of the photo's squint (to the
    neutral opening), so the units above the photo's own carry the rest (the brows' rule,
    ``_raise_gain``), by the lower lid alone (the upper lid coming down read as a blink). Main
    moved it 0.65 of that: the closed loop's sweep 0 -> 4 spanned less than half of AU07's range
    on the demo photo."""
    prepared, face = squinting
    basis = prepared.basis[AU07]
    row = np.zeros(NUM_AUS, np.float32)
    relaxed = prepared.moved_points(row)
    row[AU07] = AU_INTENSITY_MAX
    tight = prepared.moved_points(row)
    lower_middles = [lower[len(lower) // 2] for lower in EYE_LOWER]
    full = -AU_INTENSITY_MAX * basis[lower_middles, 1]
    assert (full > 1.0).all()
    np.testing.assert_allclose((relaxed - tight)[lower_middles, 1], full, rtol=0.02)
    # the photo's own AUs leave the lids where they are; above them the upper lid moves as AU07's
    # own motion says (no more)
    row[AU07], row[au_index("AU45")] = OWN["AU07"], OWN["AU45"]
    at_own = prepared.moved_points(row)
    np.testing.assert_allclose(at_own, face.points, atol=1e-3)
    row[AU07] = AU_INTENSITY_MAX
    upper_middles = [upper[len(upper) // 2] for upper in EYE_UPPER]
    above = (AU_INTENSITY_MAX - OWN["AU07"]) * basis[upper_middles, 1]
    moved = prepared.moved_points(row) - at_own
    np.testing.assert_allclose(moved[upper_middles, 1], above, rtol=0.02)
