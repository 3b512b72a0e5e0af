"""AU sweep contact sheet: each photo with one AU (or AU group) driven from 0 to 4, to look at.

A row per photo and AU group, a column per intensity (the photo itself first). The warp renderer
drives absolute targets with every AU not in the group kept at the photo's own intensity (as the
built-in tracker reads it), so a row shows only what that group does: AU25+AU26 at 0 closes an
open mouth, AU12 at 0 undoes a smile. The crops reach below the chin (the neck shows whether the
jaw drags it). Prints one JSON line (the sheet, the photos, the groups, the intensities).

``--others zero`` drives every other AU at 0 instead, as the closed loop's one-AU sweep does
(``bench/render_fidelity.py``: an open mouth is closed under each AU), and ``--region mouth``
crops 1.5 eye distances around the lips (to look at them at 3x and more), ``--region eyes`` 2
eye distances around the eyes and brows.

Usage: python bench/render_sweep.py --output /tmp/sweep.png --image A.png [B.png ...]
       [--aus AU25+AU26 AU12] [--values 0 1 2 3 4] [--cell 160] [--others photo|zero]
       [--region face|mouth|eyes]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from espnet_cause import assets
from espnet_cause.au import au_index
from espnet_cause.render.contact_sheet import square_crop
from espnet_cause.render.photo import read_face_photo
from espnet_cause.render.warp import WarpRenderer
from espnet_cause.render.warp_motion import OUTER_LOWER_LIP, OUTER_UPPER_LIP, face_frame

#: Default AU groups: the mouth states of issue 28 (open/close, smile).
DEFAULT_GROUPS = ("AU25+AU26", "AU12")


def sweep_rows(
    own: np.ndarray, group: str, values: list[float], others: str = "photo"
) -> np.ndarray:
    """(len(values), 17) targets: every AU of ``group`` at each value, the others at the photo's
    own intensity (``others="photo"``) or at 0 (``"zero"``, the closed loop's sweep)."""
    base = np.asarray(own, np.float32) if others == "photo" else np.zeros(len(own), np.float32)
    rows = np.repeat(base[None], len(values), axis=0)
    for name in group.split("+"):
        rows[:, au_index(name)] = values
    return rows


def crop_box(bbox: tuple[float, float, float, float]) -> tuple[int, int, int]:
    """(x0, y0, side): a square around the face box, reaching half a face below the chin."""
    x0, y0, x1, y1 = bbox
    side = int(1.4 * max(x1 - x0, y1 - y0))
    return int((x0 + x1 - side) / 2), int(y1 + 0.45 * (y1 - y0) - side), side


def mouth_box(face) -> tuple[int, int, int]:
    """(x0, y0, side): a square of 1.5 eye distances around the lips, a little below their
    centre (the chin's motion shows)."""
    unit = face_frame(face)[3]
    cx, cy = face.points[list(OUTER_UPPER_LIP + OUTER_LOWER_LIP)].mean(0)
    side = int(1.5 * unit)
    return int(cx - side / 2), int(cy + 0.1 * unit - side / 2), side


def eyes_box(face) -> tuple[int, int, int]:
    """(x0, y0, side): a square of 2 eye distances around the eyes, reaching up over the brows."""
    left, right = face.eye_centers()
    unit = face_frame(face)[3]
    cx, cy = (left + right) / 2
    side = int(2.0 * unit)
    return int(cx - side / 2), int(cy - 0.2 * unit - side / 2), side


def region_box(face, region: str) -> tuple[int, int, int]:
    """(x0, y0, side) of the square each tile shows: the face, the mouth or the eyes."""
    if region == "mouth":
        return mouth_box(face)
    if region == "eyes":
        return eyes_box(face)
    return crop_box(face.bbox)


def labelled_row(tiles: list[np.ndarray], text: str) -> np.ndarray:
    """(h, w * n, 3) the (h, w, 3) ``tiles`` side by side, ``text`` written at the top left."""
    row = np.concatenate(tiles, axis=1)
    cv2.putText(row, text, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.38, 0, 3)
    cv2.putText(row, text, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (255,) * 3)
    return row


def write_sheet(rows: list[np.ndarray], output: str) -> Path:
    """Write the RGB ``rows`` one under the other as an image file; its path."""
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(np.concatenate(rows), cv2.COLOR_RGB2BGR)):
        raise SystemExit(f"cannot write {path}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, help="The contact sheet (.png).")
    parser.add_argument("--image", nargs="+", default=None, help="Default: the demo photo.")
    parser.add_argument("--aus", nargs="+", default=list(DEFAULT_GROUPS), help="AU groups.")
    parser.add_argument("--values", type=float, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--cell", type=int, default=160, help="Side of one crop (pixels).")
    parser.add_argument(
        "--others", choices=("photo", "zero"), default="photo", help="The AUs not swept."
    )
    parser.add_argument("--region", choices=("face", "mouth", "eyes"), default="face")
    parser.add_argument("--face_landmarker_path", default=None, help="Default: packaged model.")
    args = parser.parse_args()

    images = args.image or [str(assets.demo_image())]
    label = 18
    width = args.cell * (len(args.values) + 1)
    header = np.full((label, width, 3), 255, np.uint8)
    for k, name in enumerate(["photo"] + [f"{v:g}" for v in args.values]):
        cv2.putText(header, name, (k * args.cell + 4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 0, 1)
    rows = [header]
    for path in images:
        photo = read_face_photo(path, face_landmarker_path=args.face_landmarker_path)
        renderer = WarpRenderer(args.face_landmarker_path)
        renderer.prepare_photo(photo)
        box = region_box(photo.face, args.region)
        for group in args.aus:
            frames = renderer.frames(sweep_rows(photo.aus, group, args.values, args.others))
            tiles = [square_crop(f, box, args.cell, fill=128) for f in [photo.image, *frames]]
            rows.append(labelled_row(tiles, f"{Path(path).stem[:22]} {group}"))
        renderer.close()
    output = write_sheet(rows, args.output)
    line = {
        "bench": "render_sweep",
        "output": str(output),
        "images": [Path(p).name for p in images],
        "groups": args.aus,
        "values": args.values,
        "others": args.others,
        "region": args.region,
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()
