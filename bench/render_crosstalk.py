"""Closed-loop cross-talk: what every AU reads while each AU is swept alone (one JSON line a photo).

Renders the closed loop's one-AU sweep (``bench/render_fidelity.py``: each AU 0 -> 4 -> 0 in turn,
the others at 0) with the warp renderer, reads it back with the built-in tracker and prints, per
photo, :func:`espnet_cause.render.fidelity.readback_matrix`: the read-back matrix (driven AU i at
its peak against every read AU j, over the baseline where nothing is driven), each AU's response
curve in its own segment (driven 0, 1, ..., 4), its r within the segment and over the whole sweep,
and the eye and brow blendshapes at each AU's peak. A last line averages them over the photos,
and the curves per source (the file name's prefix before the first ``_``), the leaks sorted.

Usage: python bench/render_crosstalk.py --image A.png [B.png ...] [--aus AU05,AU07,...]
       [--num_threads 1]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from espnet_cause.au import AU_NAMES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", nargs="+", default=None, help="Default: the demo photo.")
    parser.add_argument("--aus", default=None, help="Comma-separated AUs to sweep (default all).")
    parser.add_argument("--num_threads", type=int, default=1)
    parser.add_argument("--top", type=int, default=15, help="Leaks listed in the last line.")
    args = parser.parse_args()

    import cv2

    cv2.setNumThreads(args.num_threads)
    from espnet_cause import assets
    from espnet_cause.arkit import BLENDSHAPE_NAMES
    from espnet_cause.extract.mediapipe import MediaPipeAUExtractor
    from espnet_cause.face.landmarker import FaceLandmarker
    from espnet_cause.render.fidelity import FPS, au_fidelity, readback_matrix, sweep_aus
    from espnet_cause.render.photo import read_face_photo
    from espnet_cause.render.warp import WarpRenderer

    images = args.image or [str(assets.demo_image())]
    aus = tuple(a.strip() for a in args.aus.split(",")) if args.aus else AU_NAMES
    sweep = sweep_aus(aus)
    lines = []
    with (
        FaceLandmarker(blendshapes=True) as landmarker,
        MediaPipeAUExtractor(threaded=False) as extractor,
    ):
        for path in images:
            photo = read_face_photo(path, landmarker=landmarker)
            warp = WarpRenderer()
            warp.prepare_photo(photo)
            frames = ((i / FPS, f) for i, f in enumerate(warp.frames(sweep)))
            track = extractor.track_frames(frames, source=path)
            result = readback_matrix(
                sweep, track.intensities, aus, track.blendshapes, BLENDSHAPE_NAMES
            )
            fid = au_fidelity(sweep, track.intensities)
            line = {
                "bench": "render_crosstalk",
                "image": Path(path).name,
                "mean_r": fid["mean_r"],
                "r": fid["r"],
                "photo_aus": {
                    a: round(float(v), 3) for a, v in zip(AU_NAMES, photo.aus, strict=True)
                },
                **result,
            }
            lines.append(line)
            print(json.dumps(line), flush=True)
    print(json.dumps(average(lines, aus, args.top)), flush=True)


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(float(np.mean(values)), 3) if values else None


def _source(image: str) -> str:
    """A photo's source: its file name up to the first ``_`` (or its stem)."""
    return image.split("_")[0].split(".")[0]


def average(lines: list[dict], aus, top: int) -> dict:
    """The photos' matrices, curves and r averaged; curves per source; the largest leaks."""
    matrix = {i: {j: _mean(x["matrix"][i][j] for x in lines) for j in AU_NAMES} for i in aus}
    curves: dict[str, dict[str, list]] = {}
    sources = sorted({_source(x["image"]) for x in lines})
    for name in aus:
        curves[name] = {}
        for source in sources:
            group = [x for x in lines if _source(x["image"]) == source]
            curves[name][source] = [
                _mean(x["curve"][name][level] for x in group) for level in range(5)
            ]
    leaks = sorted(
        ((v, i, j) for i in aus for j in AU_NAMES if j != i and (v := matrix[i][j]) is not None),
        key=lambda t: -abs(t[0]),
    )[:top]
    return {
        "bench": "render_crosstalk_mean",
        "photos": len(lines),
        "r": {a: _mean(x["r"].get(a) for x in lines) for a in aus},
        "segment_r": {a: _mean(x["segment_r"][a] for x in lines) for a in aus},
        "baseline": {a: _mean(x["baseline"][a] for x in lines) for a in AU_NAMES},
        "matrix": matrix,
        "curves_by_source": curves,
        "blendshapes": {
            a: {
                s: _mean(x["blendshapes"][a].get(s) for x in lines)
                for s in lines[0]["blendshapes"][a]
            }
            for a in aus
        }
        if lines
        else {},
        "largest_leaks": [{"driven": i, "read": j, "leak": v} for v, i, j in leaks],
    }


if __name__ == "__main__":
    main()
