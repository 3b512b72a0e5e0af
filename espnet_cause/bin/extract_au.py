"""Extract AU tracks from videos as OpenFace-style CSVs.

Examples:
    One video with the built-in tracker::

        python -m espnet_cause.bin.extract_au --extractor mediapipe --video talk.mp4 \\
            --output talk.csv --face_landmarker_path face_landmarker.task

    Many videos (``<utt> <path>`` lines), resumable (:mod:`espnet_cause.jobs.batch`), optionally on a
    Dask cluster; ``--output_dir`` gets ``<utt>.csv`` and ``extract_report.tsv``::

        python -m espnet_cause.bin.extract_au --extractor mediapipe --video_scp data/video.scp \\
            --output_dir exp/au --parallel_config conf/parallel/local.yaml

    The mediapipe extractor also writes the 51 ARKit blendshapes and the head rotation of the same
    frames to ``talk.blendshapes.csv`` beside ``talk.csv`` (:mod:`espnet_cause.io.blendshapes`).

    Import OpenFace output (``FeatureExtraction -f talk.mp4 -out_dir of -aus``)::

        python -m espnet_cause.bin.extract_au --extractor openface --video talk.mp4 \\
            --openface_dir of --output talk.csv
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from espnet_cause.au import DEFAULT_AU_FPS
from espnet_cause.cli import make_parser, reports_errors, setup_logging
from espnet_cause.extract.videos import (
    DEFAULT_MAX_GAP,
    extract_one,
    extract_video_set,
    setup_extractor,
    write_track,
)
from espnet_cause.face.model_file import resolve_face_landmarker
from espnet_cause.io.atomic import check_output, check_output_dir
from espnet_cause.jobs.parallel import load_parallel_config

logger = logging.getLogger(__name__)


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "Extract facial action unit tracks from videos (OpenFace-style CSV).",
        parallel=True,
        download=True,
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
        "--au_fps",
        type=float,
        default=DEFAULT_AU_FPS,
        help="Resample the track to this rate; 0 keeps the video's frames.",
    )
    parser.add_argument(
        "--max_gap", type=float, default=DEFAULT_MAX_GAP, help="Interpolate gaps up to (s)."
    )
    return parser


@reports_errors
def main(cmd=None) -> None:
    parser = get_parser()
    args = parser.parse_args(cmd)
    setup_logging(args.verbose)

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
        landmarker = str(resolve_face_landmarker(args.face_landmarker_path, download=args.download))
    openface_dir = str(args.openface_dir) if args.openface_dir else None

    if args.video is not None:
        tracker = setup_extractor(args.extractor, landmarker, args.au_fps or None).get("tracker")
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
        write_track(args.output, track)  # + <name>.blendshapes.csv for mediapipe
        logger.info(
            "%s: %d frames (%d with a face) -> %s",
            args.video, len(track), int(track.success.sum()), args.output,
        )  # fmt: skip
        return

    if args.output_dir is None:
        parser.error("--video_scp needs --output_dir")

    extract_video_set(
        args.video_scp,
        args.output_dir,
        extractor=args.extractor,
        face_landmarker_path=landmarker,
        openface_dir=openface_dir,
        au_fps=args.au_fps,
        max_gap=args.max_gap,
        parallel_config=load_parallel_config(args.parallel_config),
    )


if __name__ == "__main__":
    main()
