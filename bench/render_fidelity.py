"""Closed-loop render fidelity (issue 15): one JSON line per photo and renderer.

Drives one AU at a time (0 -> 4 -> 0 over a second, the 17 AUs in turn) plus a mixed track, renders
the photo with the warp renderer (and GANimation when ``--generator`` is given), reads the
AUs back off the frames with the built-in MediaPipe tracker (in memory) and prints per-AU Pearson
r, the mean over the AUs the tracker can read (and why the others cannot), the identity drift and
the face detail (the variance of the Laplacian over the face box over the photo's, on frames with
the idle head motion, ``--head_motion``: the photo's own AUs, and the sweep; see
:mod:`espnet_cause.render.fidelity`).
Targets (issues 15, 28): warp mean r >= 0.7 over the readable AUs, r >= 0.3 for at least 12 AUs,
face detail >= 0.9 of the photo's.

Usage: python bench/render_fidelity.py [--image FILE ...] [--generator G.pth]
       [--aus AU26,AU45] [--seconds_per_au 1.0] [--mixed_seconds 30] [--num_threads 2]
       [--head_motion 1] [--summary]

Each line says which targets the photo meets (``meets``); ``--summary`` adds a last line per
renderer: how many photos meet all three, the mean of their mean r, the lowest face detail.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from espnet_cause.cli import add_renamed_argument

TARGETS = {"mean_r": 0.7, "num_r_ge_0.3": 12, "detail_mean": 0.9}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", nargs="+", default=None, help="Default: the demo photo.")
    add_renamed_argument(
        parser,
        "--generator",
        "--ganimation_model",
        default=None,
        help="Also measure this GANimation generator.pth.",
    )
    parser.add_argument("--aus", default=None, help="Comma-separated AUs to sweep (default all).")
    parser.add_argument("--seconds_per_au", type=float, default=1.0)
    # 30 s: in a short seeded track antagonists (AU14 in, AU20 out) happen to move together
    parser.add_argument("--mixed_seconds", type=float, default=30.0)
    parser.add_argument("--num_threads", type=int, default=2)
    parser.add_argument(
        "--head_motion", type=float, default=1.0, help="Idle motion of the detail pass (warp)."
    )
    parser.add_argument("--face_landmarker_path", default=None, help="Default: packaged model.")
    parser.add_argument(
        "--summary", action="store_true", help="End with a line per renderer over all photos."
    )
    args = parser.parse_args()

    import cv2

    cv2.setNumThreads(args.num_threads)
    from espnet_cause import assets
    from espnet_cause.au import AU_NAMES
    from espnet_cause.extract.mediapipe import MediaPipeAUExtractor
    from espnet_cause.face.landmarker import FaceLandmarker
    from espnet_cause.render.fidelity import measure_fidelity
    from espnet_cause.render.photo import read_face_photo
    from espnet_cause.render.warp import WarpRenderer

    images = args.image or [str(assets.demo_image())]
    aus = tuple(a.strip() for a in args.aus.split(",")) if args.aus else AU_NAMES
    renderers = ["warp"] + (["ganimation"] if args.generator else [])
    lines = []
    gan = None
    if args.generator:
        from espnet_cause.ganimation.renderer import load_ganimation

        gan = load_ganimation(args.generator, "cpu")
    with (
        FaceLandmarker(args.face_landmarker_path, blendshapes=True) as landmarker,
        MediaPipeAUExtractor(args.face_landmarker_path, threaded=False) as extractor,
    ):
        for path in images:
            photo = read_face_photo(path, landmarker=landmarker)
            image, face = photo.image, photo.face
            for name in renderers:
                moving = None
                if name == "warp":
                    warp = WarpRenderer(args.face_landmarker_path)
                    warp.prepare_photo(photo)
                    render = warp.frames
                    moving = WarpRenderer(args.face_landmarker_path, head_motion=args.head_motion)
                    moving.prepare_photo(photo)
                else:
                    from espnet_cause.ganimation.renderer import ganimation_frames

                    def render(a, image=image, face=face):
                        return ganimation_frames(gan, image, face, a, batch_size=16)

                start = time.perf_counter()
                result = measure_fidelity(
                    render,
                    image,
                    face,
                    extractor,
                    aus=aus,
                    seconds_per_au=args.seconds_per_au,
                    mixed_seconds=args.mixed_seconds,
                    moving_render=None if moving is None else moving.frames,
                    photo_aus=photo.aus,
                )
                line = {
                    "bench": "render_fidelity",
                    "renderer": name,
                    "image": Path(path).name,
                    "image_size": [image.shape[1], image.shape[0]],
                    "mean_r": result["sweep"]["mean_r"],
                    "num_r_ge_0.3": result["sweep"]["num_r_good"],
                    "detail_mean": (result["detail"] or {}).get("mean"),
                    "detail_sweep_mean": (result["detail_sweep"] or {}).get("mean"),
                    **result,
                    "seconds": round(time.perf_counter() - start, 1),
                    "targets": TARGETS,
                }
                line["meets"] = meets(line)
                lines.append(line)
                print(json.dumps(line), flush=True)
    if args.summary:
        for name in renderers:
            print(json.dumps(summary([x for x in lines if x["renderer"] == name])), flush=True)


def meets(line: dict) -> dict:
    """Which of :data:`TARGETS` one photo's line meets (a missing figure does not)."""
    return {
        key: line.get(key) is not None and line[key] >= target for key, target in TARGETS.items()
    }


def summary(lines: list[dict]) -> dict:
    """One renderer's photos at a glance."""
    details = [x["detail_mean"] for x in lines if x["detail_mean"] is not None]
    return {
        "bench": "render_fidelity_summary",
        "renderer": lines[0]["renderer"] if lines else None,
        "photos": len(lines),
        "meet_all_targets": sum(all(x["meets"].values()) for x in lines),
        "meet_targets": {key: sum(x["meets"][key] for x in lines) for key in TARGETS},
        "mean_of_mean_r": round(sum(x["mean_r"] or 0.0 for x in lines) / max(len(lines), 1), 3),
        "lowest_detail": min(details) if details else None,
        "failing": [x["image"] for x in lines if not all(x["meets"].values())],
    }


if __name__ == "__main__":
    main()
