"""Train the expressive model's emotion recogniser on labelled voices and pack it with a mouth model.

Example (the shipped ``expressive`` model: RAVDESS actors 1-14)::

    python -m espnet_cause.bin.emotion_recogniser_train --output exp/cause_expressive.zip \\
        --speech ravdess:/data/ravdess:Actor_01,Actor_02,...,Actor_14 --base_model builtin

Voice functionals per utterance (pitch, loudness, timing, voice quality, spectrum), z-scored with
each speaker's own statistics, into a multinomial logistic regression; a second regression on
globally z-scored features is the fallback for a single utterance. Stored as numpy arrays in the
zip (no torch at inference). See espnet_cause/inference/emotion_recogniser.py and
docs/model_expressive.md. A model trained on RAVDESS is CC BY-NC-SA 4.0: say so where you
publish it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from espnet_cause.assets import resolve_model
from espnet_cause.cli import make_parser, reports_errors, setup_logging
from espnet_cause.errors import CauseError
from espnet_cause.evaluation.expression import add_speech_arguments, speech_sources
from espnet_cause.inference.expressive_training import train_expressive
from espnet_cause.inference.expressive_zip import repack_expressive


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser(__doc__.split("\n\n")[0])
    add_speech_arguments(parser)
    parser.add_argument(
        "--base_model",
        default="builtin",
        help="the mouth model the expression is added to: a model.zip or a built-in name",
    )
    parser.add_argument("--c", type=float, default=0.1, help="inverse L2 strength (> 0)")
    parser.add_argument(
        "--licence",
        default=None,
        help="licence line stored in the zip's meta (e.g. 'CC BY-NC-SA 4.0 (RAVDESS)')",
    )
    parser.add_argument(
        "--repack",
        default=None,
        metavar="MODEL",
        help="no training: move the recogniser of this expressive zip (or built-in name) onto "
        "--base_model (after the built-in model changes: --repack expressive)",
    )
    parser.add_argument("--output", required=True, type=Path, help="the model zip to write")
    return parser


@reports_errors
def main(cmd: list[str] | None = None) -> dict:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    if args.c <= 0:
        raise CauseError(f"--c {args.c} must be > 0", fix="e.g. --c 0.1")
    if args.repack:
        if args.speech or args.data_dir:
            raise CauseError("--repack takes no --speech/--data_dir", fix="drop one of them")
        out = repack_expressive(
            resolve_model(args.repack), resolve_model(args.base_model), args.output
        )
        print(json.dumps({"output": str(out), "repacked": str(args.repack)}))
        return {"output": str(out)}
    sources = speech_sources(args.speech, args.data_dir)
    items = [it for source in sources.values() for it in source]
    info = {"sources": sorted(sources)}
    if args.licence:
        info["licence"] = args.licence
    report = train_expressive(items, args.output, args.base_model, c=args.c, info=info)
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
