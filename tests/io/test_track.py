"""Resampling AU tracks by timestamp, with missing frames interpolated or reported, never zeroed."""

import numpy as np
import pytest

from espnet_cause.au import NUM_AUS
from espnet_cause.io.track import AUTrack


def ramp_track(n: int, fps: float) -> AUTrack:
    t = np.arange(n) / fps
    values = np.repeat((t * 1.0)[:, None], NUM_AUS, axis=1)  # 1 unit per second on every AU
    return AUTrack(values, t, np.ones(n, bool), np.ones(n, np.float32), fps=fps)


def test_resample_30_to_25_is_linear_in_time():
    track = ramp_track(91, 30.0)  # 0 .. 3 s
    out, report = track.resample(25.0)
    assert out.intensities.shape == (76, NUM_AUS)
    assert np.allclose(out.intensities[:, 0], np.arange(76) / 25.0, atol=1e-5)
    assert not report.flagged and report.num_missing == 0
    assert out.fps == 25.0


def test_num_frames_sets_length_and_holds_ends():
    out, report = ramp_track(10, 25.0).resample(25.0, num_frames=12)
    assert len(out) == 12 and not report.flagged
    assert out.intensities[-1, 0] == pytest.approx(out.intensities[9, 0])


def test_short_gap_interpolated_long_gap_stays_missing():
    track = ramp_track(100, 25.0)  # 4 s
    track.success[10:15] = False  # 0.2 s gap
    track.confidence[50:80] = 0.1  # 1.2 s of low confidence
    out, report = track.resample(25.0, max_gap=0.5)
    assert np.allclose(out.intensities[10:15, 0], np.arange(10, 15) / 25, atol=1e-5)
    assert np.isnan(out.intensities[50:80]).all()
    assert not out.success[50:80].any()
    assert report.flagged and report.num_missing == 30
    assert report.longest_gap == pytest.approx(1.2)
    assert report.num_source_missing == 35
    assert np.nanmin(out.intensities) >= 0.0  # missing frames are NaN, not zeros


def test_all_failed_track_is_all_missing():
    track = ramp_track(20, 25.0)
    track.success[:] = False
    out, report = track.resample(25.0)
    assert np.isnan(out.intensities).all() and report.missing_fraction == 1.0


def test_values_are_clipped_to_scale():
    track = AUTrack.from_array(np.full((5, NUM_AUS), 7.0), fps=25)
    out, _ = track.resample(25.0)
    assert out.intensities.max() == 5.0


def test_wrong_shape_is_an_error():
    from espnet_cause.errors import CauseError

    with pytest.raises(CauseError, match=r"expected \(T, 17\)"):
        AUTrack.from_array(np.zeros((5, 16)), fps=25, source="x.npy")


def test_fill_gaps_interpolates_per_column_and_holds_edges():
    from espnet_cause.io.track import fill_gaps

    values = np.array([[np.nan, 5.0], [1.0, np.nan], [np.nan, np.nan], [3.0, 2.0], [np.nan, 0.0]])
    out = fill_gaps(values)
    assert out.dtype == np.float32 and not np.isnan(out).any()
    np.testing.assert_allclose(out[:, 0], [1, 1, 2, 3, 3])  # edges hold, inside is linear
    np.testing.assert_allclose(out[:, 1], [5, 4, 3, 2, 0])
    assert np.isnan(values).sum() == 5  # the input is not changed
    assert (fill_gaps(np.full((3, 2), np.nan), fill_value=0.5) == 0.5).all()
