"""Score predicted AU streams against references: PCC, CCC, RMSE, MAE, model vs baselines.

Example:
    python -m espnet_cause.bin.score --ref dump/test/au.scp --hyp exp/cause_cnn/infer_test/au.scp \\
        --train_ref dump/train/au.scp --output_dir exp/cause_cnn/score_test

``--ref``/``--hyp``/``--train_ref`` each take a Kaldi ``au.scp`` of matrices (frame rate from the
``au_fps`` file beside it), an scp whose values are ``.csv``/``.npy`` files, or a directory of
``<utt>.csv``/``<utt>.npy`` files (or holding an ``au.scp``). Writes ``scores.json``,
``scores.md`` and ``plots/<utt>.png`` into ``--output_dir``
(:func:`espnet_cause.evaluation.score_set.run_scoring`).
"""

from __future__ import annotations

import argparse

from espnet_cause.cli import make_parser, reports_errors, setup_logging
from espnet_cause.evaluation.score_set import DEFAULT_NUM_PLOTS, run_scoring
from espnet_cause.io.atomic import check_output_dir


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--ref", required=True, help="reference AU streams (scp or directory)")
    parser.add_argument("--hyp", required=True, help="predicted AU streams (scp or directory)")
    parser.add_argument("--output_dir", required=True, help="where scores and plots go")
    parser.add_argument(
        "--train_ref",
        default=None,
        help="training-set AU streams for the mean-predictor baseline "
        "(default: the mean of --ref, noted in the report)",
    )
    parser.add_argument("--ref_fps", type=float, default=None, help="override the ref frame rate")
    parser.add_argument("--hyp_fps", type=float, default=None, help="override the hyp frame rate")
    parser.add_argument(
        "--num_plots", type=int, default=DEFAULT_NUM_PLOTS, help="utterances to plot (0: none)"
    )
    parser.add_argument(
        "--plot_aus",
        nargs="*",
        default=None,
        help="AUs to plot, e.g. AU12 AU25 (default: the 4 that move most in each reference)",
    )
    return parser


@reports_errors
def main(cmd: list[str] | None = None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)

    check_output_dir(args.output_dir)
    run_scoring(
        args.ref,
        args.hyp,
        args.output_dir,
        train_ref=args.train_ref,
        ref_fps=args.ref_fps,
        hyp_fps=args.hyp_fps,
        num_plots=args.num_plots,
        plot_aus=args.plot_aus,
    )


if __name__ == "__main__":
    main()
