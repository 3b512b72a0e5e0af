"""The lip-sync check's correlation, lag search and loudness baseline on signals with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.errors import CauseError
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


def test_peers_beats_count_and_scale():
    n = 200
    jaw = np.clip(_smooth_noise(n, 7) + 0.5, 0, None)
    video = np.zeros((n, NUM_AUS))
    video[:, au_index("AU25")] = jaw
    video[:, au_index("AU26")] = jaw
    model = video * 2.0  # right shape, twice the swing
    loud = jaw + _smooth_noise(n, 8)
    peer = jaw + 2.0 * _smooth_noise(n, 9)  # a noisier peer
    good = score_clip("good", video, model, loud, FPS, peers={"peer": peer})
    bad = score_clip("bad", video, np.zeros_like(video), loud, FPS, peers={"peer": peer})
    assert 0.0 < good.mouth["peer"].r < good.mouth["model"].r
    assert good.scale["AU25"]["model_std"] == pytest.approx(2 * good.scale["AU25"]["tracked_std"])
    summary = summarize([good, bad])
    assert summary["model_beats_loudness_clips"] == 1
    assert summary["model_beats_loudness_on_every_clip"] is False
    assert summary["peer"]["mouth_r"] == pytest.approx(good.mouth["peer"].r, abs=1e-3)
    assert summary["scale"]["AU26"]["ratio"] == pytest.approx(1.0, abs=1e-3)  # 2x and 0x
    md = markdown_report([good, bad], summary, "m.zip")
    assert (
        "| clip | frames (face) | model mouth r (lag) | loudness mouth r (lag) | peer mouth" in md
    )
    assert "The model beats loudness on 1 of 2 clips." in md
    assert "| AU25 |" in md and "ratio" in md


def test_ulipsync_openness_weights(monkeypatch):
    """The peer's openness is A 1.0, O 0.7, E 0.5, I/U 0.3 of pylipsync's phoneme targets."""
    import sys
    import types

    from espnet_cause.evaluation import ulipsync

    class Seg:
        def __init__(self, start, targets):
            self.start, self.end = start, start + 0.01
            self.phonemes = [types.SimpleNamespace(name=k, target=v) for k, v in targets.items()]

    class Analyzer:
        def extract_phoneme_segments(self, speech, fs, fps, return_seconds):
            assert fps == ulipsync.ANALYSIS_FPS and return_seconds
            return [
                Seg(0.00, {"aa": 1.0, "silence": 0.0}),
                Seg(0.01, {"oh": 0.5, "ee": 0.5}),
                Seg(0.02, {"ih": 0.5, "ou": 0.5, "silence": 1.0}),
            ]

    monkeypatch.setitem(sys.modules, "pylipsync", types.SimpleNamespace(PhonemeAnalyzer=Analyzer))
    out = ulipsync.ulipsync_mouth(np.zeros(480, np.float32), 16000, np.array([0.005, 0.015, 0.025]))
    np.testing.assert_allclose(out, [1.0, 0.6, 0.3], atol=1e-6)
    monkeypatch.setitem(sys.modules, "pylipsync", None)
    with pytest.raises(CauseError, match="pip install --no-deps pylipsync"):
        ulipsync.ulipsync_mouth(np.zeros(480, np.float32), 16000, np.array([0.0]))
