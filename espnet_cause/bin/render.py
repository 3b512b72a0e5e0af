#!/usr/bin/env python3
"""Animate a still face photo with an AU sequence (from speech or a file) and write an mp4.

Examples:
    python -m espnet_cause.bin.render --image face.jpg --wav speech.wav \\
        --model exp/cause/model.zip --output out.mp4 --side_by_side
    python -m espnet_cause.bin.render --image face.jpg --wav_scp render.scp \\
        --model exp/cause/model.zip --output_dir exp/cause/render
    python -m espnet_cause.bin.render --image face.jpg --au au.csv --wav speech.wav \\
        --renderer ganimation --generator exp/ganimation/generator.pth --output out.mp4
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from espnet_cause.assets import resolve_model
from espnet_cause.au import DEFAULT_AU_FPS
from espnet_cause.cli import (
    MODEL_HELP,
    add_renamed_argument,
    make_parser,
    reports_errors,
    setup_logging,
)
from espnet_cause.errors import CauseError
from espnet_cause.inference.speech2au import Speech2AU
from espnet_cause.io.atomic import check_output, check_output_dir
from espnet_cause.io.au_files import read_au_frames
from espnet_cause.io.audio import load_audio
from espnet_cause.io.mp4 import CONTAINERS
from espnet_cause.jobs.parallel import load_parallel_config
from espnet_cause.render.animate import RENDERERS, PhotoAnimator, animate_set, speech_aus
from espnet_cause.render.options import (
    BLINK_RATE_RANGE,
    FPS_RANGE,
    GAIN_RANGE,
    HEAD_MOTION_RANGE,
    check_range,
)
from espnet_cause.render.photo import MAX_IMAGE_PIXELS, check_face_index

logger = logging.getLogger(__name__)


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "Render a still face photo moving with an AU sequence, as mp4 with the speech.",
        face_landmarker=True,
        parallel=True,
    )
    parser.add_argument(
        "--image",
        required=True,
        help=f"Face photo (JPEG/PNG; gray/alpha ok; at most {MAX_IMAGE_PIXELS // 1_000_000} "
        "megapixels).",
    )
    parser.add_argument("--wav", default=None, help="Speech: the audio track and the duration.")
    add_renamed_argument(
        parser,
        "--model",
        "--cause_model",
        default=None,
        help="CAUSE model for the AUs from --wav: " + MODEL_HELP,
    )
    parser.add_argument("--au", default=None, help="AU track (.csv OpenFace style or .npy).")
    parser.add_argument(
        "--au_fps", type=float, default=None, help="Frame rate of a .npy --au (default 25)."
    )
    parser.add_argument(
        "--renderer",
        choices=RENDERERS,
        default=None,
        help="warp: training-free landmark warp; ganimation: the trained generator. "
        "Default: ganimation if --generator is given, else warp.",
    )
    add_renamed_argument(
        parser, "--generator", "--ganimation_model", default=None, help="GANimation generator.pth."
    )
    parser.add_argument("--output", default=None, help="Output .mp4 file.")
    parser.add_argument(
        "--wav_scp",
        default=None,
        help="A set instead of --wav/--output: every utterance driven by its own speech "
        "(with --model) -> OUTPUT_DIR/<utt>.mp4 and render_report.tsv (resumable).",
    )
    parser.add_argument("--output_dir", default=None, help="With --wav_scp: the videos' directory.")
    parser.add_argument(
        "--fps",
        type=float,
        default=DEFAULT_AU_FPS,
        help=f"Video frame rate ({FPS_RANGE[0]:g}-{FPS_RANGE[1]:g}).",
    )
    parser.add_argument(
        "--side_by_side", action="store_true", help="Add a panel with AU bars and the waveform."
    )
    parser.add_argument(
        "--face_index",
        type=int,
        default=0,
        help="Face to animate when the photo has several: 0 the largest, 1 the next largest, "
        "... (equal sizes left to right). Only that face moves.",
    )
    parser.add_argument(
        "--gain",
        type=float,
        default=1.0,
        help=f"Warp: AU intensity scale ({GAIN_RANGE[0]:g}-{GAIN_RANGE[1]:g}).",
    )
    parser.add_argument(
        "--au_mode",
        choices=("absolute", "offset"),
        default="absolute",
        help="Warp: AUs are targets (the photo's own AUs, read by the tracker, are the start; "
        "0 = absent) or offsets from the photo (0 = the photo unchanged).",
    )
    parser.add_argument(
        "--head_motion",
        type=float,
        default=1.0,
        help="Warp: idle head motion (seeded smoothed random walk; 1 = about 1.5 degrees roll and "
        "2 percent of the eye distance shift, 0 = still head; at most "
        f"{HEAD_MOTION_RANGE[1]:g}). The background stays still.",
    )
    parser.add_argument(
        "--blink_rate",
        type=float,
        default=0.0,
        help="Warp: blinks per minute added where the AU stream has no AU45 blink (0 = only the "
        f"stream's blinks; 15 is a natural rate; at most {BLINK_RATE_RANGE[1]:g}).",
    )
    parser.add_argument("--seed", type=int, default=0, help="Warp: seed of the idle motion.")
    parser.add_argument("--batch_size", type=int, default=16, help="GANimation batch size.")
    parser.add_argument("--device", default="cpu", help="GANimation device (cpu, cuda).")
    return parser


def _check_args(args) -> None:
    if args.wav_scp is not None:
        if args.output_dir is None:
            raise CauseError("--wav_scp needs --output_dir")
        if args.wav or args.au or args.output:
            raise CauseError("--wav_scp renders a set: leave out --wav, --au and --output")
    else:
        if args.output is None:
            raise CauseError("no output given", fix="pass --output FILE.mp4 (or --wav_scp)")
        if args.au is not None and args.model is not None:
            raise CauseError("give --au AU_FILE or --model MODEL.zip, not both")
        if args.au is None and args.wav is None:
            raise CauseError(
                "AUs are predicted from speech: --wav is required (or give --au AU_FILE)"
            )
    if args.au is None:  # a path, a built-in name, or None: the default built-in model
        args.model = str(resolve_model(args.model))
    check_range("--fps", args.fps, FPS_RANGE, "use --fps 25")
    check_range("--gain", args.gain, GAIN_RANGE, "1 renders the AUs as given")
    check_range("--head_motion", args.head_motion, HEAD_MOTION_RANGE, "1 is the default")
    check_range("--blink_rate", args.blink_rate, BLINK_RATE_RANGE, "15 is a natural rate")
    check_face_index(args.face_index)
    if args.batch_size < 1:
        raise CauseError(f"--batch_size must be at least 1, got {args.batch_size}")
    if args.model is not None and not Path(args.model).is_file():
        raise CauseError("CAUSE model not found", path=args.model, fix="check --model")


@reports_errors
def main(cmd: list[str] | None = None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    _check_args(args)
    inputs = {
        "--image": args.image,
        "--wav": args.wav,
        "--au": args.au,
        "--model": args.model,
        "--generator": args.generator,
        "--face_landmarker_path": args.face_landmarker_path,
    }
    options = {
        "image": args.image,
        "renderer": args.renderer or ("ganimation" if args.generator else "warp"),
        "ganimation_model": args.generator,
        "face_index": args.face_index,
        "face_landmarker_path": args.face_landmarker_path,
        "gain": args.gain,
        "absolute": args.au_mode == "absolute",
        "head_motion": args.head_motion,
        "blink_rate": args.blink_rate,
        "seed": args.seed,
        "batch_size": args.batch_size,
        "device": args.device,
        "fps": args.fps,
        "side_by_side": args.side_by_side,
    }
    if args.wav_scp is not None:
        check_output_dir(args.output_dir)
        animate_set(
            args.wav_scp,
            args.output_dir,
            cause_model=args.model,
            parallel_config=load_parallel_config(args.parallel_config),
            max_fail_fraction=args.max_fail_fraction,
            **options,
        )
        return
    check_output(args.output, inputs=inputs, suffixes=tuple(CONTAINERS), what="--output")
    speech, sample_rate = None, None
    if args.wav is not None:
        speech, sample_rate = load_audio(args.wav)
    animator = PhotoAnimator(**options)  # loads the renderer before the slower AU prediction
    try:
        if args.au is not None:
            aus = read_au_frames(args.au, args.fps, file_fps=args.au_fps)
            source = args.au
        else:
            aus = speech_aus(Speech2AU(model=args.model), speech, sample_rate, args.fps)
            source = f"AUs predicted from {args.wav}"
        animator.write(
            args.output, aus, speech, sample_rate, source=source, progress=args.verbose >= 1
        )
    finally:
        animator.close()
    print(Path(args.output).resolve())


if __name__ == "__main__":
    main()
