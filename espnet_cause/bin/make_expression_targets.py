"""AU targets and per-AU loss weights for emotional speech without faces (RAVDESS, CREMA-D).

Example::

    python -m espnet_cause.bin.make_expression_targets --data_dir data_ravdess/train \\
        --output_dir dump_ravdess/train

Writes ``wav.scp``, ``au.scp``/``au.ark`` (teacher AUs + the emotion's prototype over time),
``au_weight.scp`` (``<utt> <path.npy>``: (17,) per-AU loss weights) and the labels; see
:mod:`espnet_cause.corpora.expression` for the table and the time course.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from espnet_cause.cli import make_parser, reports_errors, setup_logging
from espnet_cause.corpora.expression import write_expression_dump
from espnet_cause.inference.speech2au import Speech2AU


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "Make AU targets and loss weights for labelled emotional speech without faces."
    )
    parser.add_argument(
        "--data_dir", type=Path, required=True, help="Data dir with wav.scp, utt2spk, emotion."
    )
    parser.add_argument("--output_dir", type=Path, required=True, help="The dump dir to write.")
    parser.add_argument(
        "--model",
        default=None,
        help="The teacher (speech motion and resting face): a model.zip or a built-in name "
        "(default: the built-in model, which has learned no expression from real voices).",
    )
    return parser


@reports_errors
def main(cmd: list[str] | None = None) -> dict[str, int]:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)

    return write_expression_dump(args.data_dir, args.output_dir, Speech2AU(args.model))


if __name__ == "__main__":
    main()
