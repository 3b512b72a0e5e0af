#!/usr/bin/env python3
"""Prepare a GANimation face directory: aligned face crops + ``aus.csv``.

From speaking-face videos and their stage-2 AU tracks (the recipe's stage 6)::

    python -m espnet_cause.bin.prepare_faces --video_scp data/train/video.scp \
        --au_scp dump/train/au.scp --output_dir dump/faces --face_landmarker_path face_landmarker.task

From still photos (CelebA, EmotioNet) with an AU CSV (``file,AU01_r,...,AU45_r``)::

    python -m espnet_cause.bin.prepare_faces --au_csv celeba_aus.csv --output_dir dump/faces \
        --face_landmarker_path face_landmarker.task

Resumable (the batch runner's rule, :mod:`espnet_cause.jobs.batch`); ``OUTPUT_DIR/faces_report.tsv`` says
why an item gave no face.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from espnet_cause.cli import make_parser, reports_errors, setup_logging
from espnet_cause.errors import CauseError
from espnet_cause.ganimation import prepare
from espnet_cause.jobs.parallel import load_parallel_config


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "Aligned face crops with AU labels for GANimation.", parallel=True, face_landmarker=True
    )
    parser.add_argument("--video_scp", type=Path, help="Kaldi video.scp (with --au_scp)")
    parser.add_argument("--au_scp", type=Path, help="au.scp of the same utterances")
    parser.add_argument("--au_csv", type=Path, help="photos: CSV file,AU01_r..AU45_r (0-5)")
    parser.add_argument("--output_dir", type=Path, required=True)
    parser.add_argument("--frame_stride", type=int, default=5, help="videos: one frame in N")
    parser.add_argument("--max_frames_per_video", type=int, default=1000)
    parser.add_argument("--image_size", type=int, default=128)
    return parser


@reports_errors
def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)

    parallel = load_parallel_config(args.parallel_config)
    if args.video_scp and args.au_scp:
        prepare.prepare_faces_from_videos(
            args.video_scp,
            args.au_scp,
            args.output_dir,
            args.face_landmarker_path,
            frame_stride=args.frame_stride,
            max_frames_per_video=args.max_frames_per_video,
            image_size=args.image_size,
            parallel_config=parallel,
        )
    elif args.au_csv:
        prepare.prepare_faces_from_images(
            args.au_csv,
            args.output_dir,
            args.face_landmarker_path,
            image_size=args.image_size,
            parallel_config=parallel,
        )
    else:
        raise CauseError("give --video_scp and --au_scp, or --au_csv")


if __name__ == "__main__":
    main()
