"""Expressions contact sheet: strong emotional AU combinations rendered on photos (one JSON line).

Each photo is rendered by the warp renderer (absolute targets: AUs not named are 0, so the photo's
own expression is relaxed) with each emotion's prototype at each ``--intensity`` (default 3 and 4), and the face crops go into one PNG: a row per photo and intensity, a column per expression
(neutral first). The built-in tracker reads each rendered face back; the JSON line gives, per photo,
intensity and emotion, the mean over the driven AUs the tracker can read (AU06 and AU09 it cannot)
of the read-back over the target, and which emotion the read-back change from the neutral frame
reads as (:func:`espnet_cause.emotion.classify_change`, the expression check's classifier; AU06 and
AU09 read as 0).

The expressions are the project's emotion table (:data:`espnet_cause.emotion.PROTOTYPES`, the AU
change from neutral each emotion shows), scaled so that its strongest AU is at the intensity (the
others keep their share of it).

Usage: python bench/render_expressions.py --output docs/render_expressions.png
       [--image FILE ...] [--intensity 3 4] [--cell 200]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from espnet_cause import assets
from espnet_cause.au import AU_NAMES, NUM_AUS, au_index
from espnet_cause.emotion import PROTOTYPES, SCORED_EMOTIONS, classify_change
from espnet_cause.extract.mediapipe import MediaPipeAUExtractor
from espnet_cause.render.contact_sheet import square_crop
from espnet_cause.render.photo import read_face_photo
from espnet_cause.render.warp import WarpRenderer

#: The columns: neutral, then the emotions the expression check scores.
EXPRESSIONS = ("neutral", *SCORED_EMOTIONS)
#: AUs the MediaPipe blendshapes cannot show (constant 0), left out of the read-back mean.
UNREADABLE = ("AU06", "AU09")


def expression_rows(intensity: float) -> np.ndarray:
    """(len(EXPRESSIONS), 17) AU targets, one row per expression: its prototype with the strongest
    AU at ``intensity``."""
    rows = np.zeros((len(EXPRESSIONS), NUM_AUS), np.float32)
    for k, name in enumerate(EXPRESSIONS):
        weights = PROTOTYPES[name]
        if weights:
            top = max(weights.values())
            for au, weight in weights.items():
                rows[k, au_index(au)] = intensity * weight / top
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, help="The contact sheet (.png).")
    parser.add_argument("--image", nargs="+", default=None, help="Default: the demo photo.")
    parser.add_argument(
        "--intensity", type=float, nargs="+", default=[3.0, 4.0], help="Each driven AU (0-5)."
    )
    parser.add_argument("--cell", type=int, default=200, help="Side of one face crop (pixels).")
    parser.add_argument("--face_landmarker_path", default=None, help="Default: packaged model.")
    args = parser.parse_args()

    images = args.image or [str(assets.demo_image())]
    names = list(EXPRESSIONS)
    unreadable = [au_index(a) for a in UNREADABLE]
    label = 22
    header = np.full((label, args.cell * len(names), 3), 255, np.uint8)
    for k, name in enumerate(names):
        cv2.putText(header, name, (k * args.cell + 6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 0, 1)
    rows, read_back, reads_as = [header], {}, {}
    with MediaPipeAUExtractor(args.face_landmarker_path, threaded=False) as tracker:
        for path in images:
            photo = read_face_photo(path, face_landmarker_path=args.face_landmarker_path)
            renderer = WarpRenderer(args.face_landmarker_path)
            renderer.prepare_photo(photo)
            x0, y0, x1, y1 = photo.face.bbox
            side = int(1.35 * max(x1 - x0, y1 - y0))
            box = (int((x0 + x1 - side) / 2), int((y0 + y1 - side) / 2), side)
            for intensity in args.intensity:
                targets = expression_rows(intensity)
                tiles, scores, reads = [], {}, []
                for name, target, frame in zip(
                    names, targets, renderer.frames(targets), strict=True
                ):
                    tiles.append(square_crop(frame, box, args.cell))
                    reads.append(tracker.read_photo(frame, source=f"{path} ({name})"))
                    driven = [k for k in np.flatnonzero(target) if k not in unreadable]
                    if driven:
                        scores[name] = round(float(np.mean(reads[-1][driven] / target[driven])), 2)
                rows.append(np.concatenate(tiles, axis=1))
                key = f"{Path(path).name} at {intensity:g}"
                read_back[key] = scores
                # the emotion the read-back change from the neutral frame is nearest to
                similarity = classify_change(np.array(reads[1:]) - reads[0])
                reads_as[key] = {
                    name: SCORED_EMOTIONS[int(np.argmax(row))]
                    for name, row in zip(names[1:], similarity, strict=True)
                }
            renderer.close()
    sheet = np.concatenate(rows, axis=0)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(output), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
        raise SystemExit(f"cannot write {output}")
    line = {
        "bench": "render_expressions",
        "output": str(output),
        "intensities": args.intensity,
        "images": [Path(p).name for p in images],
        "expressions": {
            name: {AU_NAMES[k]: round(float(v), 2) for k, v in enumerate(row) if v}
            for name, row in zip(EXPRESSIONS, expression_rows(1.0), strict=True)
        },
        "read_over_target": read_back,
        "reads_as": reads_as,
        "recognised": sum(name == read for row in reads_as.values() for name, read in row.items()),
        "of": sum(len(row) for row in reads_as.values()),
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()
