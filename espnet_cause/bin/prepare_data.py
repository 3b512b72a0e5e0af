#!/usr/bin/env python3
"""Recipe stage 1: a corpus on disk (or the generated mini corpus) -> Kaldi data dirs.

Writes ``<output_dir>/{train,valid,test}/`` with ``wav.scp``, ``utt2spk``, ``spk2utt`` and, when
the corpus has them, ``video.scp``, ``au_csv.scp`` and ``text``; speakers are split
deterministically. Each corpus's expected layout is in its module docstring
(``espnet_cause/corpora/<corpus>.py``).

Examples:
    python -m espnet_cause.bin.prepare_data --corpus mini --corpus_dir downloads/mini \
        --output_dir data --face_image face.jpg --face_landmarker_path face_landmarker.task
    python -m espnet_cause.bin.prepare_data --corpus crema_d --corpus_dir /db/CREMA-D \
        --output_dir data --valid_speakers 8 --test_speakers 8
"""

from __future__ import annotations

import argparse
import contextlib
import logging

from espnet_cause.cli import make_parser, reports_errors, setup_logging
from espnet_cause.corpora import CORPORA, prepare
from espnet_cause.corpora.grid import MIN_TRAIN_CLIPS
from espnet_cause.corpora.mini.plan import MiniConfig
from espnet_cause.render.warp import PhotoFrames

logger = logging.getLogger(__name__)


def get_parser() -> argparse.ArgumentParser:
    """The stage-1 argument parser."""
    parser = make_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="mini", help="Corpus.")
    parser.add_argument(
        "--corpus_dir",
        required=True,
        help="Corpus root; for mini, the directory it is generated in (reused when complete).",
    )
    parser.add_argument("--output_dir", default="data", help="Parent of the data dirs.")
    parser.add_argument(
        "--valid_speakers",
        type=int,
        default=None,
        help="Speakers held out for valid (default: 1 for mini, else 10%% of speakers, >= 1).",
    )
    parser.add_argument(
        "--test_speakers",
        type=int,
        default=None,
        help="Speakers held out for test (default: 1 for mini, else 10%% of speakers, >= 1).",
    )
    parser.add_argument("--seed", type=int, default=0, help="Seed of the speaker split (and mini).")
    group = parser.add_argument_group("folder corpus")
    group.add_argument(
        "--openface_dir",
        default=None,
        help="Directory of OpenFace CSVs named <video stem>.csv (written to au_csv.scp).",
    )
    group = parser.add_argument_group("grid corpus")
    group.add_argument(
        "--min_train_clips",
        type=int,
        default=MIN_TRAIN_CLIPS,
        help="GRID speakers with fewer clips go to test (without --valid/--test_speakers).",
    )
    group = parser.add_argument_group("mini corpus (synthetic)")
    group.add_argument("--num_speakers", type=int, default=MiniConfig.num_speakers, help="Voices.")
    group.add_argument(
        "--utts_per_speaker",
        type=int,
        default=MiniConfig.utts_per_speaker,
        help="Utterances per voice.",
    )
    group.add_argument(
        "--flite_speakers",
        type=int,
        default=MiniConfig.flite_speakers,
        help="Extra voices spoken by CMU Flite (slt, awb, rms; needs Debian's libflite1).",
    )
    group.add_argument("--num_videos", type=int, default=12, help="Utterances that get an mp4.")
    group.add_argument("--face_image", default=None, help="Face photo animated for the videos.")
    group.add_argument(
        "--face_landmarker_path",
        default=None,
        help="MediaPipe face_landmarker.task (default: the model that ships with espnet-cause).",
    )
    group.add_argument("--num_workers", type=int, default=2, help="Processes for generation.")
    return parser


@reports_errors
def main(cmd: list[str] | None = None) -> dict[str, int]:
    """Prepare the data dirs (``cmd`` is a list of arguments; None reads sys.argv)."""

    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    kwargs: dict = {"seed": args.seed}
    if args.valid_speakers is not None:
        kwargs["valid_speakers"] = args.valid_speakers
    if args.test_speakers is not None:
        kwargs["test_speakers"] = args.test_speakers
    if args.corpus == "folder":
        kwargs["openface_dir"] = args.openface_dir
    elif args.openface_dir is not None:
        logger.warning("--openface_dir is only used with --corpus folder; ignoring it")
    if args.corpus == "grid":
        kwargs["min_train_clips"] = args.min_train_clips
    with contextlib.ExitStack() as stack:
        if args.corpus == "mini":
            draw_frames = None
            if args.face_image is not None:
                # the mini corpus's videos: the photo moved by the AUs as offsets from its own
                draw_frames = stack.enter_context(
                    PhotoFrames(args.face_image, args.face_landmarker_path, absolute=False)
                )
            kwargs.update(
                num_speakers=args.num_speakers,
                utts_per_speaker=args.utts_per_speaker,
                flite_speakers=args.flite_speakers,
                num_videos=args.num_videos,
                draw_frames=draw_frames,
                num_workers=args.num_workers,
            )
        counts = prepare(args.corpus, args.corpus_dir, args.output_dir, **kwargs)
    logger.info(
        "%s: %s", args.output_dir, ", ".join(f"{k} {v} utterances" for k, v in counts.items())
    )
    return counts


if __name__ == "__main__":
    main()
