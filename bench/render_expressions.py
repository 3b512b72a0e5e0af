"""Expressions contact sheet: strong emotional AU combinations rendered on photos (one JSON line).

Each photo is rendered by the warp renderer (absolute targets: AUs not named are 0, so the photo's
own expression is relaxed) with every AU of an emotion's prototype at each ``--intensity`` (default
3 and 4), and the face crops go into one PNG: a row per photo and intensity, a column per expression
(neutral first). The built-in tracker reads each rendered face back; the JSON line gives, per photo,
intensity and emotion, the mean read-back of the driven AUs the tracker can read (AU06 and AU09 it
cannot).

Prototypes (FACS/EMFACS, the AUs each emotion shows): happy AU06+AU12; sad AU01+AU04+AU15; angry
AU04+AU05+AU07+AU23; fearful AU01+AU02+AU04+AU05+AU20+AU26; disgusted AU09+AU10+AU15; surprised
AU01+AU02+AU05+AU26 (with AU25, the lips parting as the jaw drops).

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
from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.extract.mediapipe import MediaPipeAUExtractor
from espnet_cause.render.photo import read_face_photo
from espnet_cause.render.warp import WarpRenderer

#: Emotion -> the AUs its prototype shows (all driven at the same intensity).
EXPRESSIONS = {
    "neutral": (),
    "happy": ("AU06", "AU12"),
    "sad": ("AU01", "AU04", "AU15"),
    "angry": ("AU04", "AU05", "AU07", "AU23"),
    "fearful": ("AU01", "AU02", "AU04", "AU05", "AU20", "AU26"),
    "disgusted": ("AU09", "AU10", "AU15"),
    "surprised": ("AU01", "AU02", "AU05", "AU25", "AU26"),
}
#: AUs the MediaPipe blendshapes cannot show (constant 0), left out of the read-back mean.
UNREADABLE = ("AU06", "AU09")


def expression_rows(intensity: float) -> np.ndarray:
    """(len(EXPRESSIONS), 17) AU targets, one row per expression."""
    rows = np.zeros((len(EXPRESSIONS), NUM_AUS), np.float32)
    for k, aus in enumerate(EXPRESSIONS.values()):
        for name in aus:
            rows[k, au_index(name)] = intensity
    return rows


def face_crop(frame: np.ndarray, box: tuple[int, int, int, int], cell: int) -> np.ndarray:
    """The square ``box`` (x0, y0, side) of a frame, resized to ``cell`` pixels."""
    x0, y0, side = box
    height, width = frame.shape[:2]
    pad = side  # room for boxes that reach over the border
    padded = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    crop = padded[y0 + pad : y0 + pad + side, x0 + pad : x0 + pad + side]
    return cv2.resize(crop, (cell, cell), interpolation=cv2.INTER_AREA)


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
    label = 22
    header = np.full((label, args.cell * len(names), 3), 255, np.uint8)
    for k, name in enumerate(names):
        cv2.putText(header, name, (k * args.cell + 6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 0, 1)
    rows, read_back = [header], {}
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
                tiles, scores = [], {}
                for name, frame in zip(names, renderer.frames(targets), strict=True):
                    tiles.append(face_crop(frame, box, args.cell))
                    driven = [au_index(a) for a in EXPRESSIONS[name] if a not in UNREADABLE]
                    if driven:
                        read = tracker.read_photo(frame, source=f"{path} ({name})")
                        scores[name] = round(float(np.mean(read[driven])), 2)
                rows.append(np.concatenate(tiles, axis=1))
                read_back[f"{Path(path).name} at {intensity:g}"] = scores
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
        "expressions": {name: list(aus) for name, aus in EXPRESSIONS.items()},
        "mean_read_of_driven_aus": read_back,
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()
