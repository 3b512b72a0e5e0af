"""Check a CAUSE model on real talking clips: its AUs vs the clip's video, next to loudness.

Examples:
    # one clip, the built-in model
    python -m espnet_cause.bin.check_lipsync --video talk.mp4 --output_dir exp/lipsync
    # a set of clips ('<name> <path>' lines), a trained model, uLipSync as a peer
    python -m espnet_cause.bin.check_lipsync --video_scp data/test/video.scp \\
        --model exp/cause_cnn/model.zip --output_dir exp/cause_cnn/lipsync_test --peer ulipsync

For each clip: AUs read off its video with the built-in MediaPipe extractor (the reference), AUs
predicted from its soundtrack by the model, and the soundtrack's loudness envelope as a baseline;
Pearson r per AU and for the mouth (AU25 + AU26), each at its best lag within +-80 ms (see
:mod:`espnet_cause.evaluation.lipsync`), the number of clips the model beats loudness on, and the
scale check (predicted vs tracked standard deviation of AU25 and AU26). Writes
``OUTPUT_DIR/lipsync.json``, ``lipsync.md`` and
``plots/<clip>.png``. A clip that cannot be used (no audio, no face, unreadable) is skipped and
listed with its reason in the JSON and the Markdown; the command fails only if no clip is left.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from espnet_cause.cli import MODEL_HELP, make_parser, reports_errors, setup_logging
from espnet_cause.errors import CauseError
from espnet_cause.evaluation.lipsync import check_clip, markdown_report, plot_clip, summarize
from espnet_cause.evaluation.ulipsync import ulipsync_mouth
from espnet_cause.extract.mediapipe import MediaPipeAUExtractor
from espnet_cause.inference.speech2au import Speech2AU
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.datadir import read_kaldi_map

logger = logging.getLogger(__name__)

#: Peers ``--peer`` can add: name -> ``fn(speech, fs, times) -> (T,)`` mouth opening.
PEERS = {"ulipsync": ulipsync_mouth}


def get_parser() -> argparse.ArgumentParser:
    parser = make_parser(__doc__.split("\n\n")[0], face_landmarker=True)
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--video", help="one talking clip with sound (any format FFmpeg reads)")
    src.add_argument("--video_scp", help="'<name> <path>' lines: a set of clips, averaged")
    parser.add_argument("--model", default=None, help=MODEL_HELP)
    parser.add_argument("--output_dir", required=True, help="where the reports go")
    parser.add_argument(
        "--max_lag_ms", type=float, default=80.0, help="best lag searched within +-this"
    )
    parser.add_argument("--no_plots", action="store_true", help="skip the per-clip PNGs")
    parser.add_argument(
        "--peer",
        action="append",
        choices=sorted(PEERS),
        default=[],
        help="also score this system's mouth opening (ulipsync: needs pylipsync)",
    )
    return parser


def _clips(args) -> list[tuple[str, str]]:
    if args.video:
        if not Path(args.video).is_file():
            raise CauseError("video not found", path=args.video, fix="check the path")
        return [(Path(args.video).stem, args.video)]

    clips = list(read_kaldi_map(args.video_scp).items())
    if not clips:
        raise CauseError("no clips listed", path=args.video_scp, fix="add '<name> <path>' lines")
    return clips


@reports_errors
def main(cmd: list[str] | None = None) -> dict:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    if not args.max_lag_ms >= 0:
        raise CauseError(f"--max_lag_ms must be >= 0, got {args.max_lag_ms}")

    clips = _clips(args)
    peers = {name: PEERS[name] for name in args.peer}
    s2au = Speech2AU(args.model)  # a path, a built-in name, or None: the default built-in
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    results, skipped = [], {}
    with MediaPipeAUExtractor(args.face_landmarker_path) as extractor:
        for name, path in clips:
            try:
                scores, tracks = check_clip(
                    name, path, s2au, extractor, args.max_lag_ms / 1000.0, peers
                )
            except CauseError as e:
                logger.warning("skipping %s: %s", name, e)
                skipped[name] = str(e)
                continue
            results.append(scores)
            if not args.no_plots:
                plot_clip(out / "plots" / f"{name}.png", scores, tracks)
            logger.info(
                "%s: mouth r model %.3f, loudness %.3f",
                name, scores.mouth["model"].r, scores.mouth["loudness"].r,
            )  # fmt: skip
    if not results:
        raise CauseError(
            f"none of the {len(clips)} clips could be scored", fix="see the warnings above"
        )
    summary = summarize(results)
    report = {
        "model": s2au.source,
        "max_lag_ms": args.max_lag_ms,
        "summary": summary,
        "clips": {c.name: c.to_json() for c in results},
        "skipped": skipped,
    }
    md = markdown_report(results, summary, Path(s2au.source).name, args.max_lag_ms / 1000.0)
    if skipped:
        md += "\nSkipped:\n\n" + "".join(f"- {k}: {v}\n" for k, v in skipped.items())
    with atomic_write(out / "lipsync.json") as tmp:
        Path(tmp).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    with atomic_write(out / "lipsync.md") as tmp:
        Path(tmp).write_text(md, encoding="utf-8")
    print(md, end="")
    return report


if __name__ == "__main__":
    main()
