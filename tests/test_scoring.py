"""Scoring metrics on hand-computable arrays, baselines, and a perfect prediction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from espnet_cause.au import NUM_AUS
from espnet_cause.evaluation import scoring


def _cols(*columns):
    """(N, len(columns)) float array from 1-D columns."""
    return np.stack([np.asarray(c, np.float64) for c in columns], axis=1)


def test_metrics_by_hand():
    ref = _cols([1, 2, 3, 4], [0, 0, 0, 0], [1, 2, 3, 4])
    hyp = _cols([2, 4, 6, 8], [1, 2, 3, 4], [4, 3, 2, 1])
    p = scoring.pcc(ref, hyp)
    assert p[0] == pytest.approx(1.0)
    assert math.isnan(p[1])  # constant reference: undefined
    assert p[2] == pytest.approx(-1.0)
    # CCC col 0: mu 2.5 vs 5, var 1.25 vs 5, cov 2.5 -> 5 / (1.25 + 5 + 6.25) = 0.4
    c = scoring.ccc(ref, hyp)
    assert c[0] == pytest.approx(0.4)
    assert c[1] == pytest.approx(0.0)  # cov 0 with a constant reference
    assert c[2] == pytest.approx(-1.0)
    # RMSE col 0: errors 1,2,3,4 -> sqrt(30/4); MAE 2.5
    assert scoring.rmse(ref, hyp)[0] == pytest.approx(math.sqrt(7.5))
    assert scoring.mae(ref, hyp)[0] == pytest.approx(2.5)
    assert scoring.mae(ref, hyp)[1] == pytest.approx(2.5)


def test_ccc_of_identical_constants_is_undefined():
    ref = _cols([2, 2, 2])
    assert math.isnan(scoring.ccc(ref, ref)[0])
    assert math.isnan(scoring.pcc(ref, ref)[0])


def test_concatenation_and_nan_frames():
    ref1 = np.zeros((3, NUM_AUS))
    ref1[:, 0] = [0, 1, 2]
    ref2 = np.zeros((2, NUM_AUS))
    ref2[:, 0] = [3, np.nan]  # a missing reference frame is left out
    hyp1, hyp2 = ref1.copy(), np.zeros((2, NUM_AUS))
    hyp2[:, 0] = [2, 5]
    s = scoring.score_pairs({"a": (ref1, hyp1), "b": (ref2, hyp2)})
    # Concatenated AU01: ref 0,1,2,3 hyp 0,1,2,2 -> MAE 0.25, RMSE 0.5
    assert s.per_au["mae"][0] == pytest.approx(0.25)
    assert s.per_au["rmse"][0] == pytest.approx(0.5)
    # The other 16 AUs are all-zero in both: PCC undefined, excluded from the mean.
    assert s.num_defined["pcc"] == 1
    assert s.mean["pcc"] == pytest.approx(s.per_au["pcc"][0])
    assert s.mean["mae"] == pytest.approx(0.25 / NUM_AUS)


def test_time_warp_and_crop():
    a = np.zeros((3, NUM_AUS), np.float32)
    a[:, 0] = [0, 1, 2]
    np.testing.assert_allclose(scoring.time_warp(a, 5)[:, 0], [0, 0.5, 1, 1.5, 2])
    r, h, diff = scoring.crop_pair("u", np.zeros((10, 17)), np.zeros((7, 17)))
    assert len(r) == len(h) == 7 and diff == 3


def test_perfect_prediction_beats_baselines():
    rng = np.random.default_rng(0)
    pairs = {}
    for i in range(4):
        t = np.arange(60 + 10 * i)[:, None]
        ref = 2.5 + 2 * np.sin(t / (3 + i) + rng.uniform(0, 6, NUM_AUS))
        pairs[f"utt{i}"] = (ref.astype(np.float32), ref.astype(np.float32))
    model = scoring.score_pairs(pairs)
    assert model.mean["pcc"] == pytest.approx(1.0)
    assert model.mean["ccc"] == pytest.approx(1.0)
    assert model.mean["rmse"] == pytest.approx(0.0, abs=1e-6)
    base = scoring.baseline_pairs(pairs, np.full(NUM_AUS, 2.5))
    mean_scores = scoring.score_pairs(base[scoring.TRAIN_MEAN])
    assert mean_scores.num_defined["pcc"] == 0  # a constant predictor has no correlation
    assert mean_scores.mean["ccc"] == pytest.approx(0.0)
    diff_scores = scoring.score_pairs(base[scoring.DIFFERENT_UTT])
    assert diff_scores.mean["pcc"] < 0.5
    for b in (mean_scores, diff_scores):
        assert all(scoring.beats(model, b).values())
    md = scoring.markdown_report(
        {"model": model, "train_mean": mean_scores},
        num_utterances=4,
        num_frames=300,
        fps=25,
        notes=[],
        verdict={"train_mean": scoring.beats(model, mean_scores)},
    )
    assert "| AU12 | Lip corner puller |" in md and "n/a" in md
