"""The ``extract_au`` job: videos -> AU tracks as OpenFace-style CSVs, one video or a set.

:func:`extract_one` turns one video into an :class:`~espnet_cause.io.track.AUTrack` with either
extractor; :func:`extract_video_set` runs it over a ``video.scp`` through the batch runner
(:mod:`espnet_cause.jobs.batch`: resumable, on Dask when configured, ``extract_report.tsv``).
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

from espnet_cause.au import DEFAULT_AU_FPS
from espnet_cause.errors import CauseError
from espnet_cause.extract.mediapipe import MediaPipeAUExtractor
from espnet_cause.extract.openface import import_openface_csv, openface_csv_for
from espnet_cause.face.landmarker import close_all
from espnet_cause.io.blendshapes import blendshape_csv_path, write_blendshape_csv
from espnet_cause.io.datadir import read_kaldi_map
from espnet_cause.io.openface import write_openface_csv
from espnet_cause.jobs.batch import finish, output_lock, run_batch

logger = logging.getLogger(__name__)

#: The report of a set, in its output directory.
REPORT_FILE = "extract_report.tsv"
#: The job's own report columns (after key, status, reason).
REPORT_COLUMNS = ("frames", "faces")
#: Longest gap (seconds) interpolated when resampling.
DEFAULT_MAX_GAP = 0.5


def setup_extractor(
    extractor: str, face_landmarker_path: str | None = None, max_fps: float | None = None
) -> dict:
    """Per-worker environment of the extraction jobs: the loaded MediaPipe tracker, if any."""
    if extractor != "mediapipe":
        return {}

    tracker = MediaPipeAUExtractor(face_landmarker_path=face_landmarker_path, max_fps=max_fps)
    return {"tracker": tracker}


def extract_one(
    extractor: str,
    video: str,
    *,
    tracker=None,
    openface_dir: str | None = None,
    au_fps: float = DEFAULT_AU_FPS,
    max_gap: float = DEFAULT_MAX_GAP,
):
    """One video -> AUTrack (resampled to ``au_fps`` unless it is 0).

    Args:
        extractor: ``mediapipe`` (runs ``tracker``) or ``openface`` (imports the CSV that
            OpenFace ``FeatureExtraction`` wrote into ``openface_dir``).
        video: The video file.
        tracker: From :func:`setup_extractor` (mediapipe).
        openface_dir: OpenFace's ``-out_dir`` (openface).
        au_fps: Resample to this rate; 0 keeps the video's frames.
        max_gap: Longest gap (seconds) that resampling interpolates.
    """
    if extractor == "mediapipe":
        track = tracker(video)
    else:
        if openface_dir is None:
            raise CauseError(
                "the openface extractor needs --openface_dir",
                fix="pass the -out_dir you gave OpenFace FeatureExtraction",
            )
        track = import_openface_csv(openface_csv_for(video, openface_dir))
    if au_fps:
        track, report = track.resample(au_fps, max_gap=max_gap)
        if report.flagged:
            logger.warning(
                "%s: %d of %d frames in gaps longer than %g s (written with success 0)",
                video, report.num_missing, report.num_frames, max_gap,
            )  # fmt: skip
    return track


def write_track(output: str | os.PathLike, track) -> None:
    """The OpenFace-style CSV, and with blendshapes (mediapipe) ``<name>.blendshapes.csv`` beside
    it (:mod:`espnet_cause.io.blendshapes`: the 51 scores and the head rotation of the frames)."""

    write_openface_csv(output, track)
    if track.blendshapes is not None:
        write_blendshape_csv(
            blendshape_csv_path(output), track.blendshapes, track.timestamps, track.head_pose
        )


def extract_item(key: str, payload: dict, tracker=None) -> dict:
    """One video of a set -> ``payload['output']`` CSV (module level: runs on Dask workers)."""
    track = extract_one(
        payload["extractor"],
        payload["video"],
        tracker=tracker,
        openface_dir=payload["openface_dir"],
        au_fps=payload["au_fps"],
        max_gap=payload["max_gap"],
    )
    write_track(payload["output"], track)
    return {"frames": len(track), "faces": int(track.success.sum())}


def extract_video_set(
    video_scp: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    extractor: str,
    face_landmarker_path: str | None = None,
    openface_dir: str | None = None,
    au_fps: float = DEFAULT_AU_FPS,
    max_gap: float = DEFAULT_MAX_GAP,
    parallel_config=None,
) -> dict[str, dict]:
    """Every video of a ``video.scp`` -> ``output_dir/<utt>.csv`` and ``extract_report.tsv``.

    Args:
        video_scp: ``<utt> <video path>`` lines.
        output_dir: Where the CSVs and the report go.
        extractor, face_landmarker_path, openface_dir, au_fps, max_gap: As for
            :func:`extract_one` (``face_landmarker_path`` is the resolved model file).
        parallel_config: From :func:`espnet_cause.jobs.parallel.load_parallel_config`.

    Returns:
        The runner's records by utterance.

    Raises:
        CauseError: when no video could be processed.
    """

    output_dir = Path(output_dir)
    videos = read_kaldi_map(video_scp, check_sorted=False)
    settings = {
        "extractor": extractor,
        "openface_dir": openface_dir,
        "au_fps": au_fps,
        "max_gap": max_gap,
    }
    items = [
        (utt, {**settings, "video": path, "output": str(output_dir / f"{utt}.csv")})
        for utt, path in videos.items()
    ]
    teardown = close_all if extractor == "mediapipe" else None
    with output_lock(output_dir):
        records = run_batch(
            items,
            extract_item,
            output_dir=output_dir,
            settings=settings,
            item_files=lambda utt: [output_dir / f"{utt}.csv"],
            setup_fn=functools.partial(
                setup_extractor, extractor, face_landmarker_path, au_fps or None
            ),
            teardown_fn=teardown,
            parallel_config=parallel_config,
            desc=f"extract AUs ({extractor})",
            retry_errors=True,
            keys_from=video_scp,
        )
        finish(output_dir / REPORT_FILE, videos, records, REPORT_COLUMNS, what="video")
    return records
