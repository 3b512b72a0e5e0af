"""Recipe stage 2, one utterance: its AU track (and blendshapes), 16 kHz audio and AU matrix.

:func:`label_utterance` is the per-item job that :func:`espnet_cause.extract.labels.make_au_labels`
runs through the batch runner (steps 1-4 of that module's docstring); it writes the utterance's
wav and ``.npy`` matrices and returns its record.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from espnet_cause.errors import CauseError
from espnet_cause.extract.openface import import_openface_csv
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.audio import load_speech, write_wav
from espnet_cause.io.blendshapes import blendshape_csv_path, read_blendshape_csv
from espnet_cause.io.timegrid import num_frames_for_fps
from espnet_cause.io.track import AUTrack
from espnet_cause.io.video import read_audio_track

#: Sample rate of the dumped audio.
SAMPLE_RATE = 16000
#: Where an utterance's blendshapes come from (the report's ``blendshapes`` column).
BLENDSHAPES_MEDIAPIPE, BLENDSHAPES_CSV, BLENDSHAPES_TABLE = "mediapipe", "csv", "au_table"


def label_utterance(key: str, payload: dict, tracker=None) -> dict:
    """Make one utterance's AU matrix and 16 kHz wav (module level: runs on Dask workers).

    Args:
        key: Utterance id.
        payload: ``extractor``, ``video``, ``au_csv``, ``wav`` (input paths or None),
            ``wav_out``, ``au_out`` (output paths), ``au_fps``, ``max_gap``,
            ``min_confidence``, ``max_length_diff``.
        tracker: The MediaPipe extractor (from :func:`setup_extractor`), for ``mediapipe``.

    Returns:
        A record: ``status`` ``ok`` with ``extractor``, ``frames``, ``missing_frames``,
        ``source_frames``, ``source_missing``, ``seconds``, or ``status`` ``error`` with
        ``reason`` when the input is bad (the utterance is skipped; a re-run retries it, so a
        fixed input is picked up).
    """
    extractor = payload["extractor"]
    try:
        audio = _audio(key, payload)  # first: cheaper than tracking, and fails fast
        source, track = _au_track(key, payload, tracker)
        extractor = source
        return _finish(key, payload, source, track, audio)
    except CauseError as e:  # a bad input: an error record, retried when the stage re-runs
        return {"status": "error", "extractor": extractor, "reason": str(e)}


def _au_track(key: str, payload: dict, tracker) -> tuple[str, AUTrack]:

    if payload["extractor"] == "mediapipe" and payload.get("video"):
        if tracker is None:
            raise RuntimeError("mediapipe extraction needs a tracker (see setup_extractor)")
        return "mediapipe", tracker(payload["video"])
    if payload.get("au_csv"):
        track = import_openface_csv(payload["au_csv"])
        _attach_blendshape_csv(track, payload["au_csv"])
        return "openface_csv", track
    what = "au_csv.scp entry" if payload["extractor"] == "openface" else "video or au_csv entry"
    raise CauseError(
        f"utterance {key!r} has no {what}",
        fix="list its OpenFace CSV in au_csv.scp (or its video in video.scp for mediapipe)",
    )


def _attach_blendshape_csv(track: AUTrack, au_csv: str) -> None:
    """Give an imported AU track the blendshapes of ``<name>.blendshapes.csv``, if there is one."""

    path = blendshape_csv_path(au_csv)
    if not path.is_file():
        return
    values, times, pose = read_blendshape_csv(path)
    if len(times) != len(track) or not np.allclose(times, track.timestamps, atol=1e-3):
        raise CauseError(
            f"{len(times)} blendshape rows do not match the {len(track)} frames of {au_csv}",
            path=path,
            fix="write the blendshape CSV from the same frames as the AU CSV, or delete it",
        )
    track.blendshapes = values
    track.head_pose = pose


def _audio(key: str, payload: dict) -> np.ndarray:

    if payload.get("video"):
        return read_audio_track(payload["video"], sample_rate=SAMPLE_RATE)
    wav = payload.get("wav")
    if not wav:
        raise CauseError(f"utterance {key!r} has no wav.scp entry and no video")
    samples, _ = load_speech(wav, name=key, target_sr=SAMPLE_RATE)
    return samples


def _finish(key: str, payload: dict, source: str, track: AUTrack, audio: np.ndarray) -> dict:

    seconds = len(audio) / SAMPLE_RATE
    au_seconds = track.duration
    if abs(seconds - au_seconds) > payload["max_length_diff"]:
        raise CauseError(
            f"audio is {seconds:.2f} s but the AU track is {au_seconds:.2f} s "
            f"(more than {payload['max_length_diff']:g} s apart)",
            path=track.source or None,
            fix="give the audio and the video/CSV of the same recording",
        )
    au_fps = payload["au_fps"]
    num_frames = num_frames_for_fps(seconds, au_fps)
    # Past the track's end, the last frame holds for up to max_length_diff (padding).
    max_gap = max(payload["max_gap"], payload["max_length_diff"])
    resampled, report = track.resample(
        au_fps,
        min_confidence=payload["min_confidence"],
        max_gap=payload["max_gap"],
        num_frames=num_frames,
    )
    tail = resampled.timestamps > track.timestamps[-1]
    if tail.any() and max_gap > payload["max_gap"]:
        padded, _ = track.resample(
            au_fps, min_confidence=payload["min_confidence"], max_gap=max_gap, num_frames=num_frames
        )
        fill = tail & np.isnan(resampled.intensities).any(axis=1)
        resampled.intensities[fill] = padded.intensities[fill]
        for name in ("blendshapes", "head_pose"):
            if getattr(resampled, name) is not None:
                getattr(resampled, name)[fill] = getattr(padded, name)[fill]
    missing = int(np.isnan(resampled.intensities).any(axis=1).sum())
    write_wav(payload["wav_out"], audio, SAMPLE_RATE)
    with atomic_write(payload["au_out"]) as tmp:
        np.save(tmp, resampled.intensities.astype(np.float32))
    blendshapes = BLENDSHAPES_TABLE
    if resampled.blendshapes is not None:
        blendshapes = BLENDSHAPES_MEDIAPIPE if source == "mediapipe" else BLENDSHAPES_CSV
        with atomic_write(extra_path(payload["au_out"], "blendshapes")) as tmp:
            np.save(tmp, resampled.blendshapes.astype(np.float32))
    if resampled.head_pose is not None:
        with atomic_write(extra_path(payload["au_out"], "head_pose")) as tmp:
            np.save(tmp, resampled.head_pose.astype(np.float32))
    return {
        "blendshapes": blendshapes,
        "status": "ok",
        "extractor": source,
        "frames": num_frames,
        "missing_frames": missing,
        "source_frames": len(track),
        "source_missing": report.num_source_missing,
        "seconds": round(seconds, 3),
    }


def extra_path(au_out: str | os.PathLike, name: str) -> Path:
    """Where an utterance's blendshape or head pose matrix goes beside its AU matrix."""
    p = Path(au_out)
    return p.with_name(f"{p.stem}.{name}{p.suffix}")
