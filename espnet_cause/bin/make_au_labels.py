"""Recipe stage 2: AU labels (Kaldi ark/scp) and 16 kHz wavs for a data dir.

Example::

    python -m espnet_cause.bin.make_au_labels --data_dir data/train --output_dir dump/train \\
        --au_extractor mediapipe --face_landmarker_path face_landmarker.task \\
        --parallel_config conf/parallel/local.yaml

See :mod:`espnet_cause.extract.labels` for what happens per utterance and what is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from espnet_cause.au import DEFAULT_AU_FPS
from espnet_cause.cli import make_parser, reports_errors, setup_logging
from espnet_cause.extract.labels import (
    DEFAULT_MAX_FAIL_FRACTION,
    DEFAULT_MAX_LENGTH_DIFF,
    DEFAULT_MAX_MISSING_FRACTION,
    EXTRACTORS,
    make_au_labels,
)
from espnet_cause.face.model_file import resolve_face_landmarker
from espnet_cause.io.track import DEFAULT_MAX_GAP, DEFAULT_MIN_CONFIDENCE


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "Make AU labels and 16 kHz audio for a Kaldi data dir (recipe stage 2).",
        parallel=True,
        download=True,
    )
    parser.add_argument("--data_dir", type=Path, required=True)
    parser.add_argument("--output_dir", type=Path, required=True)
    parser.add_argument("--au_extractor", choices=EXTRACTORS, default="mediapipe")
    parser.add_argument("--au_fps", type=float, default=DEFAULT_AU_FPS)
    parser.add_argument("--max_gap", type=float, default=DEFAULT_MAX_GAP)
    parser.add_argument("--min_confidence", type=float, default=DEFAULT_MIN_CONFIDENCE)
    parser.add_argument("--max_length_diff", type=float, default=DEFAULT_MAX_LENGTH_DIFF)
    parser.add_argument("--max_missing_fraction", type=float, default=DEFAULT_MAX_MISSING_FRACTION)
    # training labels: stricter than the batch default (the same flag as every batch CLI)
    parser.set_defaults(max_fail_fraction=DEFAULT_MAX_FAIL_FRACTION)
    parser.add_argument(
        "--au_weights",
        default=None,
        help="per-AU loss weights for every utterance (YAML table or AU01=0,AU45=0): written as "
        "au_weight.scp, times the data dir's own au_weight.scp if it has one",
    )
    parser.add_argument(
        "--mask_outside_speech",
        type=float,
        default=None,
        help="per-frame weights: 0 on frames more than this many seconds before the first speech "
        "frame or after the last",
    )
    parser.add_argument(
        "--close_lips_outside_speech",
        action="store_true",
        help="with --mask_outside_speech: label the lips closed there (AU25, AU26 0 at full "
        "weight) instead of weighing those frames 0",
    )
    return parser


@reports_errors
def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)

    landmarker = args.face_landmarker_path
    if args.au_extractor == "mediapipe" and (args.download or landmarker is not None):
        landmarker = resolve_face_landmarker(landmarker, download=args.download)
    make_au_labels(
        args.data_dir,
        args.output_dir,
        au_extractor=args.au_extractor,
        face_landmarker_path=landmarker,
        au_fps=args.au_fps,
        max_gap=args.max_gap,
        min_confidence=args.min_confidence,
        max_length_diff=args.max_length_diff,
        max_missing_fraction=args.max_missing_fraction,
        max_fail_fraction=args.max_fail_fraction,
        parallel_config=args.parallel_config,
        au_weights=args.au_weights,
        mask_outside_speech=args.mask_outside_speech,
        close_lips_outside_speech=args.close_lips_outside_speech,
    )


if __name__ == "__main__":
    main()
