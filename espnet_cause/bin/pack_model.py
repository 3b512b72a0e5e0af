"""Pack a trained CAUSE model (config, weights, stats, ONNX graphs) into one ``model.zip``.

Example:
    python -m espnet_cause.bin.pack_model --train_config exp/cause_cnn/config.yaml \\
        --model_file exp/cause_cnn/valid.loss.best.pth --output exp/cause_cnn/model.zip
    # the mouth's swing calibrated to the tracked faces of a data dir (docs/model_builtin.md)
    python -m espnet_cause.bin.pack_model --train_config exp/cause_cnn/config.yaml \\
        --model_file exp/cause_cnn/valid.loss.best.pth --output exp/cause_cnn/model.zip \\
        --calibrate_dir dump_grid/train
"""

from __future__ import annotations

import argparse

from espnet_cause.cli import make_parser, reports_errors, setup_logging
from espnet_cause.inference.calibration import MOUTH_AUS
from espnet_cause.inference.packing import pack_model


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
    parser.add_argument(
        "--onnx",
        choices=("auto", "yes", "no"),
        default="auto",
        help="also write the ONNX graphs for inference without torch: auto (when the model "
        "supports it; otherwise warn and pack without), yes (fail if it does not), no",
    )
    parser.add_argument(
        "--calibrate_dir",
        default=None,
        help="a dump dir (wav.scp, au.scp, optional au_weight.scp) to calibrate the output "
        "scale on: each --calibrate_aus AU's de-normalisation std is multiplied by the tracked "
        "/ predicted std over the dir's frames that weigh > 0 (espnet_cause.inference."
        "calibration; recorded in the zip's meta.yaml). Default: no calibration",
    )
    parser.add_argument(
        "--calibrate_aus",
        nargs="+",
        default=list(MOUTH_AUS),
        help="AUs that --calibrate_dir calibrates (default: %(default)s)",
    )
    return parser


@reports_errors
def main(cmd: list[str] | None = None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)

    onnx = {"auto": None, "yes": True, "no": False}[args.onnx]
    pack_model(
        args.train_config,
        args.model_file,
        args.output,
        base_dir=args.base_dir,
        onnx=onnx,
        calibrate_dir=args.calibrate_dir,
        calibrate_aus=tuple(args.calibrate_aus),
    )


if __name__ == "__main__":
    main()
