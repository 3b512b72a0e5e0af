"""The demo photo with slightly parted lips, opened further: mouth crops to look at.

A photo whose "closed" mouth is slightly parted (its lips apart by more than
``warp_motion.OPEN_MOUTH_GAP`` but less than ``mouth_paint.PARTED_GAP``) is made from the demo
photo: the renderer parts its lips by ``--part`` units of AU25 (as an offset) and the thin gap
between the detected inner lips is filled dark, as a real parted mouth shows it. That photo is
then opened by each AU group at each value (every other AU 0, AUs as offsets) and a row of mouth
crops per group is written (the photo itself first). Prints one JSON line (the sheet, the photo's
lip gap in eye distances, the groups, the values).

Usage: python bench/render_parted.py --output /tmp/parted.png [--part 0.5]
       [--aus AU25 AU25+AU26] [--values 1 2 3 4] [--cell 160]
"""

from __future__ import annotations

import argparse
import json

import cv2
import numpy as np
from render_sweep import labelled_row, mouth_box, sweep_rows, write_sheet

from espnet_cause import assets
from espnet_cause.au import NUM_AUS, au_index
from espnet_cause.face.landmarker import FaceLandmarker
from espnet_cause.io.image import load_image
from espnet_cause.render.contact_sheet import square_crop
from espnet_cause.render.warp import WarpRenderer
from espnet_cause.render.warp_motion import INNER_LOWER_LIP, INNER_UPPER_LIP, lip_gap

#: The colour the parted lips' gap is filled with (RGB: a dark red-brown, a mouth's shadow).
GAP_RGB = (40, 18, 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, help="The contact sheet (.png).")
    parser.add_argument("--part", type=float, default=0.5, help="AU25 that parts the lips.")
    parser.add_argument("--aus", nargs="+", default=["AU25", "AU25+AU26"], help="AU groups.")
    parser.add_argument("--values", type=float, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--cell", type=int, default=160, help="Side of one crop (pixels).")
    parser.add_argument("--face_landmarker_path", default=None, help="Default: packaged model.")
    args = parser.parse_args()

    renderer = WarpRenderer(args.face_landmarker_path, absolute=False)
    row = np.zeros((1, NUM_AUS), np.float32)
    row[0, au_index("AU25")] = args.part
    photo = next(renderer.render(load_image(assets.demo_image()), row))
    with FaceLandmarker(args.face_landmarker_path) as landmarker:
        face = landmarker.detect(photo)[0]
    inner = face.points[list(INNER_UPPER_LIP + INNER_LOWER_LIP[::-1])]
    cv2.fillPoly(photo, [np.round(inner).astype(np.int32)], GAP_RGB, cv2.LINE_AA)
    renderer.prepare(photo)
    box = mouth_box(face)
    rows = []
    for group in args.aus:
        frames = renderer.frames(sweep_rows(np.zeros(NUM_AUS), group, args.values, "zero"))
        tiles = [square_crop(f, box, args.cell, fill=128) for f in [photo, *frames]]
        rows.append(labelled_row(tiles, group))
    renderer.close()
    output = write_sheet(rows, args.output)
    line = {
        "bench": "render_parted",
        "output": str(output),
        "gap": round(float(lip_gap(face).max()), 4),
        "groups": args.aus,
        "values": args.values,
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()
