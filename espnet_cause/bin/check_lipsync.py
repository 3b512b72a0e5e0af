"""Check a CAUSE model on real talking clips: its AUs vs the clip's video, next to loudness.

Examples:
    # one clip, the built-in model
    python -m espnet_cause.bin.check_lipsync --video talk.mp4 --output_dir exp/lipsync
    # a set of clips ('<name> <path>' lines), a trained model
    python -m espnet_cause.bin.check_lipsync --video_scp data/test/video.scp \\
        --model exp/cause_cnn/model.zip --output_dir exp/cause_cnn/lipsync_test

For each clip: AUs read off its video with the built-in MediaPipe extractor (the reference), AUs
predicted from its soundtrack by the model, and the soundtrack's loudness envelope as a baseline;
Pearson r per AU and for the mouth (AU25 + AU26), each at its best lag within +-80 ms (see
:mod:`espnet_cause.lipsync`). Writes ``OUTPUT_DIR/lipsync.json``, ``lipsync.md`` and
``plots/<clip>.png``. A clip that cannot be used (no audio, no face, unreadable) is skipped and
listed with its reason in the JSON and the Markdown; the command fails only if no clip is left.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np

from espnet_cause.cli import reports_errors, setup_logging
from espnet_cause.errors import CauseError

logger = logging.getLogger(__name__)


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--video", help="one talking clip with sound (any format FFmpeg reads)")
    src.add_argument("--video_scp", help="'<name> <path>' lines: a set of clips, averaged")
    parser.add_argument(
        "--model", default=None, help="packed model.zip (default: the built-in model)"
    )
    parser.add_argument("--output_dir", required=True, help="where the reports go")
    parser.add_argument(
        "--face_landmarker_path", default=None, help="face_landmarker.task (default: built-in)"
    )
    parser.add_argument(
        "--max_lag_ms", type=float, default=80.0, help="best lag searched within +-this"
    )
    parser.add_argument("--no_plots", action="store_true", help="skip the per-clip PNGs")
    parser.add_argument("--verbose", type=int, default=1, help="0 warnings, 1 info, 2 debug")
    return parser


def _clips(args) -> list[tuple[str, str]]:
    if args.video:
        if not Path(args.video).is_file():
            raise CauseError("video not found", path=args.video, fix="check the path")
        return [(Path(args.video).stem, args.video)]
    from espnet_cause.io.datadir import read_kaldi_map

    clips = list(read_kaldi_map(args.video_scp).items())
    if not clips:
        raise CauseError("no clips listed", path=args.video_scp, fix="add '<name> <path>' lines")
    return clips


def check_clip(name: str, path: str, s2au, extractor, max_lag_s: float):
    """Score one clip; returns its :class:`~espnet_cause.lipsync.ClipScores` and plot data."""
    from espnet_cause.corpora.mini_au import loudness_track
    from espnet_cause.io.video import read_audio_track
    from espnet_cause.lipsync import score_clip

    speech = read_audio_track(path, sample_rate=s2au.fs)
    model_aus = s2au(speech, s2au.fs, name=path)
    fps = s2au.au_fps
    track = extractor(path)
    video_aus, _ = track.resample(fps)
    ref = video_aus.intensities
    if not np.isfinite(ref).all(axis=1).any():
        raise CauseError("no frame with a face after resampling", path=path)
    times = np.arange(len(ref)) / fps
    loud = loudness_track(speech, s2au.fs, times)
    scores = score_clip(name, ref, model_aus, loud, fps, max_lag_s)
    return scores, (times, ref, model_aus[: len(ref)], loud, speech)


def _plot(path: Path, name: str, data, scores) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from espnet_cause.io.atomic import atomic_write
    from espnet_cause.lipsync import LOUDNESS, MODEL, mouth

    times, ref, hyp, loud, _ = data
    n = min(len(times), len(hyp))

    def z(x):
        x = np.asarray(x, np.float64)
        return (x - np.nanmean(x)) / max(float(np.nanstd(x)), 1e-9)

    fig, ax = plt.subplots(figsize=(9, 3))
    ax.plot(times, z(mouth(ref)), color="black", lw=1.5, label="video (MediaPipe)")
    m, lo = scores.mouth[MODEL], scores.mouth[LOUDNESS]
    ax.plot(times[:n], z(mouth(hyp))[:n], color="tab:red", lw=1.2, label=f"model r={m.r:.2f}")
    ax.plot(times, z(loud), color="tab:blue", lw=1.0, alpha=0.7, label=f"loudness r={lo.r:.2f}")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mouth AU25+AU26 (z)")
    ax.set_title(f"{name}: mouth opening, z-scored", fontsize=10)
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


@reports_errors
def main(cmd: list[str] | None = None) -> dict:
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)
    if not args.max_lag_ms >= 0:
        raise CauseError(f"--max_lag_ms must be >= 0, got {args.max_lag_ms}")
    from espnet_cause.extract.mediapipe import MediaPipeAUExtractor
    from espnet_cause.inference import Speech2AU
    from espnet_cause.io.atomic import atomic_write
    from espnet_cause.lipsync import markdown_report, summarize

    clips = _clips(args)
    s2au = Speech2AU(args.model) if args.model else Speech2AU.builtin()
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    results, skipped = [], {}
    with MediaPipeAUExtractor(args.face_landmarker_path) as extractor:
        for name, path in clips:
            try:
                scores, data = check_clip(name, path, s2au, extractor, args.max_lag_ms / 1000.0)
            except CauseError as e:
                logger.warning("skipping %s: %s", name, e)
                skipped[name] = str(e)
                continue
            results.append(scores)
            if not args.no_plots:
                _plot(out / "plots" / f"{name}.png", name, data, scores)
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
