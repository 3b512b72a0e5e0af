"""Join dump dirs (stage 2 outputs of several corpora) into one, for mixed training.

Example (what ``run.sh --mix_dumpdirs dump`` does for the train and valid sets)::

    python -m espnet_cause.bin.combine_data --input dump_grid/train --input dump/train \\
        --output_dir dump_grid/train_mix

See :mod:`espnet_cause.corpora.mix` for what is joined and how loss weights are kept.
"""

from __future__ import annotations

import argparse

from espnet_cause.cli import make_parser, reports_errors, setup_logging
from espnet_cause.corpora.mix import combine_dump_dirs


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser("Join dump dirs into one (mixed training).")
    parser.add_argument("--input", action="append", required=True, help="a dump dir (repeat)")
    parser.add_argument(
        "--weights",
        action="append",
        default=None,
        help="per --input, in order: an AU weight table (YAML or AU01=0,...) for its utterances "
        "without an au_weight.scp; 'none' for all 1",
    )
    parser.add_argument("--output_dir", required=True, help="the mixed dump dir")
    return parser


@reports_errors
def main(cmd: list[str] | None = None) -> dict[str, int]:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    weights = None
    if args.weights is not None:
        weights = [None if w.lower() == "none" else w for w in args.weights]
    return combine_dump_dirs(args.input, args.output_dir, weights)


if __name__ == "__main__":
    main()
