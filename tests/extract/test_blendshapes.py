"""The blendshape -> AU table."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_cause.au import AU_NAMES, au_index
from espnet_cause.extract.blendshapes import (
    AU_MAPPINGS,
    BLENDSHAPE_NAMES,
    DEFAULT_GAIN,
    blendshapes_to_aus,
    mapping_matrix,
)


def test_table_covers_every_au_in_order_with_known_blendshapes():
    assert tuple(m.au for m in AU_MAPPINGS) == AU_NAMES
    assert len(BLENDSHAPE_NAMES) == 51  # ARKit's 52 without tongueOut
    for m in AU_MAPPINGS:
        assert set(m.weights) <= set(BLENDSHAPE_NAMES), m.au
        assert m.gain > 0


def _scores(**values):
    names = ["_neutral", *BLENDSHAPE_NAMES]
    row = np.zeros(len(names), np.float32)
    for name, v in values.items():
        row[names.index(name)] = v
    return row[None], names


def test_smile_maps_to_au12_only():
    scores, names = _scores(mouthSmileLeft=0.8, mouthSmileRight=0.6)
    aus = blendshapes_to_aus(scores, names)
    assert aus.shape == (1, 17) and aus.dtype == np.float32
    assert aus[0, au_index("AU12")] == pytest.approx(0.7 * DEFAULT_GAIN)
    assert np.count_nonzero(aus) == 1


def test_lips_part_is_jaw_open_unless_lips_closed_and_scale_is_clipped():
    scores, names = _scores(jawOpen=0.6, mouthClose=0.6)
    aus = blendshapes_to_aus(scores, names)[0]
    assert aus[au_index("AU26")] == pytest.approx(3.0)
    assert aus[au_index("AU25")] == 0.0
    scores, names = _scores(jawOpen=1.0)
    aus = blendshapes_to_aus(np.vstack([scores, np.full_like(scores, np.nan)]), names)
    assert aus[0, au_index("AU25")] == pytest.approx(5.0)
    assert aus[0].max() <= 5.0
    assert np.isnan(aus[1]).all()  # missing frames stay missing


def test_missing_blendshape_is_an_error():
    with pytest.raises(ValueError, match="mouthSmileLeft"):
        mapping_matrix([n for n in BLENDSHAPE_NAMES if n != "mouthSmileLeft"])
