"""The expression prototypes: emotion x intensity -> AU change, and reading a change back."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_cause.au import au_index
from espnet_cause.emotion import (
    EMOTIONS,
    NUM_EMOTIONS,
    PROTOTYPES,
    SCORED_EMOTIONS,
    classify_change,
    emotion_to_aus,
    prototype,
)
from espnet_cause.errors import CauseError


def test_prototypes_use_the_facs_aus():
    assert set(PROTOTYPES["happy"]) == {"AU06", "AU12"}
    assert set(PROTOTYPES["sad"]) == {"AU01", "AU04", "AU15"}
    assert set(PROTOTYPES["angry"]) == {"AU04", "AU05", "AU07", "AU23"}
    assert set(PROTOTYPES["fearful"]) == {"AU01", "AU02", "AU04", "AU05", "AU20", "AU26"}
    assert set(PROTOTYPES["disgusted"]) == {"AU09", "AU10", "AU15"}
    assert set(PROTOTYPES["surprised"]) == {"AU01", "AU02", "AU05", "AU26"}
    assert not PROTOTYPES["neutral"]
    assert set(PROTOTYPES) == set(EMOTIONS)


def test_intensity_scales_the_prototype():
    strong = prototype("happy", "strong")
    normal = prototype("HAP", "normal")
    assert strong[au_index("AU12")] == pytest.approx(1.5)
    assert normal[au_index("AU12")] == pytest.approx(0.9)
    assert strong[au_index("AU25")] == 0.0
    assert not prototype("neutral", "strong").any()
    with pytest.raises(CauseError, match="intensity"):
        prototype("happy", "loud")


def test_each_prototype_reads_as_itself_and_zero_reads_as_nothing():
    for i, emotion in enumerate(SCORED_EMOTIONS):
        sims = classify_change(prototype(emotion, "normal"))
        assert int(np.argmax(sims)) == i, emotion
        assert sims[i] == pytest.approx(1.0)
    assert not classify_change(np.zeros(17)).any()
    batch = classify_change(np.stack([prototype("sad"), -prototype("sad")]))
    assert batch.shape == (2, 6) and batch[1, SCORED_EMOTIONS.index("sad")] < 0


def test_emotion_probabilities_through_the_table():
    post = np.zeros((3, NUM_EMOTIONS), dtype=np.float32)
    post[0, EMOTIONS.index("neutral")] = 1.0
    post[1, EMOTIONS.index("surprised")] = 1.0
    post[2, EMOTIONS.index("happy")] = post[2, EMOTIONS.index("sad")] = 0.5
    aus = emotion_to_aus(post)
    assert aus.shape == (3, 17)
    assert not aus[0].any()
    np.testing.assert_allclose(aus[1], prototype("surprised", "strong"))
    np.testing.assert_allclose(
        aus[2], 0.5 * (prototype("happy", "strong") + prototype("sad", "strong"))
    )
    with pytest.raises(CauseError, match="8"):
        emotion_to_aus(np.zeros((2, 7)))
