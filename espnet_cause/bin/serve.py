#!/usr/bin/env python3
"""Serve live AU streams, batch inference, rendering and the web page over HTTP/WebSocket.

Examples:
    python -m espnet_cause.bin.serve            # builtin_live (the default) + expressive, both live
    python -m espnet_cause.bin.serve --model expressive   # expressive only (live: its live variant)
    python -m espnet_cause.bin.serve --model exp/cause_cnn_causal/model.zip --model builtin
    python -m espnet_cause.bin.serve --model model.zip --image face.jpg --port 8080

Then open http://127.0.0.1:8000/ (the page), or stream to ws://127.0.0.1:8000/stream.
"""

from __future__ import annotations

import argparse
import logging

from espnet_cause import assets
from espnet_cause.avatar.livelink_udp import DEFAULT_SUBJECT, parse_target
from espnet_cause.cli import MODEL_HELP, make_parser, reports_errors, setup_logging
from espnet_cause.errors import CauseError
from espnet_cause.face.model_file import resolve_face_landmarker
from espnet_cause.inference.live_expression import expression_executor
from espnet_cause.inference.speech2au import Speech2AU
from espnet_cause.serve import limits
from espnet_cause.serve.models import DEFAULT_MODELS, load_models

logger = logging.getLogger(__name__)


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "Live AU service: WebSocket /stream, POST /infer and /render, and a web page.",
        face_landmarker=True,
    )
    parser.add_argument(
        "--model",
        action="append",
        default=None,
        help="A CAUSE model the page and the API offer (repeat for a choice; the first is the "
        "default of POST /infer and /render, ?model=NAME chooses another; a stream chooses with "
        '{"model": NAME}, default the first that streams, else builtin_live). A causal model '
        "streams itself; expressive streams as its live variant (builtin_live's causal mouth, "
        "the emotion recogniser over the last 2 s of the stream, speaker statistics accumulated "
        "as the stream goes; docs/live_expression.md). Default: builtin_live (causal, 80 ms "
        "look-ahead, Apache-2.0) and expressive (CC BY-NC-SA 4.0, trained on RAVDESS: "
        "non-commercial use only). Each: " + MODEL_HELP,
    )
    parser.add_argument(
        "--image",
        default=None,
        help="Default face photo of the page and of streams with render (default: the packaged "
        "demo photo).",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="Address to bind; another than loopback exposes the service.",
    )
    parser.add_argument("--port", type=int, default=8000, help="TCP port.")
    parser.add_argument(
        "--max_upload_mb",
        type=float,
        default=limits.DEFAULT_MAX_UPLOAD_BYTES / 1e6,
        help="Largest request body in MB (HTTP 413 past it).",
    )
    parser.add_argument(
        "--max_audio_seconds",
        type=float,
        default=limits.DEFAULT_MAX_AUDIO_SECONDS,
        help="Longest audio of an upload or a stream.",
    )
    parser.add_argument(
        "--max_streams", type=int, default=limits.DEFAULT_MAX_STREAMS, help="Concurrent streams."
    )
    parser.add_argument(
        "--queue_size",
        type=int,
        default=limits.DEFAULT_QUEUE_SIZE,
        help="Outgoing messages buffered per stream before the server stops reading it.",
    )
    parser.add_argument(
        "--render_jobs", type=int, default=limits.DEFAULT_RENDER_JOBS, help="Concurrent /render."
    )
    parser.add_argument(
        "--min_audio_rate",
        type=float,
        default=limits.DEFAULT_MIN_AUDIO_RATE,
        help="Close a stream that sends less than this many seconds of audio per second of "
        "connection (after --stream_grace_seconds); 0 turns the check off.",
    )
    parser.add_argument(
        "--stream_grace_seconds",
        type=float,
        default=limits.DEFAULT_STREAM_GRACE_SECONDS,
        help="Seconds a stream runs before its data rate is checked.",
    )
    parser.add_argument(
        "--livelink",
        default=None,
        help="HOST:PORT of a Live Link Face target (Unreal): streams that ask for it (the "
        "page's 'forward to Live Link') are sent there as Live Link Face UDP packets.",
    )
    parser.add_argument(
        "--livelink_subject", default=DEFAULT_SUBJECT, help="Subject name in Unreal."
    )
    parser.add_argument(
        "--head_motion",
        type=float,
        default=1.0,
        help="Live head motion and gaze of the streams (drift, saccades): 1 natural, 0 still.",
    )
    return parser


@reports_errors
def main(cmd: list[str] | None = None) -> None:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    for name in ("max_upload_mb", "max_audio_seconds", "max_streams", "queue_size", "render_jobs"):
        if not getattr(args, name) > 0:
            raise CauseError(f"--{name} must be positive, got {getattr(args, name)}")
    if not (args.min_audio_rate >= 0 and args.stream_grace_seconds >= 0):
        raise CauseError(
            f"--min_audio_rate {args.min_audio_rate:g} and --stream_grace_seconds "
            f"{args.stream_grace_seconds:g} must not be negative"
        )
    if not 0 < args.port < 65536:
        raise CauseError(f"--port must be 1..65535, got {args.port}")
    if args.livelink is not None:
        parse_target(args.livelink)  # a malformed target fails before the model loads

    # the live variants' recogniser (Praat holds the GIL) runs in a worker process
    executor = expression_executor()
    try:
        models, live = load_models(args.model or list(DEFAULT_MODELS), Speech2AU, executor)
        run_app(args, models, live)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


def run_app(args: argparse.Namespace, models: dict, live) -> None:
    """Serve ``models`` (``live``: the default live one) until interrupted."""
    import uvicorn

    # starlette (the serve extra), loaded when serving
    from espnet_cause.serve.app import create_app

    app = create_app(
        speech2au=live.stream_model,
        models=models,
        face_landmarker_path=resolve_face_landmarker(args.face_landmarker_path),
        image=args.image or assets.demo_image(),
        max_upload_bytes=int(args.max_upload_mb * 1e6),
        max_audio_seconds=args.max_audio_seconds,
        max_streams=args.max_streams,
        queue_size=args.queue_size,
        render_jobs=args.render_jobs,
        min_audio_rate=args.min_audio_rate,
        stream_grace_seconds=args.stream_grace_seconds,
        livelink=args.livelink,
        livelink_subject=args.livelink_subject,
        head_motion=args.head_motion,
    )
    for m in models.values():
        print(f"model {m.name}: licence {m.licence}; {m.note or 'live and uploads'}")
    print(f"live stream default: {live.name} (licence {live.licence})")
    print(f"espnet-cause live: http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level={0: "warning", 1: "info"}.get(args.verbose, "debug"),
        # the app answers messages over its own limit with an error; far larger ones are cut here
        ws_max_size=4 * limits.DEFAULT_MAX_MESSAGE_BYTES,
    )


if __name__ == "__main__":
    main()
