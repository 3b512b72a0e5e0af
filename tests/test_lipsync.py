"""The lip-sync check's correlation, lag search and loudness baseline on signals with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.evaluation.lipsync import (
    LOUDNESS,
    MODEL,
    best_lag_r,
    markdown_report,
    mouth,
    pearson,
    score_clip,
    shifted,
    summarize,
)

FPS = 25.0


def _smooth_noise(n, seed):
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(np.random.default_rng(seed).standard_normal(n), 2.0)


def test_pearson_known_values():
    x = np.arange(20.0)
    assert pearson(x, 3 * x + 1) == pytest.approx(1.0)
    assert pearson(x, -x) == pytest.approx(-1.0)
    # r of x with x + independent noise of equal variance is 1/sqrt(2)
    a, b = _smooth_noise(20000, 0), _smooth_noise(20000, 1)
    assert pearson(a, a + b) == pytest.approx(1 / math.sqrt(2), abs=0.02)
    assert math.isnan(pearson(x, np.ones(20)))  # constant: undefined
    with_nan = x.copy()
    with_nan[3] = np.nan
    assert pearson(with_nan, x) == pytest.approx(1.0)  # NaN frames left out


def test_shifted():
    x = np.arange(5.0)
    np.testing.assert_array_equal(shifted(x, 2), [2, 3, 4, np.nan, np.nan])
    np.testing.assert_array_equal(shifted(x, -1), [np.nan, 0, 1, 2, 3])


@pytest.mark.parametrize("late", [-2, -1, 0, 1, 2])
def test_best_lag_finds_a_known_delay(late):
    ref = _smooth_noise(500, 2)
    hyp = shifted(ref, -late)  # hyp[t] = ref[t - late]: the prediction is `late` frames late
    best = best_lag_r(ref, hyp, FPS, 0.08)
    assert best.lag_frames == late and best.lag_ms == pytest.approx(40.0 * late)
    assert best.r == pytest.approx(1.0)


def test_lag_outside_the_window_is_not_found():
    ref = _smooth_noise(500, 3)
    hyp = shifted(ref, -4)  # 160 ms late: beyond +-80 ms
    best = best_lag_r(ref, hyp, FPS, 0.08)
    assert abs(best.lag_frames) <= 2 and best.r < 0.9


def test_score_clip_model_vs_loudness():
    n = 300
    jaw = np.clip(_smooth_noise(n, 4) + 0.5, 0, None)
    video = np.zeros((n, NUM_AUS))
    video[:, au_index("AU25")] = 2 * jaw
    video[:, au_index("AU26")] = jaw
    video[:, au_index("AU12")] = _smooth_noise(n, 5)
    video[10:15] = np.nan  # frames without a face
    model = np.zeros((n + 3, NUM_AUS))  # a little longer: cropped
    model[1 : n + 1, au_index("AU25")] = 2 * jaw  # model[t] = video[t - 1]: one frame late
    model[1 : n + 1, au_index("AU26")] = jaw
    loud = jaw + 1.0 * _smooth_noise(n, 6)  # related, but noisier
    scores = score_clip("clip", video, model, loud, FPS)
    assert scores.num_frames == n and scores.num_valid == n - 5
    assert scores.mouth[MODEL].r == pytest.approx(1.0) and scores.mouth[MODEL].lag_frames == 1
    assert 0.3 < scores.mouth[LOUDNESS].r < 0.9
    assert math.isnan(scores.aus[MODEL]["AU12"].r)  # the model's AU12 is constant
    assert not math.isnan(scores.aus[LOUDNESS]["AU12"].r)
    summary = summarize([scores, scores])
    assert summary["model_beats_loudness_on_every_clip"] is True
    gain = scores.mouth[MODEL].r - scores.mouth[LOUDNESS].r
    assert summary["mouth_r_gain_over_loudness"] == pytest.approx(gain, abs=1e-4)
    md = markdown_report([scores], summary, "m.zip")
    assert "| clip | 300 (295) | 1.000 (+40 ms) |" in md
    assert "| AU12 | n/a |" in md


def test_mouth_is_au25_plus_au26():
    aus = np.zeros((3, NUM_AUS))
    aus[:, au_index("AU25")] = [1, 2, 3]
    aus[:, au_index("AU26")] = [0, 1, 0]
    aus[:, au_index("AU12")] = 5
    np.testing.assert_array_equal(mouth(aus), [1, 3, 3])
