"""The ARKit vocabulary and the AU <-> ARKit table, both ways."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_cause.arkit import (
    AU_MAPPINGS,
    BLENDSHAPE_NAMES,
    DEFAULT_GAIN,
    blendshapes_to_aus,
    mapping_matrix,
)
from espnet_cause.au import AU_NAMES, au_index


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


# ---------------------------------------------------------------- vocabulary
from espnet_cause.arkit import (  # noqa: E402
    ARKIT_NAMES,
    BLENDSHAPES_OF_AU,
    LIPS_APART,
    LIPS_CLOSED,
    LIVELINK_NAMES,
    LIVELINK_ROTATION_NAMES,
    MEDIAPIPE_CATEGORIES,
    aus_to_blendshapes,
    reorder,
    to_camel,
    to_pascal,
)


def test_name_lists_are_the_same_52_blendshapes():
    assert len(ARKIT_NAMES) == len(set(ARKIT_NAMES)) == 52
    assert len(MEDIAPIPE_CATEGORIES) == 52 and MEDIAPIPE_CATEGORIES[0] == "_neutral"
    assert set(BLENDSHAPE_NAMES) == set(ARKIT_NAMES) - {"tongueOut"}
    assert {to_camel(n) for n in LIVELINK_NAMES} == set(ARKIT_NAMES)
    assert [to_pascal(n) for n in ARKIT_NAMES][:14] == list(LIVELINK_NAMES[:14])
    # Live Link Face's own order differs from Apple's in two places
    assert LIVELINK_NAMES[14:18] == ("JawForward", "JawRight", "JawLeft", "JawOpen")
    assert LIVELINK_NAMES[21:23] == ("MouthRight", "MouthLeft")
    assert LIVELINK_NAMES[-1] == "TongueOut" and len(LIVELINK_ROTATION_NAMES) == 9
    assert 2 + len(LIVELINK_NAMES) + len(LIVELINK_ROTATION_NAMES) == 63


def test_mediapipe_order_is_alphabetical_after_neutral():
    # MediaPipe lists its categories alphabetically; the real model's output order is checked
    # against MEDIAPIPE_CATEGORIES in tests/extract/test_mediapipe.py
    assert list(BLENDSHAPE_NAMES) == sorted(BLENDSHAPE_NAMES)


# ---------------------------------------------------------------- AU -> ARKit
def _au(**values):
    row = np.zeros((1, 17), np.float32)
    for name, v in values.items():
        row[0, au_index(name)] = v
    return row


def test_au_to_arkit_drives_left_and_right_and_the_lips_from_au25_au26():
    shapes = aus_to_blendshapes(_au(AU12=4.0, AU26=2.5, AU25=1.0), ARKIT_NAMES)[0]
    get = dict(zip(ARKIT_NAMES, shapes.tolist(), strict=True))
    assert get["mouthSmileLeft"] == get["mouthSmileRight"] == pytest.approx(0.8)
    assert get["jawOpen"] == pytest.approx(0.5)
    assert get["mouthClose"] == pytest.approx(0.3)  # jaw drops more than the lips part
    assert get["mouthLowerDownLeft"] == 0.0
    assert get["tongueOut"] == 0.0
    assert sum(v > 0 for v in get.values()) == 4
    apart = dict(zip(ARKIT_NAMES, aus_to_blendshapes(_au(AU25=3.0), ARKIT_NAMES)[0], strict=True))
    assert apart["mouthLowerDownLeft"] == apart["mouthLowerDownRight"] == pytest.approx(0.6)
    assert apart["mouthClose"] == 0.0 and apart["jawOpen"] == 0.0


def test_au_to_arkit_covers_33_blendshapes_and_keeps_missing_frames():
    driven = {s for shapes in BLENDSHAPES_OF_AU.values() for s in shapes}
    driven |= {LIPS_CLOSED, *LIPS_APART}
    assert len(driven) == 33 and driven <= set(BLENDSHAPE_NAMES)
    aus = np.vstack([np.full((1, 17), 5.0), np.full((1, 17), np.nan)])
    out = aus_to_blendshapes(aus)
    assert out.shape == (2, 51) and np.isnan(out[1]).all()
    assert out[0].max() == 1.0 and out[0].min() == 0.0
    with pytest.raises(ValueError, match="not ARKit"):
        aus_to_blendshapes(aus, ["jawOpen", "jawDrop"])


def test_round_trip_au_arkit_au_is_exact_where_the_table_documents_it():
    rng = np.random.default_rng(0)
    aus = rng.uniform(0, 5, (200, 17)).astype(np.float32)
    back = blendshapes_to_aus(aus_to_blendshapes(aus), BLENDSHAPE_NAMES)
    j25, j26 = au_index("AU25"), au_index("AU26")
    others = [j for j in range(17) if j != j25]
    np.testing.assert_allclose(back[:, others], aus[:, others], atol=1e-5)
    # AU25 comes back exactly when the lips part no more than the jaw drops, else as AU26
    np.testing.assert_allclose(back[:, j25], np.minimum(aus[:, j25], aus[:, j26]), atol=1e-5)
    # the other way: a symmetric face made by the table maps back onto itself
    shapes = aus_to_blendshapes(aus)
    again = aus_to_blendshapes(blendshapes_to_aus(shapes))
    jaw_ok = aus[:, j25] <= aus[:, j26]
    np.testing.assert_allclose(again[jaw_ok], shapes[jaw_ok], atol=1e-5)


def test_reorder_matches_either_spelling_and_fills_absent_names():
    values = np.arange(2 * 51, dtype=np.float32).reshape(2, 51)
    live = reorder(values, BLENDSHAPE_NAMES, LIVELINK_NAMES)
    assert live.shape == (2, 52)
    j = LIVELINK_NAMES.index("JawOpen")
    np.testing.assert_array_equal(live[:, j], values[:, BLENDSHAPE_NAMES.index("jawOpen")])
    assert (live[:, LIVELINK_NAMES.index("TongueOut")] == 0).all()
    np.testing.assert_array_equal(reorder(live, LIVELINK_NAMES, BLENDSHAPE_NAMES), values)
