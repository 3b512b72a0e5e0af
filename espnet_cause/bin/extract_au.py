"""Extract AU tracks from videos as OpenFace-style CSVs.

Examples:
    One video with the built-in tracker::

        python -m espnet_cause.bin.extract_au --extractor mediapipe --video talk.mp4 \\
            --output talk.csv --face_landmarker_path face_landmarker.task

    Many videos (``<utt> <path>`` lines), resumable (:mod:`espnet_cause.batch`), optionally on a
    Dask cluster; ``--output_dir`` gets ``<utt>.csv`` and ``extract_report.tsv``::

        python -m espnet_cause.bin.extract_au --extractor mediapipe --video_scp data/video.scp \\
            --output_dir exp/au --parallel_config conf/parallel/local.yaml

    Import OpenFace output (``FeatureExtraction -f talk.mp4 -out_dir of -aus``)::

        python -m espnet_cause.bin.extract_au --extractor openface --video talk.mp4 \\
            --openface_dir of --output talk.csv
"""

from __future__ import annotations

import argparse
import functools
import logging
from pathlib import Path

from espnet_cause.au import DEFAULT_AU_FPS
from espnet_cause.cli import reports_errors, setup_logging
from espnet_cause.errors import CauseError

logger = logging.getLogger(__name__)

#: The report of a ``--video_scp`` run, in ``--output_dir``.
REPORT_FILE = "extract_report.tsv"


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Extract facial action unit tracks from videos (OpenFace-style CSV).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--extractor", choices=("openface", "mediapipe"), required=True)
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--video", type=Path, help="One video file.")
    src.add_argument("--video_scp", type=Path, help="'<utt> <video path>' lines.")
    parser.add_argument(
        "--output", type=Path, help="Output CSV (with --video; default: ./<video name>.csv)."
    )
    parser.add_argument("--output_dir", type=Path, help="Output dir of <utt>.csv (--video_scp).")
    parser.add_argument(
        "--openface_dir",
        type=Path,
        help="Where OpenFace FeatureExtraction wrote <video stem>.csv (openface extractor).",
    )
    parser.add_argument(
        "--face_landmarker_path",
        type=Path,
        help="MediaPipe face_landmarker.task (default: the model that ships with espnet-cause).",
    )
    parser.add_argument(
        "--download",
        action="store_true",
        help="Fetch the official face_landmarker.task into the cache if it is not there.",
    )
    parser.add_argument(
        "--au_fps",
        type=float,
        default=DEFAULT_AU_FPS,
        help="Resample the track to this rate; 0 keeps the video's frames.",
    )
    parser.add_argument("--max_gap", type=float, default=0.5, help="Interpolate gaps up to (s).")
    parser.add_argument("--parallel_config", default=None, help="conf/parallel/*.yaml (scp).")
    parser.add_argument("--verbose", type=int, default=1)
    return parser


def extract_one(
    extractor: str,
    video: str,
    *,
    tracker=None,
    openface_dir: str | None = None,
    au_fps: float = DEFAULT_AU_FPS,
    max_gap: float = 0.5,
):
    """One video -> AUTrack (resampled to ``au_fps`` unless it is 0)."""
    if extractor == "mediapipe":
        track = tracker(video)
    else:
        from espnet_cause.extract.openface import import_openface_csv, openface_csv_for

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


def _tracker_env(
    extractor: str, face_landmarker_path: str | None, max_fps: float | None = None
) -> dict:
    if extractor != "mediapipe":
        return {}
    from espnet_cause.extract.mediapipe import MediaPipeAUExtractor

    tracker = MediaPipeAUExtractor(face_landmarker_path=face_landmarker_path, max_fps=max_fps)
    return {"tracker": tracker}


def _scp_item(key: str, payload: dict, tracker=None) -> dict:
    from espnet_cause.io.openface import write_openface_csv

    track = extract_one(
        payload["extractor"],
        payload["video"],
        tracker=tracker,
        openface_dir=payload["openface_dir"],
        au_fps=payload["au_fps"],
        max_gap=payload["max_gap"],
    )
    write_openface_csv(payload["output"], track)
    return {"frames": len(track), "faces": int(track.success.sum())}


@reports_errors
def main(cmd=None) -> None:
    parser = get_parser()
    args = parser.parse_args(cmd)
    setup_logging(args.verbose)
    from espnet_cause.io.atomic import check_output, check_output_dir

    if args.video is not None:
        if args.output is None:
            args.output = Path(args.video.stem + ".csv")
        check_output(
            args.output, inputs={"--video": args.video}, suffixes=(".csv",), what="--output"
        )
    elif args.output_dir is not None:
        check_output_dir(args.output_dir)
    landmarker = None
    if args.extractor == "mediapipe":
        from espnet_cause.extract.mediapipe import resolve_face_landmarker

        landmarker = str(resolve_face_landmarker(args.face_landmarker_path, download=args.download))
    openface_dir = str(args.openface_dir) if args.openface_dir else None

    if args.video is not None:
        from espnet_cause.io.openface import write_openface_csv

        tracker = _tracker_env(args.extractor, landmarker, args.au_fps or None).get("tracker")
        try:
            track = extract_one(
                args.extractor,
                str(args.video),
                tracker=tracker,
                openface_dir=openface_dir,
                au_fps=args.au_fps,
                max_gap=args.max_gap,
            )
        finally:
            if tracker is not None:
                tracker.close()
        write_openface_csv(args.output, track)
        logger.info(
            "%s: %d frames (%d with a face) -> %s",
            args.video, len(track), int(track.success.sum()), args.output,
        )  # fmt: skip
        return

    if args.output_dir is None:
        parser.error("--video_scp needs --output_dir")
    from espnet_cause.batch import report_rows, run_batch, write_report
    from espnet_cause.io.datadir import read_kaldi_map
    from espnet_cause.parallel import load_parallel_config

    videos = read_kaldi_map(args.video_scp, check_sorted=False)
    settings = {
        "extractor": args.extractor,
        "openface_dir": openface_dir,
        "au_fps": args.au_fps,
        "max_gap": args.max_gap,
    }
    items = [
        (utt, {**settings, "video": path, "output": str(args.output_dir / f"{utt}.csv")})
        for utt, path in videos.items()
    ]
    teardown = None
    if args.extractor == "mediapipe":
        from espnet_cause.extract.mediapipe import close_all as teardown
    records = run_batch(
        items,
        _scp_item,
        output_dir=args.output_dir,
        settings=settings,
        item_files=lambda utt: [args.output_dir / f"{utt}.csv"],
        setup_fn=functools.partial(_tracker_env, args.extractor, landmarker, args.au_fps or None),
        teardown_fn=teardown,
        parallel_config=load_parallel_config(args.parallel_config),
        desc=f"extract AUs ({args.extractor})",
        retry_errors=True,
    )
    write_report(args.output_dir / REPORT_FILE, report_rows(videos, records), ("frames", "faces"))
    failed = {k: r["reason"] for k, r in records.items() if r.get("status") != "ok"}
    for key, reason in failed.items():
        logger.warning("%s: skipped: %s", key, reason)
    logger.info("%d of %d videos -> %s", len(records) - len(failed), len(records), args.output_dir)
    if len(failed) == len(records):
        first = next(iter(failed.values()))
        raise CauseError(
            f"no video could be processed ({len(failed)} failed; first: {first})",
            path=args.video_scp,
        )


if __name__ == "__main__":
    main()
