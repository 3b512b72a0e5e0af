#!/usr/bin/env python3
"""Score utterance-level emotion predictions: accuracy, macro-F1, confusion matrix and plot.

Example::

    python -m espnet_cause.bin.emotion_score --ref data/test/emotion \
        --hyp exp/emotion_ci/infer_test/utterance.tsv --classes_file data/emotion_classes \
        --output_dir exp/emotion_ci/score_test

Writes ``scores.md``, ``scores.json`` and ``confusion.png``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from espnet_cause.cli import make_parser, reports_errors, setup_logging
from espnet_cause.corpora.emotions import read_classes_file
from espnet_cause.emotion import EMOTIONS
from espnet_cause.errors import CauseError
from espnet_cause.evaluation.emotion_scoring import score_emotions, write_scores
from espnet_cause.inference.speech2emotion import read_utterance_table
from espnet_cause.io.datadir import read_kaldi_map

logger = logging.getLogger(__name__)


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser("Accuracy, macro-F1 and confusion of emotion predictions.")
    parser.add_argument(
        "--ref", type=Path, required=True, help="<utt> <class> (data/<set>/emotion)"
    )
    parser.add_argument("--hyp", type=Path, required=True, help="utterance.tsv of emotion_infer")
    parser.add_argument("--classes_file", type=Path, help="data/emotion_classes")
    parser.add_argument("--output_dir", type=Path, required=True)
    return parser


@reports_errors
def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)

    ref = read_kaldi_map(args.ref)
    hyp = {k: EMOTIONS[int(v.argmax())] for k, v in read_utterance_table(args.hyp).items()}
    classes = read_classes_file(args.classes_file) if args.classes_file else None
    if not set(ref) & set(hyp):
        raise CauseError("no utterance is in both files", path=args.hyp, fix=f"check {args.ref}")
    scores = score_emotions(ref, hyp, classes)
    md = write_scores(scores, args.output_dir)
    logger.info(
        "accuracy %.3f, macro-F1 %.3f on %d utterances: %s",
        scores["accuracy"], scores["macro_f1"] or 0.0, scores["num_utterances"], md,
    )  # fmt: skip


if __name__ == "__main__":
    main()
