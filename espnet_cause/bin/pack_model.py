"""Pack a trained CAUSE model (config, weights, stats) into one ``model.zip``.

Example:
    python -m espnet_cause.bin.pack_model --train_config exp/cause_cnn/config.yaml \\
        --model_file exp/cause_cnn/valid.loss.best.pth --output exp/cause_cnn/model.zip
"""

from __future__ import annotations

import argparse

from espnet_cause.cli import make_parser, reports_errors, setup_logging


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--train_config", required=True, help="config.yaml of the training run")
    parser.add_argument("--model_file", required=True, help="weights, e.g. valid.loss.best.pth")
    parser.add_argument("--output", required=True, help="the zip to write")
    parser.add_argument(
        "--base_dir",
        default=None,
        help="directory the config's relative stats paths are relative to "
        "(default: the current directory, then the config's directory)",
    )
    return parser


@reports_errors
def main(cmd: list[str] | None = None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    from espnet_cause.packing import pack_model

    pack_model(args.train_config, args.model_file, args.output, base_dir=args.base_dir)


if __name__ == "__main__":
    main()
