"""Recipe stage 2: AU labels and 16 kHz audio for every utterance of a Kaldi data dir.

Per utterance (:func:`espnet_cause.extract.utterance.label_utterance`, run through the batch
runner :mod:`espnet_cause.jobs.batch`,
so it runs on a Dask cluster when configured, resumes after a crash and starts over when a setting
changes):

1. AU track: ``mediapipe`` runs the built-in tracker on the ``video.scp`` entry when the utterance
   has one and otherwise imports its ``au_csv.scp`` CSV; ``openface`` imports the ``au_csv.scp``
   CSV (written by OpenFace ``FeatureExtraction``; see :mod:`espnet_cause.extract.openface`).
2. Audio: the video's audio track when the utterance has a video, else its ``wav.scp`` file; as
   16 kHz mono.
3. Lengths: audio and AU track may differ by at most ``max_length_diff`` seconds (the AU track is
   then padded or trimmed by its edge values); a larger difference skips the utterance.
4. The track is resampled by timestamp to ``au_fps`` with ``ceil(audio_seconds * au_fps)`` frames;
   gaps up to ``max_gap`` seconds are interpolated.

Then :func:`make_au_labels` drops utterances with more than ``max_missing_fraction`` of their
frames in longer gaps (kept ones have those few frames bridged linearly, so the matrices hold no
NaN), and writes the dump dir atomically: ``wav.scp`` (``wav/<utt>.wav``), ``au.scp``/``au.ark``,
``utt2spk``, ``spk2utt``, ``au_fps`` and ``au_report.tsv``. Bad inputs skip their utterance with
the reason in the report; the stage fails only when more than ``max_fail_fraction`` of the
utterances are not kept.

Blendshapes (the labels of ``target: arkit`` models): ``blendshapes.scp``/``.ark`` holds a
(T, 51) matrix per kept utterance on the same frame grid, with the same gap filling and
bridging, in :data:`espnet_cause.arkit.BLENDSHAPE_NAMES` order (0..1; MediaPipe has no
``tongueOut``). Where they come from is the report's ``blendshapes`` column: ``mediapipe``
(the tracker's own scores of the video), ``csv`` (a blendshape CSV
``<name>.blendshapes.csv`` beside the utterance's AU CSV, :mod:`espnet_cause.io.blendshapes`),
or ``au_table`` (derived from the AU track through the AU -> ARKit table of
:mod:`espnet_cause.arkit`: an approximation, left and right equal). ``head_pose.scp`` holds
(T, 3) yaw, pitch, roll in degrees for the utterances tracked by MediaPipe.

Loss weights: the data dir's ``au_weight.scp`` (:mod:`espnet_cause.io.au_weight`), times an
``au_weights`` table given for the whole set, becomes the dump's ``au_weight.scp`` for the
kept utterances (a table alone gives every kept utterance its vector). With
``mask_outside_speech`` (seconds) they become (T, 17) per-frame weights, 0 on the frames more
than that long before the first speech frame or after the last
(:mod:`espnet_cause.extract.onset`): what a real face does there (breathing in through the
mouth, lips left apart) is not in the sound. With ``close_lips_outside_speech`` those frames
teach closed lips instead of nothing: their lip AUs (:data:`LIP_AUS`, AU25 and AU26) are labelled
0 at full weight (the other AUs still weigh 0), so the model keeps the mouth shut in room tone;
so are the lip AUs of the pauses inside that span (:func:`espnet_cause.extract.onset.quiet_runs`:
0.2 s or more within 10 dB of the noise floor), whose other AUs keep their weights (the AU
labels only: ``blendshapes.scp`` keeps the tracker's values).
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections import Counter
from pathlib import Path

import numpy as np
import soundfile as sf

from espnet_cause.arkit import NUM_BLENDSHAPES, aus_to_blendshapes
from espnet_cause.au import DEFAULT_AU_FPS, NUM_AUS, au_index
from espnet_cause.errors import CauseError
from espnet_cause.extract.onset import quiet_runs, speech_frames
from espnet_cause.extract.utterance import extra_path, label_utterance
from espnet_cause.extract.videos import setup_extractor
from espnet_cause.face.landmarker import close_all
from espnet_cause.face.model_file import resolve_face_landmarker
from espnet_cause.io.au_files import AUArkWriter, KaldiArkWriter
from espnet_cause.io.au_weight import (
    AU_WEIGHT_SCP,
    parse_au_weights,
    read_au_weights,
    write_au_weights,
)
from espnet_cause.io.datadir import (
    read_kaldi_map,
    validate_data_dir,
    write_kaldi_map,
    write_utt2spk_spk2utt,
)
from espnet_cause.io.track import DEFAULT_MAX_GAP, DEFAULT_MIN_CONFIDENCE, fill_gaps
from espnet_cause.jobs.batch import (
    BatchDir,
    check_fail_fraction,
    gather_ark,
    output_lock,
    run_batch,
    write_report,
)
from espnet_cause.jobs.parallel import load_parallel_config

logger = logging.getLogger(__name__)

#: The two AU extractors.
EXTRACTORS = ("openface", "mediapipe")
#: The AUs that open the mouth (lips part, jaw drop): labelled 0 outside the speech when the
#: lips are closed there (``close_lips_outside_speech``).
LIP_AUS = [au_index("AU25"), au_index("AU26")]
#: Largest audio/AU length difference (seconds) that is padded or trimmed instead of skipped.
DEFAULT_MAX_LENGTH_DIFF = 0.2
#: Utterances with a larger fraction of unfillable AU frames are dropped.
DEFAULT_MAX_MISSING_FRACTION = 0.2
#: The stage fails when a larger fraction of utterances is not kept.
DEFAULT_MAX_FAIL_FRACTION = 0.3
#: The report and its columns (the batch runner's key, status, reason, then this job's).
REPORT_FILE = "au_report.tsv"
REPORT_COLUMNS = (
    "key", "status", "reason", "extractor", "frames", "missing_frames", "decision", "blendshapes",
)  # fmt: skip
#: With a cluster configured, up to this many CSV-import utterances run in the main process.
MAX_LOCAL_IMPORTS = 2000

KEEP, DROP, SKIP = "keep", "drop", "skip"


def _write_blendshape_labels(output_dir: Path, au_files: dict[str, Path]) -> None:
    """``blendshapes.scp`` for every kept utterance, ``head_pose.scp`` for the tracked ones."""

    with AUArkWriter(
        output_dir / "blendshapes.ark", output_dir / "blendshapes.scp", num_columns=NUM_BLENDSHAPES
    ) as writer:
        for utt, au_file in au_files.items():
            own = extra_path(au_file, "blendshapes")
            if own.is_file():
                writer.write(utt, fill_gaps(np.load(own)))
            else:
                writer.write(utt, aus_to_blendshapes(fill_gaps(np.load(au_file))))
    poses = {u: extra_path(f, "head_pose") for u, f in au_files.items()}
    poses = {u: p for u, p in poses.items() if p.is_file()}
    if poses:
        with KaldiArkWriter(output_dir / "head_pose.ark", output_dir / "head_pose.scp") as writer:
            for utt, path in poses.items():
                writer.write(utt, fill_gaps(np.load(path)))


def make_au_labels(
    data_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    au_extractor: str = "mediapipe",
    face_landmarker_path: str | os.PathLike | None = None,
    au_fps: float = DEFAULT_AU_FPS,
    max_gap: float = DEFAULT_MAX_GAP,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    max_length_diff: float = DEFAULT_MAX_LENGTH_DIFF,
    max_missing_fraction: float = DEFAULT_MAX_MISSING_FRACTION,
    max_fail_fraction: float = DEFAULT_MAX_FAIL_FRACTION,
    parallel_config: str | os.PathLike | None = None,
    au_weights: str | os.PathLike | None = None,
    mask_outside_speech: float | None = None,
    close_lips_outside_speech: bool = False,
) -> dict:
    """Run stage 2 on one data dir (see the module docstring).

    Args:
        data_dir: Kaldi data dir with ``wav.scp``, ``utt2spk``, ``spk2utt`` and optionally
            ``video.scp`` and ``au_csv.scp``.
        output_dir: The dump dir to write.
        au_extractor: ``openface`` or ``mediapipe``.
        face_landmarker_path: MediaPipe model file (mediapipe only).
        au_fps: Frame rate of the AU matrices.
        max_gap: Longest tracking gap (seconds) that is interpolated.
        min_confidence: Tracker frames below this confidence are missing.
        max_length_diff: Largest audio/AU length difference (seconds) that is tolerated.
        max_missing_fraction: Utterances with more unfillable frames are dropped.
        max_fail_fraction: Fail when more than this fraction of utterances is not kept.
        parallel_config: ``conf/parallel/*.yaml`` (None: in this process).
        au_weights: Per-AU loss weights for every utterance (a table for
            :func:`espnet_cause.io.au_weight.parse_au_weights`), or None.
        mask_outside_speech: Weigh 0 the frames more than this many seconds before the first
            speech frame or after the last (per-frame weights), or None.
        close_lips_outside_speech: On those frames label the lips closed (:data:`LIP_AUS` 0 at
            full weight) instead of weighing them 0, and on the pauses inside the speech too;
            needs ``mask_outside_speech``.

    Returns:
        A summary: ``total``, ``kept``, counts per decision and per reason.

    Raises:
        CauseError: for a bad data dir or options, or when too many utterances fail (the
            report is written first; the dump files are not).
    """
    if au_extractor not in EXTRACTORS:
        raise CauseError(
            f"unknown AU extractor {au_extractor!r}", fix=f"use one of {', '.join(EXTRACTORS)}"
        )
    if close_lips_outside_speech and mask_outside_speech is None:
        raise CauseError(
            "close_lips_outside_speech needs mask_outside_speech (the margin around the speech)",
            fix="give --mask_outside_speech SECONDS too (e.g. 0.1)",
        )
    data_dir, output_dir = Path(data_dir), Path(output_dir)
    utts, maps = _read_data_dir(data_dir, au_extractor)
    table = parse_au_weights(au_weights) if au_weights is not None else None
    own_weights = (
        read_au_weights(data_dir / AU_WEIGHT_SCP) if (data_dir / AU_WEIGHT_SCP).is_file() else {}
    )
    face_landmarker = None
    if au_extractor == "mediapipe" and maps["video.scp"]:
        face_landmarker = str(resolve_face_landmarker(face_landmarker_path))
    settings = {
        "extractor": au_extractor,
        "au_fps": au_fps,
        "max_gap": max_gap,
        "min_confidence": min_confidence,
        "max_length_diff": max_length_diff,
        "labels": "au+blendshapes",  # dumps made before blendshapes were kept are redone
    }
    with output_lock(output_dir):
        where = BatchDir(output_dir)
        items = [
            (
                utt,
                {
                    **settings,
                    "video": maps["video.scp"].get(utt),
                    "au_csv": maps["au_csv.scp"].get(utt),
                    "wav": maps["wav.scp"].get(utt),
                    "wav_out": str(output_dir / "wav" / f"{utt}.wav"),
                    "au_out": str(where.item(utt, ".npy")),
                },
            )
            for utt in utts
        ]
        logger.info(
            "%s: %d utterances (%d with video), extractor %s, %g fps -> %s",
            data_dir, len(items), sum(1 for u in utts if u in maps["video.scp"]), au_extractor,
            au_fps, output_dir,
        )  # fmt: skip
        records = _label_all(
            items,
            output_dir,
            settings,
            face_landmarker,
            load_parallel_config(parallel_config),
            keys_from=Path(data_dir) / "utt2spk",
        )
        rows, kept = _decide(records, utts, au_extractor, max_missing_fraction)
        write_report(output_dir / REPORT_FILE, rows, REPORT_COLUMNS)
        summary = _summary(rows)
        logger.info("AU label summary for %s: %s", output_dir, json.dumps(summary))
        failed = summary["total"] - summary["kept"]
        check_fail_fraction(
            failed,
            summary["total"],
            max_fail_fraction,
            output_dir / REPORT_FILE,
            what="utterance",
            first=f"reasons {summary['reasons']}; the dump files were not written",
        )
        outside = {}
        if mask_outside_speech is not None:
            outside = {
                u: _outside_speech(output_dir / "wav" / f"{u}.wav",
                                   np.load(where.item(u, ".npy"), mmap_mode="r").shape[0],
                                   au_fps, mask_outside_speech)
                for u in kept
            }  # fmt: skip
        closed = {}
        if close_lips_outside_speech:
            closed = {u: outside[u] | _pauses(output_dir / "wav" / f"{u}.wav", len(outside[u]),
                                              au_fps) for u in kept}  # fmt: skip
        gather_ark(
            output_dir / "au.ark",
            output_dir / "au.scp",
            {utt: where.item(utt, ".npy") for utt in kept},
            fps=au_fps,
            transform=fill_gaps,
            transforms={u: functools.partial(_close_lips, frames=f) for u, f in closed.items()},
        )
        _write_blendshape_labels(output_dir, {utt: where.item(utt, ".npy") for utt in kept})
        write_kaldi_map(
            output_dir / "wav.scp", {u: str(output_dir / "wav" / f"{u}.wav") for u in kept}
        )
        utt2spk = read_kaldi_map(data_dir / "utt2spk")
        write_utt2spk_spk2utt(output_dir, {u: utt2spk[u] for u in kept})
        if mask_outside_speech is not None and table is None and not own_weights:
            table = np.ones(NUM_AUS, dtype=np.float32)
        weights = _weights(kept, own_weights, table, data_dir)
        if mask_outside_speech is not None:
            weights = {u: _mask_frames(w, outside[u], closed.get(u)) for u, w in weights.items()}
        if (output_dir / AU_WEIGHT_SCP).exists():
            (output_dir / AU_WEIGHT_SCP).unlink()  # stale from an earlier run
        if weights:
            write_au_weights(output_dir, weights)
        return summary


def _outside_speech(wav: Path, num_frames: int, au_fps: float, margin_s: float) -> np.ndarray:
    """(T,) bool: the AU frames more than ``margin_s`` before the first speech frame of ``wav``
    or after its last (:func:`espnet_cause.extract.onset.speech_frames`)."""
    samples, fs = sf.read(wav, dtype="float32", always_2d=True)
    first, last = speech_frames(samples.mean(axis=1), fs, au_fps)
    margin = int(round(margin_s * au_fps))
    outside = np.zeros(num_frames, dtype=bool)
    outside[: max(0, first - margin)] = True
    outside[last + margin + 1 :] = True
    return outside


def _pauses(wav: Path, num_frames: int, au_fps: float) -> np.ndarray:
    """(T,) bool: the pauses of ``wav`` (:func:`espnet_cause.extract.onset.quiet_runs`)."""
    samples, fs = sf.read(wav, dtype="float32", always_2d=True)
    quiet = quiet_runs(samples.mean(axis=1), fs, au_fps)
    out = np.zeros(num_frames, dtype=bool)
    out[: min(num_frames, len(quiet))] = quiet[:num_frames]
    return out


def _mask_frames(weights: np.ndarray, outside: np.ndarray, closed: np.ndarray | None) -> np.ndarray:
    """(T, D) per-frame weights: ``weights``, 0 on the ``outside`` frames, and 1 for the lip AUs
    on the ``closed`` frames (None: none), where they teach closed lips."""
    w = np.asarray(weights, np.float32)
    frames = w if w.ndim == 2 else np.repeat(w[None], len(outside), axis=0)
    frames = frames.copy()
    frames[outside] = 0.0
    if closed is not None:
        if frames.shape[1] != NUM_AUS:
            raise CauseError(
                f"closing the lips needs (T, {NUM_AUS}) AU weights, got {frames.shape[1]} columns",
                fix="give AU weights (17 columns), not blendshape weights",
            )
        frames[np.ix_(closed, LIP_AUS)] = 1.0
    return frames


def _close_lips(aus: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """(T, 17) AU labels with the lip AUs 0 (closed) on the ``frames`` (a (T,) bool mask)."""
    out = np.array(aus, dtype=np.float32)
    n = min(len(out), len(frames))
    out[np.flatnonzero(frames[:n])[:, None], LIP_AUS] = 0.0
    return out


def _weights(
    kept: list[str],
    own: dict[str, np.ndarray],
    table: np.ndarray | None,
    data_dir: Path,
) -> dict[str, np.ndarray]:
    """The kept utterances' weights: the data dir's vectors times the table (empty: none)."""
    if not own and table is None:
        return {}
    missing = [u for u in kept if own and u not in own]
    if missing:
        raise CauseError(
            f"{len(missing)} kept utterances have no weights (first: {missing[0]})",
            path=data_dir / AU_WEIGHT_SCP,
            fix="list every utterance in au_weight.scp, or remove it",
        )
    out = {}
    for utt in kept:
        w = own.get(utt, table if table is not None else None)
        if own and table is not None:
            if w.shape[-1] != table.shape[-1]:
                raise CauseError(
                    f"{utt}: its weights have {w.shape[-1]} columns, the --au_weights table "
                    f"{table.size}",
                    path=data_dir / AU_WEIGHT_SCP,
                )
            w = w * table
        out[utt] = w
    return out


def _read_data_dir(data_dir: Path, au_extractor: str) -> tuple[list[str], dict[str, dict]]:
    """The utterances and their ``wav.scp``/``video.scp``/``au_csv.scp`` maps, checked."""
    utts = validate_data_dir(data_dir, check_files=False)
    if (data_dir / "segments").is_file():
        raise CauseError(
            "stage 2 takes one recording per utterance; this data dir has a segments file",
            path=data_dir / "segments",
            fix="cut the segments into files first (one video/wav per utterance)",
        )
    maps = {
        name: read_kaldi_map(data_dir / name) if (data_dir / name).is_file() else {}
        for name in ("wav.scp", "video.scp", "au_csv.scp")
    }
    if au_extractor == "openface" and not maps["au_csv.scp"]:
        raise CauseError(
            "the openface extractor needs an au_csv.scp (OpenFace CSV per utterance)",
            path=data_dir / "au_csv.scp",
            fix="run OpenFace FeatureExtraction (see espnet_cause.extract.openface) and list "
            "the CSVs, or use --au_extractor mediapipe",
        )
    return utts, maps


def _label_all(
    items, output_dir: Path, settings: dict, face_landmarker, config, keys_from: Path
) -> dict:
    """Run :func:`label_utterance` over the items: face tracking on the cluster (if any)."""
    extractor = settings["extractor"]
    # Imports of CSVs take milliseconds each: a small batch of them runs here, which is quicker
    # than starting workers for it.
    tracked = [(k, p) for k, p in items if extractor == "mediapipe" and p["video"]]
    imported = [(k, p) for k, p in items if not (extractor == "mediapipe" and p["video"])]
    if config is not None and len(imported) > MAX_LOCAL_IMPORTS:
        tracked, imported = items, []
    records = {}
    if imported:
        records.update(
            run_batch(
                imported,
                label_utterance,
                output_dir=output_dir,
                settings=settings,
                desc="AU labels (import CSV)",
                retry_errors=True,
                keys_from=keys_from,
            )
        )
    if tracked:
        records.update(
            run_batch(
                tracked,
                label_utterance,
                output_dir=output_dir,
                settings=settings,
                setup_fn=functools.partial(
                    setup_extractor, extractor, face_landmarker, settings["au_fps"]
                ),
                parallel_config=config,
                desc=f"AU labels ({extractor})",
                retry_errors=True,
                teardown_fn=close_all if extractor == "mediapipe" else None,
                keys_from=keys_from,
            )
        )
    return records


def _decide(
    records: dict, utts: list[str], extractor: str, max_missing_fraction: float
) -> tuple[list[dict], list[str]]:
    rows, kept = [], []
    for utt in utts:
        rec = records.get(utt, {"status": "error", "reason": "no result"})
        row = {
            "key": utt,
            "status": rec.get("status", "error"),
            "extractor": rec.get("extractor", extractor),
            "frames": rec.get("frames", 0),
            "missing_frames": rec.get("missing_frames", 0),
            "blendshapes": rec.get("blendshapes", "-"),
        }
        if rec.get("status") != "ok":
            row.update(decision=SKIP, reason=rec.get("reason", "unknown error"))
        elif rec["frames"] == 0 or rec["missing_frames"] > max_missing_fraction * rec["frames"]:
            row.update(
                decision=DROP,
                reason=f"{rec['missing_frames']} of {rec['frames']} AU frames missing (more than "
                f"--max_missing_fraction {max_missing_fraction:g})",
            )
        else:
            row.update(decision=KEEP, reason="-")
            kept.append(utt)
        rows.append(row)
    return rows, kept


def _summary(rows: list[dict]) -> dict:
    decisions = Counter(r["decision"] for r in rows)
    reasons = Counter(_reason_kind(r["reason"]) for r in rows if r["decision"] != KEEP)
    return {
        "total": len(rows),
        "kept": decisions[KEEP],
        "dropped": decisions[DROP],
        "skipped": decisions[SKIP],
        "extractors": dict(Counter(r["extractor"] for r in rows)),
        "reasons": dict(reasons),
    }


def _reason_kind(reason: str) -> str:
    """A short class of a skip reason, for counting in the summary."""
    for needle, kind in (
        ("no audio track", "no audio"),
        ("no face", "no face"),
        ("corrupt", "corrupt file"),
        ("cannot open", "corrupt file"),
        ("no decodable", "corrupt file"),
        ("apart", "length mismatch"),
        ("missing (more than", "too much missing"),
        ("not found", "file not found"),
    ):
        if needle in reason:
            return kind
    return "bad CSV or other" if reason else "unknown"
