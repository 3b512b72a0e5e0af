#!/usr/bin/env python3
"""Convert AU streams between OpenFace CSV, ``.npy`` and Kaldi ``.scp``/``.ark``, resampling.

Examples:
    python -m espnet_cause.bin.convert_au --input openface.csv --output au.npy --fps 25
    python -m espnet_cause.bin.convert_au --input dump/test/au.scp --output au_csv/ --output_format csv
    python -m espnet_cause.bin.convert_au --input csv_dir/ --output au.scp --fps 25
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from espnet_cause.au import DEFAULT_AU_FPS
from espnet_cause.cli import make_parser, reports_errors, setup_logging
from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import check_output, check_output_dir
from espnet_cause.io.au_files import (
    SINGLE_SUFFIXES,
    AUArkWriter,
    read_au_source,
    write_au,
)
from espnet_cause.io.track import DEFAULT_MAX_GAP, DEFAULT_MIN_CONFIDENCE, AUTrack

logger = logging.getLogger("convert_au")


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser("Convert AU streams between OpenFace CSV, .npy and Kaldi .scp/.ark.")
    parser.add_argument(
        "--input", required=True, help="a .csv/.npy file, a .scp, or a directory of .csv/.npy"
    )
    parser.add_argument(
        "--output",
        required=True,
        help="a .csv/.npy file, a .scp (its .ark is written beside it), or a directory",
    )
    parser.add_argument(
        "--output_format",
        choices=["csv", "npy"],
        default="npy",
        help="file type when --output is a directory",
    )
    parser.add_argument(
        "--fps",
        type=float,
        default=None,
        help="resample to this frame rate (default: keep the input's)",
    )
    parser.add_argument(
        "--input_fps",
        type=float,
        default=None,
        help=f"frame rate of .npy/.scp input (default: au_fps file or {DEFAULT_AU_FPS:g})",
    )
    parser.add_argument(
        "--face_id",
        type=int,
        default=None,
        help="face to read from a CSV with several faces (default: most tracked)",
    )
    parser.add_argument(
        "--min_confidence",
        type=float,
        default=DEFAULT_MIN_CONFIDENCE,
        help="frames below this tracker confidence are missing",
    )
    parser.add_argument(
        "--max_gap",
        type=float,
        default=DEFAULT_MAX_GAP,
        help="longest gap (s) of missing frames to interpolate",
    )
    return parser


def _read_many(path: Path, input_fps: float | None, face_id: int | None) -> dict[str, AUTrack]:
    return {key: load() for key, load in read_au_source(path, input_fps, face_id).items()}


def _resample(track: AUTrack, fps: float | None, args) -> AUTrack:
    target = fps or track.fps or args.input_fps or DEFAULT_AU_FPS
    out, report = track.resample(target, min_confidence=args.min_confidence, max_gap=args.max_gap)
    if report.flagged:
        logger.warning(
            "%s: %d of %d frames are in gaps longer than %.2f s and stay missing (NaN)",
            track.source, report.num_missing, report.num_frames, args.max_gap,
        )  # fmt: skip
    return out


def _check_destination(src: Path, dst: Path) -> None:
    """Refuse an output that cannot be written, or that is the input, before reading anything."""

    if dst.suffix == ".scp":
        for out in (dst, dst.with_suffix(".ark")):
            check_output(out, inputs={"--input": src}, what="--output")
    elif dst.suffix.lower() in SINGLE_SUFFIXES:
        check_output(dst, inputs={"--input": src}, what="--output")
    elif dst.suffix == "":
        if dst.exists() and src.exists() and dst.resolve() == src.resolve():
            raise CauseError(
                "--output is the --input directory; refusing to overwrite the inputs",
                path=dst,
                fix="write to another directory",
            )
        check_output_dir(dst, what="--output")


@reports_errors
def main(cmd: list[str] | None = None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    src, dst = Path(args.input), Path(args.output)
    if not src.exists():
        raise CauseError("input not found", path=src, fix="check the path")
    _check_destination(src, dst)
    tracks = _read_many(src, args.input_fps, args.face_id)
    converted = {key: _resample(t, args.fps, args) for key, t in tracks.items()}
    fps = next(iter(converted.values())).fps

    if dst.suffix == ".scp":
        with AUArkWriter(dst.with_suffix(".ark"), dst, fps=fps) as writer:
            for key, track in converted.items():
                writer.write(key, track.intensities)
    elif dst.suffix.lower() in SINGLE_SUFFIXES:
        if len(converted) != 1:
            raise CauseError(
                f"{len(converted)} tracks cannot go into one file",
                path=dst,
                fix="give a .scp or a directory as --output",
            )
        write_au(dst, next(iter(converted.values())))
    elif dst.suffix == "":
        for key, track in converted.items():
            write_au(dst / f"{key}.{args.output_format}", track)
    else:
        raise CauseError(
            f"unknown output type {dst.suffix!r}",
            path=dst,
            fix="use .csv, .npy, .scp or a directory",
        )
    frames = sum(len(t) for t in converted.values())
    logger.info("wrote %d track(s), %d frames at %g fps to %s", len(converted), frames, fps, dst)


if __name__ == "__main__":
    main()
