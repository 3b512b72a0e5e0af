#!/usr/bin/env python3
"""Emotion posteriors of every utterance of a ``wav.scp`` with a trained recogniser.

Example::

    python -m espnet_cause.bin.emotion_infer --train_config exp/emotion_ci/config.yaml \
        --model_file exp/emotion_ci/valid.acc.best.pth --wav_scp dump/test/wav.scp \
        --output_dir exp/emotion_ci/infer_test

Writes ``posteriors.scp/.ark`` ((T, 8) frame posteriors at the model's ``au_fps``),
``utterance.tsv`` (predicted class and utterance-level posteriors) and
``emotion_infer_report.tsv`` (bad utterances skipped with their reason).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from espnet_cause.cli import make_parser, reports_errors, setup_logging
from espnet_cause.inference.speech2emotion import Speech2Emotion, infer_emotion_set
from espnet_cause.io.atomic import check_output_dir


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser("Frame and utterance emotion posteriors from speech.")
    parser.add_argument("--train_config", type=Path, help="config.yaml (default: beside weights)")
    parser.add_argument("--model_file", type=Path, required=True, help="*.pth weights")
    parser.add_argument("--wav_scp", type=Path, required=True)
    parser.add_argument("--output_dir", type=Path, required=True)
    return parser


@reports_errors
def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)

    check_output_dir(args.output_dir)
    infer_emotion_set(
        args.wav_scp, args.output_dir, Speech2Emotion(args.train_config, args.model_file)
    )


if __name__ == "__main__":
    main()
