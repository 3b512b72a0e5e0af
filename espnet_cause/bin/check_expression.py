"""Check that a CAUSE model's face shows the voice's emotion (prototype accuracy, face change).

Examples::

    # RAVDESS held-out actors and CREMA-D actor 1002, the expressive model
    python -m espnet_cause.bin.check_expression --model expressive --output_dir exp/expr_check \\
        --speech ravdess:/data/ravdess:Actor_17,Actor_18,Actor_19,Actor_20 \\
        --speech crema_d:/data/cremad_1002
    # emotional face videos (the emotion in the file name: s1_an_1.avi, M030_sad_3_001.mp4)
    python -m espnet_cause.bin.check_expression --output_dir exp/expr_check_default \\
        --face_dir /data/enterface05_s1 --face_dir /data/mead

Speech: each utterance's mean AUs minus its speaker's neutral mean, read as the closest of six
emotion prototypes (chance 1/6); faces: the predicted change from the speaker's neutral (or mean)
clip against the change the face's own video shows (Pearson r over AUs, magnitude ratio). See
espnet_cause/evaluation/expression.py. Writes scores.md, scores.json and confusion_<source>.png.
A model that hears emotion with its speaker's statistics (expressive) gets each speaker's
recordings in a source together (--speaker_stats speaker, the default) or hears each alone
(--speaker_stats utterance); --speaker_stats stream hears each speaker's utterances in a row as one
live stream (the live variant: builtin_live's causal mouth, the recogniser over the stream so far,
docs/live_expression.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from espnet_cause.cli import MODEL_HELP, make_parser, reports_errors, setup_logging
from espnet_cause.errors import CauseError
from espnet_cause.evaluation.expression import (
    STREAM_SEED,
    add_speech_arguments,
    check_expression,
    list_face_dir,
    speech_sources,
)
from espnet_cause.extract.mediapipe import MediaPipeAUExtractor
from espnet_cause.inference.live_expression import live_model
from espnet_cause.inference.speech2au import Speech2AU


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser(__doc__.split("\n\n")[0], face_landmarker=True)
    parser.add_argument(
        "--model",
        default=None,
        help=MODEL_HELP,
    )
    add_speech_arguments(parser)
    parser.add_argument(
        "--face_dir",
        action="append",
        default=[],
        type=Path,
        help="a folder of emotional face videos with sound, emotion in the file name (repeatable)",
    )
    parser.add_argument(
        "--speaker_stats",
        choices=("speaker", "utterance", "stream"),
        default="speaker",
        help="a model with an emotion recogniser (expressive): normalise each voice with the "
        "statistics of all of its speaker's utterances in the source (speaker), hear each "
        "utterance alone (utterance: the single-utterance fallback), or hear each speaker's "
        "utterances in a row as one live stream (stream: the live variant, builtin_live's mouth "
        "and running statistics; a causal model streams its own)",
    )
    parser.add_argument(
        "--stream_seed",
        type=int,
        default=STREAM_SEED,
        help="with --speaker_stats stream: the seed of the order each speaker's utterances are "
        "streamed in",
    )
    parser.add_argument("--output_dir", required=True, type=Path, help="where the reports go")
    return parser


def adapted(s2au: Speech2AU, audio):
    """``(wav, fs) -> AUs`` of ``s2au`` with the statistics of one speaker's ``audio``."""
    stats = s2au.speaker_stats(audio)
    return lambda wav, fs: s2au.to_aus(s2au(wav, fs, speaker=stats))


@reports_errors
def main(cmd: list[str] | None = None) -> dict:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    if not (args.speech or args.data_dir or args.face_dir):
        raise CauseError("nothing to check", fix="pass --speech, --data_dir and/or --face_dir")

    speech = speech_sources(args.speech, args.data_dir)
    faces = {d.name: list_face_dir(d) for d in args.face_dir}
    s2au = Speech2AU(args.model)
    predict = lambda wav, fs: s2au.to_aus(s2au(wav, fs))  # noqa: E731
    run = dict(speech=speech, faces=faces, model=args.model or "builtin")
    if s2au.emotion is not None and args.speaker_stats == "speaker":
        run["for_speaker"] = lambda audio: adapted(s2au, audio)
    if args.speaker_stats == "stream":
        run["open_stream"] = live_model(s2au, Speech2AU).streamer
        run["stream_seed"] = args.stream_seed
    if not faces:
        return check_expression(predict, s2au.fs, s2au.au_fps, args.output_dir, **run)
    with MediaPipeAUExtractor(args.face_landmarker_path) as tracker:
        return check_expression(
            predict, s2au.fs, s2au.au_fps, args.output_dir, tracker=tracker, **run
        )


if __name__ == "__main__":
    main()
