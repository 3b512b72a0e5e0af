"""AU tracks from OpenFace 2.x: import the CSVs its ``FeatureExtraction`` tool wrote.

OpenFace (https://github.com/TadasBaltrusaitis/OpenFace, 2.2.0 or 2.0.x) is not run by this
package; run it yourself, once per video, with the AU output switched on::

    FeatureExtraction -f video.mp4 -out_dir DIR -aus

It writes ``DIR/video.csv`` (named after the video file, one row per frame, with ``frame``,
``face_id``, ``timestamp``, ``confidence``, ``success``, ``AUxx_r`` and ``AUxx_c`` columns) plus a
``video_of_details.txt``. Notes:

- ``-aus`` is the only output needed. ``-2Dfp``, ``-3Dfp``, ``-pdmparams``, ``-pose``, ``-gaze``
  and ``-hogalign`` add columns or files that are ignored here; without any output flag
  OpenFace writes everything, which also works but is slower and larger.
- Several videos: ``FeatureExtraction -f a.mp4 -f b.mp4 -out_dir DIR -aus``, or
  ``-fdir FRAMES_DIR`` for a directory of images. For a video with several people use
  ``FaceLandmarkVidMulti`` (adds ``face_id``; the face with most tracked frames is taken).
- Keep the default ``-out_dir`` layout: the recipe finds ``DIR/<video stem>.csv``, or reads the
  paths listed in a data dir's ``au_csv.scp``.
- Frames where OpenFace lost the face have ``success`` 0; they are missing data here.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from espnet_cause.au import AU_INTENSITY_MAX, AU_INTENSITY_MIN
from espnet_cause.errors import CauseError
from espnet_cause.io.openface import read_openface_csv
from espnet_cause.io.track import AUTrack

#: How far outside 0..5 an intensity may stray (OpenFace's regressors overshoot slightly).
RANGE_TOLERANCE = 0.5


def openface_csv_for(video: str | os.PathLike, openface_dir: str | os.PathLike) -> Path:
    """The CSV that ``FeatureExtraction -f VIDEO -out_dir OPENFACE_DIR`` writes for a video.

    Raises:
        CauseError: if it is not there, with the command that makes it.
    """
    video = Path(video)
    csv = Path(openface_dir) / (video.stem + ".csv")
    if not csv.is_file():
        raise CauseError(
            f"no OpenFace output for {video}",
            path=csv,
            fix=f"run: FeatureExtraction -f {video} -out_dir {openface_dir} -aus",
        )
    return csv


def import_openface_csv(path: str | os.PathLike, face_id: int | None = None) -> AUTrack:
    """Read and validate an OpenFace CSV.

    Args:
        path: The CSV written by OpenFace (or by the built-in extractor).
        face_id: Face to read from a multi-face CSV (default: the best-tracked face).

    Returns:
        The track; failed frames keep ``success`` False.

    Raises:
        CauseError: naming the file for an unreadable CSV (see
            :func:`espnet_cause.io.openface.read_openface_csv`), a track where no frame was
            tracked, or intensities far outside OpenFace's 0..5 scale.
    """
    track = read_openface_csv(path, face_id=face_id)
    valid = track.valid_mask()
    if not valid.any():
        raise CauseError(
            f"no frame with a tracked face (all {len(track)} frames have success 0 or low "
            "confidence)",
            path=path,
            fix="check the video shows a face; OpenFace could not track one",
        )
    values = track.intensities[valid]
    low, high = float(values.min()), float(values.max())
    if low < AU_INTENSITY_MIN - RANGE_TOLERANCE or high > AU_INTENSITY_MAX + RANGE_TOLERANCE:
        raise CauseError(
            f"AU intensities span {low:.2f}..{high:.2f}, not OpenFace's "
            f"{AU_INTENSITY_MIN:g}..{AU_INTENSITY_MAX:g} scale",
            path=path,
            fix="give the AUxx_r intensities as OpenFace writes them (unnormalised)",
        )
    track.intensities = np.clip(track.intensities, AU_INTENSITY_MIN, AU_INTENSITY_MAX)
    return track
