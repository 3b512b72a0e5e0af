#!/usr/bin/env python3
"""Plot AU trajectories of one track over time as a PNG (optionally with speech and a reference).

Examples:
    python -m espnet_cause.bin.plot_au --input au.csv --wav speech.wav --output au.png
    python -m espnet_cause.bin.plot_au --input dump/test/au.scp --key utt1 \\
        --aus AU01,AU12,AU25,AU26 --reference ref.csv --output utt1.png
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from espnet_cause.au import AU_NAMES, au_index
from espnet_cause.cli import make_parser, reports_errors, setup_logging
from espnet_cause.errors import CauseError
from espnet_cause.evaluation.plots import (
    REFERENCE_COLOR,
    TRACK_COLOR,
    AUCurve,
    most_active_aus,
    plot_au_curves,
)
from espnet_cause.io.atomic import check_output
from espnet_cause.io.au_files import SINGLE_SUFFIXES, read_au_source
from espnet_cause.io.audio import load_audio

logger = logging.getLogger(__name__)

#: Keys listed in the error message when ``--key`` is not in the scp.
MAX_KEYS_SHOWN = 5


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser("Plot AU trajectories (0-5 scale, seconds) of one AU track as a PNG.")
    parser.add_argument(
        "--input", required=True, help="AU track: .csv (OpenFace style), .npy or Kaldi .scp."
    )
    parser.add_argument("--key", default=None, help="Utterance in an .scp --input.")
    parser.add_argument(
        "--fps",
        type=float,
        default=None,
        help="Frame rate of .npy/.scp tracks (default: the au_fps file beside an scp, else 25).",
    )
    parser.add_argument("--wav", default=None, help="Speech drawn above the AU panels.")
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--aus",
        default=None,
        help="Comma-separated AUs, e.g. AU01,AU12,AU25,AU26 (default: the 4 that move most).",
    )
    group.add_argument("--all", action="store_true", help="Plot all 17 intensity AUs.")
    parser.add_argument(
        "--reference", default=None, help="A second track (.csv/.npy) overlaid in black."
    )
    parser.add_argument("--title", default=None, help="Figure title (default: key or file name).")
    parser.add_argument("--output", required=True, help="Output .png file.")
    return parser


def parse_aus(spec: str) -> list[int]:
    """AU column indices from ``"AU01,AU12"`` (also ``12``, ``au12``, ``AU12_r``), in order."""
    names = [s for s in (part.strip() for part in spec.split(",")) if s]
    if not names:
        raise CauseError(f"--aus {spec!r} names no AU", fix="e.g. --aus AU01,AU12,AU25,AU26")
    idx: list[int] = []
    for name in names:
        try:
            j = au_index(name)
        except KeyError:
            raise CauseError(
                f"unknown AU {name!r} in --aus", fix=f"use intensity AUs: {', '.join(AU_NAMES)}"
            ) from None
        if j not in idx:
            idx.append(j)
    return idx


def load_track(path: str, key: str | None, fps: float | None):
    """Read one AU track from a .csv, .npy or (with ``key``) a Kaldi .scp or a directory.

    Returns:
        (AUTrack, name): the track, with untrusted frames set to NaN, and a name for titles.
    """

    p = Path(path)
    source = read_au_source(p, fps)
    keys = list(source)
    if p.suffix.lower() in SINGLE_SUFFIXES:
        if key is not None:
            logger.warning("--key %s is ignored: %s is a single track", key, p)
        key = keys[0]
    elif not keys:
        raise CauseError("the scp lists no utterance", path=p)
    elif key is None:
        if len(keys) > 1:
            raise CauseError(
                f"the scp holds {len(keys)} utterances: choose one with --key",
                path=p,
                fix=f"e.g. --key {keys[0]}",
            )
        key = keys[0]
    elif key not in source:
        shown = ", ".join(keys[:MAX_KEYS_SHOWN]) + (", ..." if len(keys) > MAX_KEYS_SHOWN else "")
        raise CauseError(
            f"utterance {key!r} is not in the scp", path=p, fix=f"pick one of: {shown}"
        )
    track, name = source[key](), key
    if len(track) == 0:
        raise CauseError("the AU track has no frames", path=p, fix="give a non-empty track")
    values = track.intensities.copy()
    values[~track.valid_mask()] = np.nan
    track.intensities = values
    return track, name


@reports_errors
def main(cmd: list[str] | None = None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    if args.fps is not None and not args.fps > 0:
        raise CauseError(f"--fps must be positive, got {args.fps}")

    inputs = {"--input": args.input, "--reference": args.reference, "--wav": args.wav}
    check_output(args.output, inputs=inputs, suffixes=(".png",), what="--output")

    track, name = load_track(args.input, args.key, args.fps)
    curves = []
    reference = None
    if args.reference is not None:
        ref_key = args.key if Path(args.reference).suffix.lower() == ".scp" else None
        reference, _ = load_track(args.reference, ref_key, args.fps)
        curves.append(
            AUCurve(reference.timestamps, reference.intensities, "reference", REFERENCE_COLOR)
        )
    curves.append(AUCurve(track.timestamps, track.intensities, name, TRACK_COLOR))

    if args.all:
        indices = list(range(len(AU_NAMES)))
    elif args.aus is not None:
        indices = parse_aus(args.aus)
    else:
        indices = most_active_aus((reference or track).intensities)

    waveform, sample_rate = None, None
    if args.wav is not None:
        waveform, sample_rate = load_audio(args.wav)
        seconds = len(waveform) / sample_rate
        if abs(seconds - track.duration) > 0.5:
            logger.warning(
                "%s lasts %.2f s but the AU track %.2f s", args.wav, seconds, track.duration
            )

    plot_au_curves(
        args.output,
        curves,
        indices,
        waveform=waveform,
        sample_rate=sample_rate,
        title=args.title if args.title is not None else name,
    )
    logger.info("%d AU panels of %s -> %s", len(indices), name, args.output)
    print(Path(args.output).resolve())


if __name__ == "__main__":
    main()
