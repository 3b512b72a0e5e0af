"""Leave out of FastSpeech2 training the utterances whose pitch track has no voiced frame.

ESPnet's Dio pitch extractor returns an all-zero F0 for a voice it cannot track (one of the
mini corpus's eSpeak variants is such a voice). Trained on those zeros next to real log-F0
values, the pitch predictor learns a second mode at 0 and may fall into it at synthesis. This
reads what ``--collect_stats true --write_collected_feats true`` wrote into ``--stats_dir`` and
writes, for every split there, ``<split>/voiced/{text_shape,speech_shape}`` with only the
utterances that have a voiced token (ESPnet's batch samplers take their keys from the shape
files, so the other data files stay as they are), ``train/voiced/pitch_stats.npz`` (global MVN
statistics over the voiced tokens, for ``--pitch_normalize_conf stats_file=...``) and
``<split>/voiced/report.tsv`` (why an utterance was left out).

Example::

    python -m espnet_cause.bin.tts_voiced_subset --stats_dir exp/tts_stats
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from espnet_cause.cli import make_parser, reports_errors, setup_logging
from espnet_cause.errors import CauseError
from espnet_cause.io.atomic import atomic_write
from espnet_cause.io.datadir import read_kaldi_map
from espnet_cause.jobs import batch

logger = logging.getLogger(__name__)

SHAPE_FILES = ("text_shape", "speech_shape")


def get_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    parser = make_parser("FastSpeech2 training subset with a voiced pitch track, and its stats")
    parser.add_argument("--stats_dir", required=True, help="the --collect_stats output_dir")
    parser.add_argument("--stats_split", default="train", help="split the statistics come from")
    return parser


@reports_errors
def main(cmd=None) -> None:
    """Run it; see the module docstring."""
    args = get_parser().parse_args(cmd)
    setup_logging(args.verbose)

    stats_dir = Path(args.stats_dir)
    splits = sorted(p.parent.parent.name for p in stats_dir.glob("*/collect_feats/pitch.scp"))
    if args.stats_split not in splits:
        raise CauseError(
            f"no {args.stats_split}/collect_feats/pitch.scp",
            path=stats_dir,
            fix="run collect_stats with --write_collected_feats true and a pitch extractor",
        )
    for split in splits:
        pitch_scp = stats_dir / split / "collect_feats" / "pitch.scp"
        records, voiced_values = {}, []
        for key, path in read_kaldi_map(pitch_scp, check_sorted=False).items():
            pitch = np.load(path).reshape(-1)
            if np.any(pitch > 0):
                records[key] = {"key": key, "status": "ok", "reason": ""}
                voiced_values.append(pitch[pitch > 0])
            else:
                records[key] = {"key": key, "status": "error", "reason": "no voiced token"}
        out = stats_dir / split / "voiced"
        keep = set(batch.finish(out / "report.tsv", sorted(records), records, what="utterance"))
        for name in SHAPE_FILES:
            lines = (stats_dir / split / name).read_text(encoding="utf-8").splitlines()
            with atomic_write(out / name) as tmp:
                Path(tmp).write_text(
                    "".join(ln + "\n" for ln in lines if ln.split(maxsplit=1)[0] in keep),
                    encoding="utf-8",
                )
        if split == args.stats_split:
            values = np.concatenate(voiced_values).astype(np.float64)
            with atomic_write(out / "pitch_stats.npz") as tmp:
                np.savez(
                    tmp,
                    count=np.array(len(values)),
                    sum=values.sum(keepdims=True),
                    sum_square=(values**2).sum(keepdims=True),
                )
        logger.info("%s: %d of %d utterances voiced -> %s", split, len(keep), len(records), out)


if __name__ == "__main__":
    main()
