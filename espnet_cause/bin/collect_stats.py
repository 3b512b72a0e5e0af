#!/usr/bin/env python3
"""Stage 3 in N jobs: ESPnet collect_stats on shards of the data, merged by aggregate_stats_dirs.

Example:
    python -m espnet_cause.bin.collect_stats --nj 4 --parallel_config conf/parallel/slurm.yaml \
        --output_dir exp/stats \
        --train_shape_file dump/train/wav.scp --valid_shape_file dump/valid/wav.scp \
        --config conf/cause_ci.yaml \
        --train_data_path_and_name_and_type dump/train/wav.scp,speech,sound ...

Every option not listed by ``--help`` goes to ``cause_train --collect_stats true`` unchanged.
Outputs are those of one ``cause_train --collect_stats true --output_dir OUTPUT_DIR`` run
(``train/feats_stats.npz``, ``train/au_stats.npz``, ``train/speech_shape``, ... and the same for
``valid/``); the shards and their logs are in ``OUTPUT_DIR/split<N>/``.
"""

from __future__ import annotations

import argparse

from espnet_cause.cli import reports_errors, setup_logging
from espnet_cause.errors import CauseError
from espnet_cause.jobs.parallel import load_parallel_config
from espnet_cause.tasks.collect_stats import collect_stats


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="ESPnet collect_stats for CAUSE in N jobs (Dask), aggregated.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        allow_abbrev=False,  # every other option belongs to cause_train
    )
    parser.add_argument("--nj", type=int, default=4, help="number of jobs")
    parser.add_argument("--parallel_config", default=None, help="conf/parallel/*.yaml or none")
    parser.add_argument("--output_dir", required=True, help="statistics directory (exp/stats)")
    parser.add_argument("--train_shape_file", required=True, help="keys of the training set")
    parser.add_argument("--valid_shape_file", required=True, help="keys of the validation set")
    parser.add_argument("--verbose", type=int, default=1, help="0 warnings, 1 info, 2 debug")
    return parser


@reports_errors
def main(cmd=None) -> None:
    """Collect the statistics in ``--nj`` jobs."""
    args, train_args = get_parser().parse_known_args(cmd)
    setup_logging(args.verbose)

    if args.nj < 1:
        raise CauseError(f"--nj {args.nj} must be at least 1")
    if any(a == "--collect_stats" or a.startswith("--collect_stats=") for a in train_args):
        raise CauseError("--collect_stats is set by this command; remove it")
    collect_stats(
        train_args=train_args,
        train_shape_file=args.train_shape_file,
        valid_shape_file=args.valid_shape_file,
        output_dir=args.output_dir,
        nj=args.nj,
        parallel_config=load_parallel_config(args.parallel_config),
    )


if __name__ == "__main__":
    main()
