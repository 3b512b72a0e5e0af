"""Stream speech to Unreal as a Live Link Face source: ARKit curves and head motion over UDP.

Examples:
    # Unreal: Window > Live Link > Source > Live Link Face (it listens on port 11111)
    python -m espnet_cause.bin.livelink --wav speech.wav --host 192.168.1.20
    python -m espnet_cause.bin.livelink --wav speech.wav --host 127.0.0.1 --port 11111 \\
        --subject Narrator --play

The take (52 ARKit blendshapes, head and eye rotations; :mod:`espnet_cause.avatar.animation`)
is computed first, then sent as one Live Link Face packet per frame at 60 frames per second in
real time (:mod:`espnet_cause.avatar.livelink_udp`); ``--play`` plays the speech on this machine
at the same moment.
"""

from __future__ import annotations

import argparse
import logging

from espnet_cause.avatar.face import BLINK_RATE
from espnet_cause.avatar.livelink_udp import DEFAULT_FPS, DEFAULT_PORT, DEFAULT_SUBJECT, send_wav
from espnet_cause.cli import add_avatar_motion_args, make_parser, reports_errors, setup_logging
from espnet_cause.errors import CauseError

logger = logging.getLogger(__name__)


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--wav", required=True, help="speech (any rate, mono or multi-channel)")
    parser.add_argument("--host", default="127.0.0.1", help="machine running Unreal")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="its Live Link Face port")
    parser.add_argument("--subject", default=DEFAULT_SUBJECT, help="subject name in Unreal")
    parser.add_argument("--play", action="store_true", help="also play the speech here")
    parser.add_argument("--fps", type=int, default=DEFAULT_FPS, help="packets per second")
    parser.add_argument("--model", default=None, help="model.zip (default: the built-in model)")
    add_avatar_motion_args(parser, blink_rate=BLINK_RATE)
    return parser


@reports_errors
def main(cmd: list[str] | None = None) -> dict:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    if not 0 < args.port < 65536:
        raise CauseError(f"--port must be 1..65535, got {args.port}")
    if not 1 <= args.fps <= 240:
        raise CauseError(f"--fps must be 1..240, got {args.fps}")
    motion = {"head_motion": args.head_motion, "blink_rate": args.blink_rate, "seed": args.seed}
    sent = send_wav(
        args.wav, args.host, args.port, subject=args.subject, model=args.model, fps=args.fps,
        play=args.play, motion=motion,
    )  # fmt: skip
    logger.info(
        "%s -> %s:%d subject %r: %d frames in %.2f s (latest frame %.1f ms late)",
        args.wav, args.host, args.port, args.subject, sent["frames"], sent["seconds"],
        sent["max_late_s"] * 1000,
    )  # fmt: skip
    return sent


if __name__ == "__main__":
    main()
