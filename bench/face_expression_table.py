"""What real emotional faces show through the built-in tracker: per clip, the mean AUs minus the
speaker's baseline (their neutral clips' mean, or without one, the mean of all their clips).

The magnitudes of :data:`espnet_cause.emotion.PROTOTYPES` were checked against this table.
Prints a Markdown table (the prototype AUs of each clip's emotion marked ``*``) and one JSON line.

Usage: python bench/face_expression_table.py --face_dir DIR [--face_dir DIR ...]
       [--face_landmarker_path FILE]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from espnet_cause.au import AU_NAMES
from espnet_cause.emotion import PROTOTYPES
from espnet_cause.evaluation.expression import list_face_dir, neutral_means


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--face_dir", action="append", required=True)
    parser.add_argument("--face_landmarker_path", default=None)
    args = parser.parse_args()
    from espnet_cause.extract.mediapipe import MediaPipeAUExtractor

    items = [it for d in args.face_dir for it in list_face_dir(d)]
    means = {}
    with MediaPipeAUExtractor(args.face_landmarker_path) as tracker:
        for it in items:
            track, _ = tracker(it.path).resample(25.0)
            ok = np.isfinite(track.intensities).all(axis=1)
            means[it.name] = track.intensities[ok].mean(axis=0)
    base = neutral_means(means, items)
    print("| clip | emotion | " + " | ".join(AU_NAMES) + " |")
    print("| --- " * (len(AU_NAMES) + 2) + "|")
    rows = {}
    for it in items:
        change = means[it.name] - base[it.speaker]
        rows[it.name] = {"emotion": it.emotion, "change": np.round(change, 3).tolist()}
        cells = [
            f"{v:+.2f}{'*' if name in PROTOTYPES[it.emotion] else ''}"
            for name, v in zip(AU_NAMES, change)
        ]
        print(f"| {it.name} | {it.emotion} | " + " | ".join(cells) + " |")
    print(json.dumps({"baseline": "speaker neutral, else speaker mean", "clips": rows}))


if __name__ == "__main__":
    main()
