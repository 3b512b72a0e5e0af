#!/usr/bin/env python3
"""Animate a still face photo with an AU sequence (from speech or a file) and write an mp4.

Examples:
    python -m espnet_cause.bin.render --image face.jpg --wav speech.wav \\
        --cause_model exp/cause/model.zip --output out.mp4 --side_by_side
    python -m espnet_cause.bin.render --image face.jpg --au au.csv --wav speech.wav \\
        --renderer ganimation --ganimation_model exp/ganimation/generator.pth --output out.mp4
"""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

import numpy as np

from espnet_cause.au import DEFAULT_AU_FPS, NUM_AUS
from espnet_cause.cli import (
    make_parser,
    reports_errors,
    setup_logging,
)
from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import check_output
from espnet_cause.render.mp4 import CONTAINERS

logger = logging.getLogger(__name__)

#: AU frames rendered by GANimation per call (bounds memory; the renderer batches inside).
GANIMATION_CHUNK = 64
#: Modules that may hold the GANimation renderer class.
GANIMATION_MODULES = (
    "espnet_cause.ganimation",
    "espnet_cause.ganimation.renderer",
    "espnet_cause.ganimation.render",
    "espnet_cause.ganimation.renderer",
)


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "Render a still face photo moving with an AU sequence, as mp4 with the speech.",
        face_landmarker=True,
    )
    parser.add_argument("--image", required=True, help="Face photo (JPEG/PNG; gray/alpha ok).")
    parser.add_argument("--wav", default=None, help="Speech: the audio track and the duration.")
    parser.add_argument(
        "--cause_model", default=None, help="CAUSE model.zip: AUs from --wav (default: built-in)."
    )
    parser.add_argument("--au", default=None, help="AU track (.csv OpenFace style or .npy).")
    parser.add_argument(
        "--au_fps", type=float, default=None, help="Frame rate of a .npy --au (default 25)."
    )
    parser.add_argument(
        "--renderer",
        choices=("warp", "ganimation"),
        default=None,
        help="warp: training-free landmark warp; ganimation: the trained generator. "
        "Default: ganimation if --ganimation_model is given, else warp.",
    )
    parser.add_argument("--ganimation_model", default=None, help="GANimation generator file.")
    parser.add_argument("--output", required=True, help="Output .mp4 file.")
    parser.add_argument("--fps", type=float, default=DEFAULT_AU_FPS, help="Video frame rate.")
    parser.add_argument(
        "--side_by_side", action="store_true", help="Add a panel with AU bars and the waveform."
    )
    parser.add_argument("--face_index", type=int, default=0, help="Face to animate (0=largest).")
    parser.add_argument("--gain", type=float, default=1.0, help="Warp: AU intensity scale.")
    parser.add_argument("--batch_size", type=int, default=16, help="GANimation batch size.")
    parser.add_argument("--device", default="cpu", help="GANimation device (cpu, cuda).")
    return parser


def predict_aus(cause_model: str, speech: np.ndarray, sample_rate: int, fps: float) -> np.ndarray:
    """AUs from speech with the CAUSE model, resampled to ``fps``; (T, 17)."""
    if not Path(cause_model).is_file():
        raise CauseError("CAUSE model not found", path=cause_model, fix="check --cause_model")
    from espnet_cause.inference import Speech2AU
    from espnet_cause.io.track import AUTrack, fill_gaps

    speech2au = Speech2AU(model=cause_model)
    aus = np.asarray(speech2au(speech, sample_rate), dtype=np.float32)
    if aus.ndim != 2 or aus.shape[1] != NUM_AUS:
        raise CauseError(f"CAUSE model returned shape {aus.shape}", path=cause_model)
    model_fps = speech2au.au_fps
    if abs(model_fps - fps) < 1e-6:
        return aus
    track = AUTrack.from_array(aus, model_fps, source=cause_model)
    return fill_gaps(track.resample(fps)[0].intensities)


@reports_errors
def main(cmd: list[str] | None = None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    if args.au is not None and args.cause_model is not None:
        raise CauseError("give --au AU_FILE or --cause_model MODEL.zip, not both")
    if args.au is None and args.wav is None:
        raise CauseError("AUs are predicted from speech: --wav is required (or give --au AU_FILE)")
    if args.au is None and args.cause_model is None:
        from espnet_cause.assets import cause_model

        args.cause_model = str(cause_model())
    if args.fps <= 0 or not math.isfinite(args.fps):
        raise CauseError(f"--fps must be positive, got {args.fps}")
    renderer_name = args.renderer or ("ganimation" if args.ganimation_model else "warp")
    check_output(
        args.output,
        inputs={
            "--image": args.image,
            "--wav": args.wav,
            "--au": args.au,
            "--cause_model": args.cause_model,
            "--ganimation_model": args.ganimation_model,
            "--face_landmarker_path": args.face_landmarker_path,
        },
        suffixes=tuple(CONTAINERS),
        what="--output",
    )

    from tqdm import tqdm

    from espnet_cause.face.landmarker import FaceLandmarker, find_face
    from espnet_cause.face.model_file import resolve_face_landmarker
    from espnet_cause.io.image import load_image
    from espnet_cause.render.mp4 import write_mp4

    image = load_image(args.image)
    speech, sample_rate = None, None
    if args.wav is not None:
        from espnet_cause.io.audio import load_audio

        speech, sample_rate = load_audio(args.wav)

    from espnet_cause.ganimation.renderer import ganimation_frames, load_ganimation

    # the renderer is loaded before the (slower) AU prediction, so a bad checkpoint fails fast
    ganimation = (
        load_ganimation(args.ganimation_model, args.device)
        if renderer_name == "ganimation"
        else None
    )

    landmarker_path = resolve_face_landmarker(args.face_landmarker_path)
    with FaceLandmarker(landmarker_path) as landmarker:
        face = find_face(landmarker, image, args.face_index, source=args.image)

    from espnet_cause.io.au_files import align_aus, read_au_frames

    if args.au is not None:
        aus = read_au_frames(args.au, args.fps, file_fps=args.au_fps)
        source = args.au
    else:
        aus = predict_aus(args.cause_model, speech, sample_rate, args.fps)
        source = f"AUs predicted from {args.wav}"
    if speech is not None:
        num_frames = max(1, round(len(speech) / sample_rate * args.fps))
        aus = align_aus(aus, num_frames, source=source)
    logger.info("%d frames at %g fps with the %s renderer", len(aus), args.fps, renderer_name)

    if ganimation is not None:
        frames = ganimation_frames(ganimation, image, face, aus, args.batch_size)
    else:
        from espnet_cause.render.warp import WarpRenderer

        warp = WarpRenderer(landmarker_path, face_index=args.face_index, gain=args.gain)
        warp.prepare(image, face=face, source=args.image)
        frames = warp.render(image, aus)

    if args.side_by_side:
        from espnet_cause.render.panel import SidePanel

        height = image.shape[0] + image.shape[0] % 2
        panel = SidePanel(aus, height, audio=speech, sample_rate=sample_rate, fps=args.fps)
        frames = (
            panel.compose(np.pad(f, ((0, height - f.shape[0]), (0, 0), (0, 0)), mode="edge"), i)
            for i, f in enumerate(frames)
        )
    frames = tqdm(frames, total=len(aus), desc="render", unit="frame", disable=args.verbose < 1)
    write_mp4(args.output, frames, args.fps, audio=speech, sample_rate=sample_rate)
    print(Path(args.output).resolve())


if __name__ == "__main__":
    main()
