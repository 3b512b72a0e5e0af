"""Importing OpenFace FeatureExtraction CSVs."""

from __future__ import annotations

import numpy as np
import pytest

from espnet_cause.au import NUM_AUS
from espnet_cause.errors import CauseError
from espnet_cause.extract.openface import import_openface_csv, openface_csv_for
from espnet_cause.io.openface import write_openface_csv
from espnet_cause.io.track import AUTrack


def test_openface20_csv_imports(openface20_csv):
    from made_fixtures import openface20_aus

    track = import_openface_csv(openface20_csv)
    assert track.intensities.shape == (100, NUM_AUS)
    assert track.valid_mask().all()
    assert 0.0 <= track.intensities.min() and track.intensities.max() <= 5.0
    assert np.allclose(track.intensities, openface20_aus(), atol=1e-4)


def test_csv_location_follows_feature_extraction_naming(tmp_path):
    (tmp_path / "of").mkdir()
    (tmp_path / "of" / "talk.csv").write_text("x")
    assert openface_csv_for(tmp_path / "videos" / "talk.mp4", tmp_path / "of").name == "talk.csv"
    with pytest.raises(CauseError, match="FeatureExtraction -f .*other.mp4 -out_dir .* -aus"):
        openface_csv_for(tmp_path / "other.mp4", tmp_path / "of")


def test_no_tracked_frame_and_wrong_scale_are_errors(tmp_path):
    track = AUTrack.from_array(np.ones((5, NUM_AUS), np.float32), fps=25)
    track.success[:] = False
    write_openface_csv(tmp_path / "lost.csv", track)
    with pytest.raises(CauseError, match="lost.csv.*no frame with a tracked face"):
        import_openface_csv(tmp_path / "lost.csv")
    write_openface_csv(tmp_path / "scaled.csv", AUTrack.from_array(np.full((5, NUM_AUS), 40.0), 25))
    with pytest.raises(CauseError, match="scaled.csv.*not OpenFace's"):
        import_openface_csv(tmp_path / "scaled.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(CauseError, match="empty.csv"):
        import_openface_csv(tmp_path / "empty.csv")
