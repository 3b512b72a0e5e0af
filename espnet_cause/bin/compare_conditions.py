#!/usr/bin/env python3
"""AU-driven vs emotion-driven faces, side by side, with the measured comparison table.

Example (the recipe's step 6f, GANimation)::

    python -m espnet_cause.bin.compare_conditions --image face.jpg --wav_scp compare.scp \
        --au_scp exp/cause_ci/infer_test/au.scp \
        --emotion_scp exp/emotion_ci/infer_test/posteriors.scp \
        --generator exp/ganimation/generator.pth \
        --emotion_generator exp/ganimation_emotion/generator.pth \
        --ref_au_scp dump/test/au.scp --output_dir exp/cause_ci/compare

With the training-free warp renderer (no generators; the posteriors drive the face through the
FACS prototype table), e.g. on real emotional clips against the speaker's own tracked face::

    python -m espnet_cause.bin.compare_conditions --renderer warp --image neutral_frame.png \
        --wav_scp clips.scp --au_scp infer/au.scp --emotion_scp emotion/posteriors.scp \
        --ref_au_scp tracked/au.scp --output_dir exp/compare_real

Writes ``<utt>_compare.mp4`` ([AU bars | AU-driven | emotion-driven | emotion bars], with the
speech), ``scores.md``/``scores.json`` (re-extracted AUs vs the real video's, per AU and mean;
mouth-region motion and jitter) and ``compare_report.tsv``. See
:mod:`espnet_cause.render.compare`.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from espnet_cause.cli import (
    add_fail_fraction_arg,
    add_renamed_argument,
    make_parser,
    reports_errors,
    setup_logging,
)
from espnet_cause.io.atomic import check_output_dir
from espnet_cause.render.compare import COMPARE_RENDERERS, compare_set

logger = logging.getLogger(__name__)


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "Compare AU- and emotion-conditioned face animation.", face_landmarker=True
    )
    parser.add_argument("--image", type=Path, required=True, help="the face photo")
    parser.add_argument("--wav_scp", type=Path, required=True, help="the utterances to compare")
    parser.add_argument("--au_scp", type=Path, required=True, help="predicted AUs (infer)")
    parser.add_argument("--emotion_scp", type=Path, required=True, help="emotion posteriors")
    parser.add_argument(
        "--renderer", choices=COMPARE_RENDERERS, default="ganimation",
        help="ganimation: the two trained generators; warp: the training-free landmark warp "
        "(posteriors through the FACS prototype table)",
    )  # fmt: skip
    add_renamed_argument(
        parser, "--generator", "--au_model", type=Path, default=None,
        help="AU-conditioned GANimation generator.pth (--renderer ganimation)",
    )  # fmt: skip
    add_renamed_argument(
        parser, "--emotion_generator", "--emotion_model", type=Path, default=None,
        help="emotion-conditioned GANimation generator.pth (--renderer ganimation)",
    )  # fmt: skip
    parser.add_argument("--ref_au_scp", type=Path, help="the real videos' AUs (stage 2)")
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--output_dir", type=Path, required=True)
    add_fail_fraction_arg(parser)
    return parser


@reports_errors
def main(cmd=None) -> None:
    parser = get_parser()
    args = parser.parse_args(cmd)
    setup_logging(args.verbose)
    if args.renderer == "ganimation" and (args.generator is None or args.emotion_generator is None):
        parser.error(
            "--renderer ganimation needs --generator and --emotion_generator "
            "(or use --renderer warp, which needs no trained generator)"
        )

    check_output_dir(args.output_dir)
    summary = compare_set(
        args.wav_scp,
        args.au_scp,
        args.emotion_scp,
        args.output_dir,
        image=args.image,
        au_model=args.generator,
        emotion_model=args.emotion_generator,
        renderer=args.renderer,
        ref_au_scp=args.ref_au_scp,
        face_landmarker_path=args.face_landmarker_path,
        fps=args.fps,
        max_fail_fraction=args.max_fail_fraction,
    )
    logger.info("mean r vs real AUs: AU-driven %s, emotion-driven %s (%s)",
                summary["au"]["mean_pcc"], summary["emotion"]["mean_pcc"],
                args.output_dir / "scores.md")  # fmt: skip


if __name__ == "__main__":
    main()
