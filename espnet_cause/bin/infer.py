"""Estimate facial action unit (AU) sequences from speech with a trained CAUSE model.

Examples:
    # one file -> OpenFace-style CSV (17 AU columns, 25 fps by default)
    python -m espnet_cause.bin.infer --model exp/cause_cnn/model.zip --wav a.wav --output a.csv
    # a data set -> Kaldi ark/scp on the frame grid of a 22.05 kHz, hop 256 TTS feature extractor
    python -m espnet_cause.bin.infer --model exp/cause_cnn/model.zip \\
        --wav_scp dump/test/wav.scp --output_dir exp/cause_cnn/infer_test --output_format ark \\
        --output_fs 22050 --output_hop_length 256 --parallel_config conf/parallel/local.yaml

Set input (:func:`espnet_cause.inference.infer_set.infer_set`): each utterance is one item of
the batch runner ``espnet_cause.jobs.batch`` (in-process or
on Dask; its resume rule: finished items are skipped on a re-run, other model or grid settings
start over); unusable items (missing/unreadable/empty/silent audio) are skipped with their reason
in ``OUTPUT_DIR/infer_report.tsv``. ``--output_format ark`` writes ``au.ark``/``au.scp``;
``npy``/``csv`` write ``OUTPUT_DIR/<utt>.npy|csv``; all write ``au_fps`` (the frame rate).

Avatar animation: ``--output_format livelink`` writes a Live Link Face CSV (Unreal's
LiveLinkFaceImporter, Blender and Maya importers) and ``arkit_json`` a ``{"fps", "names",
"frames", "rotation_names", "rotations"}`` JSON of the 52 ARKit blendshapes and the head and eye
rotations (:mod:`espnet_cause.io.livelink`); ``visemes`` a JSON of the 15 Meta/Oculus visemes per
frame and Rhubarb mouth cues; all at 60 fps unless ``--output_fps`` says otherwise. An AU model's
output becomes the whole ARKit face (:mod:`espnet_cause.avatar.face`), a ``target: arkit``
model's blendshapes are written as they are; ``--head_motion``, ``--blink_rate`` and ``--seed``
set the head, gaze and blinks (:mod:`espnet_cause.avatar.animation`)::

    python -m espnet_cause.bin.infer --model model.zip --wav speech.wav --output take.csv \
        --output_format livelink --output_fps 60

A ``target: arkit`` model's ``csv`` output is a blendshape CSV
(:mod:`espnet_cause.io.blendshapes`), its ``npy``/``ark`` output (T, 51) matrices.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from espnet_cause.assets import resolve_model
from espnet_cause.avatar.animation import write_take
from espnet_cause.avatar.face import BLINK_RATE
from espnet_cause.cli import (
    MODEL_HELP,
    add_avatar_motion_args,
    make_parser,
    reports_errors,
    setup_logging,
)
from espnet_cause.errors import CauseError
from espnet_cause.inference.infer_set import (
    ANIMATION_FORMATS,
    OUTPUT_FORMATS,
    SUFFIXES,
    grid_options,
    infer_file,
    infer_set,
)
from espnet_cause.io.atomic import check_output, check_output_dir
from espnet_cause.io.livelink import check_livelink_fps
from espnet_cause.jobs.parallel import load_parallel_config


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser(__doc__.split("\n\n")[0], parallel=True)
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--wav", help="one audio file (any sample rate, mono or multi-channel)")
    src.add_argument("--wav_scp", help="Kaldi wav.scp: '<utt> <path>' lines")
    m = parser.add_argument_group(
        "model: --model, or --train_config with --model_file (default: the built-in model)"
    )
    m.add_argument("--model", help=MODEL_HELP)
    m.add_argument("--train_config", help="config.yaml of a training run")
    m.add_argument("--model_file", help="weights of that run, e.g. valid.loss.best.pth")
    out = parser.add_argument_group("output")
    out.add_argument(
        "--output", help="with --wav: FILE.csv or FILE.npy (livelink: FILE.csv, arkit_json: .json)"
    )
    out.add_argument("--output_dir", help="with --wav_scp (or --wav): directory of results")
    out.add_argument(
        "--output_format",
        choices=OUTPUT_FORMATS,
        default="ark",
        help="ark/npy/csv: the model's own frames; livelink: Live Link Face CSV; arkit_json: "
        "ARKit blendshape JSON; visemes: Meta/Oculus viseme and Rhubarb cue JSON (the last three "
        "60 fps by default). With --wav the --output suffix chooses csv or npy unless an "
        "animation format is asked for",
    )
    add_avatar_motion_args(parser, blink_rate=BLINK_RATE)
    g = parser.add_argument_group("frame grid (default: the model's au_fps)")
    g.add_argument("--output_fps", type=float, default=None, help="frames per second")
    g.add_argument("--output_fs", type=int, default=None, help="TTS feature sampling rate")
    g.add_argument("--output_hop_length", type=int, default=None, help="TTS feature hop")
    parser.add_argument(
        "--backend",
        choices=("auto", "onnx", "torch"),
        default="auto",
        help="onnx: ONNX Runtime on the zip's ONNX graph (no torch import); torch: the ESPnet "
        "model; auto: onnx when the model zip has a graph, else torch",
    )
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--num_threads", type=int, default=1, help="torch threads per process")
    parser.add_argument(
        "--retry_errors", action="store_true", help="re-run items that failed in an earlier run"
    )
    parser.add_argument("--cache_dir", default=None, help="where model zips are unpacked")
    return parser


def _model_options(args) -> dict:
    return {
        "model": args.model,
        "train_config": args.train_config,
        "model_file": args.model_file,
        "device": args.device,
        "num_threads": args.num_threads,
        "cache_dir": args.cache_dir,
        "backend": args.backend,
    }


def _check_args(args) -> None:
    if args.model and (args.train_config or args.model_file):
        raise CauseError("give --model or --train_config/--model_file, not both")
    if bool(args.train_config) != bool(args.model_file):
        raise CauseError(
            "--train_config and --model_file go together",
            fix="pass both, or --model MODEL.zip, or neither for the built-in model",
        )
    if args.model or not args.train_config:  # a path, a built-in name, or the default built-in
        args.model = str(resolve_model(args.model))
    if (args.output_fs is None) != (args.output_hop_length is None):
        raise CauseError("--output_fs and --output_hop_length go together", fix="give both")
    if args.output_fps is not None and args.output_fs is not None:
        raise CauseError("give either --output_fps or --output_fs/--output_hop_length")
    for name in ("output_fps", "output_fs", "output_hop_length"):
        value = getattr(args, name)
        if value is not None and not value > 0:
            raise CauseError(f"--{name} must be positive, got {value}")
    if args.output_format == "livelink" and args.output_fps is not None:
        check_livelink_fps(args.output_fps)
    if args.wav and not (args.output or args.output_dir):
        raise CauseError("no output given", fix="pass --output FILE.csv|FILE.npy")
    if args.wav_scp and not args.output_dir:
        raise CauseError("--wav_scp needs --output_dir", fix="pass --output_dir DIR")

    suffix = Path(args.output).suffix.lower() if args.output else None
    if args.output and args.output_format in ANIMATION_FORMATS:
        wanted = SUFFIXES[args.output_format]
        if suffix != wanted:
            raise CauseError(
                f"--output_format {args.output_format} writes a {wanted} file, not {suffix!r}",
                path=args.output,
                fix=f"name the output FILE{wanted}",
            )
    elif (
        args.output and args.output_format in ("csv", "npy") and suffix != f".{args.output_format}"
    ):
        raise CauseError(
            f"--output_format {args.output_format} writes a .{args.output_format} file, "
            f"not {suffix!r}",
            path=args.output,
            fix=f"name the output FILE.{args.output_format} (or drop --output_format: the suffix "
            "chooses)",
        )
    elif args.output and suffix not in (".csv", ".npy"):
        raise CauseError(
            f"unknown output type {Path(args.output).suffix!r}",
            path=args.output,
            fix="name the output FILE.csv or FILE.npy (or use --output_dir)",
        )

    inputs = {"--wav": args.wav, "--wav_scp": args.wav_scp, "--model": args.model}
    inputs |= {"--train_config": args.train_config, "--model_file": args.model_file}
    if args.output:
        check_output(args.output, inputs=inputs, what="--output")
    if args.output_dir:
        check_output_dir(args.output_dir)


@reports_errors
def main(cmd: list[str] | None = None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    _check_args(args)
    if os.environ.get("OMP_NUM_THREADS") is None and args.num_threads:
        os.environ["OMP_NUM_THREADS"] = str(args.num_threads)
    grid = grid_options(args.output_format, args.output_fps, args.output_fs, args.output_hop_length)
    motion = {"head_motion": args.head_motion, "blink_rate": args.blink_rate, "seed": args.seed}
    if args.wav:
        output = args.output or Path(args.output_dir) / (
            Path(args.wav).stem + SUFFIXES[args.output_format]
        )
        infer_file(
            args.wav, output, model_options=_model_options(args), grid=grid,
            output_format=args.output_format, motion=motion, write_take=write_take,
        )  # fmt: skip
    else:
        infer_set(
            args.wav_scp, args.output_dir, model_options=_model_options(args), grid=grid,
            output_format=args.output_format,
            parallel_config=load_parallel_config(args.parallel_config),
            retry_errors=args.retry_errors, motion=motion, write_take=write_take,
            max_fail_fraction=args.max_fail_fraction,
        )  # fmt: skip


if __name__ == "__main__":
    main()
