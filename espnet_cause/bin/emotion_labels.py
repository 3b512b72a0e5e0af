#!/usr/bin/env python3
"""Emotion training labels for a dump dir: ``data/<set>/emotion`` -> ``dump/<set>/emotion``.

Example::

    python -m espnet_cause.bin.emotion_labels --data_dir data/train --dump_dir dump/train \
        --classes_file data/emotion_classes

Writes ``<utt> <class index>`` (ESPnet ``text_int``) for every utterance of
``DUMP_DIR/wav.scp``; a label outside ``--classes_file`` or an unlabelled utterance is an error
naming the file and line.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from espnet_cause.cli import make_parser, reports_errors, setup_logging
from espnet_cause.corpora.emotions import read_classes_file, write_emotion_labels

logger = logging.getLogger(__name__)


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser("Emotion class indices for the utterances of a dump dir.")
    parser.add_argument("--data_dir", type=Path, required=True, help="stage-1 data dir")
    parser.add_argument("--dump_dir", type=Path, required=True, help="stage-2 dump dir")
    parser.add_argument(
        "--classes_file", type=Path, default=None, help="data/emotion_classes (default: all 8)"
    )
    return parser


@reports_errors
def main(cmd=None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)

    classes = read_classes_file(args.classes_file) if args.classes_file else None
    counts = write_emotion_labels(args.data_dir, args.dump_dir, classes)
    logger.info(
        "%s/emotion: %s", args.dump_dir, ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    )


if __name__ == "__main__":
    main()
