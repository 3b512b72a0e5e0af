"""Rendering speed: frames per second for the ``warp`` and ``ganimation`` renderers (one JSON line).

Both are measured on the packaged demo photo (grace_hopper.jpg, 512x600) with a speech-like AU
sequence, everything a rendered frame needs included:
- ``warp``: the landmark warp of the photo's face region with the idle head motion (the CLI path;
  the face region is about 300 px) and ``warp_crop128``: the same warp on the aligned 128 px crop,
  pasted back;
- ``ganimation``: aligned 128 px crop -> GANimation generator (randomly initialised, the paper's
  size: 64 channels, 6 residual blocks) -> paste back with the feathered mask.
One-time set-up (face detection, field building, model loading) is reported separately, and the
machine's load average with the CPU time per frame (wall-clock fps are only comparable on an idle
machine; CPU milliseconds per frame, summed over threads, much less depend on the load).
Targets (issues 5, 28): warp >= 25 fps, warp_crop128 >= 250 fps, ganimation >= 10 fps, on 2 CPU
cores.

Usage: python bench/render.py [--frames 100] [--num_threads 2] [--image FILE]
       [--face_landmarker_path FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
TARGETS = {"warp_fps": 25.0, "warp_crop128_fps": 250.0, "ganimation_fps": 10.0}


def speech_like_aus(num_frames: int, fps: float = 25.0) -> np.ndarray:
    """Mouth opening at syllable rate, a smile, brows and blinks."""
    from espnet_cause.au import NUM_AUS, au_index

    t = np.arange(num_frames) / fps
    aus = np.zeros((num_frames, NUM_AUS), np.float32)
    aus[:, au_index("AU25")] = 2.0 * (1 + np.sin(2 * np.pi * 4 * t))
    aus[:, au_index("AU26")] = 1.5 * (1 + np.sin(2 * np.pi * 4 * t + 0.5))
    aus[:, au_index("AU12")] = 1.0 + np.sin(2 * np.pi * 0.3 * t)
    aus[:, au_index("AU01")] = 1.0 + np.sin(2 * np.pi * 0.5 * t)
    aus[(np.arange(num_frames) % 75) < 4, au_index("AU45")] = 5.0
    return aus


def bench_warp(photo, landmarker_path, aus) -> dict:
    from espnet_cause.face.compose import CropCompositor
    from espnet_cause.render.photo import read_face_photo
    from espnet_cause.render.warp import WarpRenderer

    out = {}
    renderer = WarpRenderer(landmarker_path, head_motion=1.0)  # the CLI's default idle motion
    start = time.perf_counter()
    renderer.prepare_photo(photo)
    out["warp_setup_s"] = round(time.perf_counter() - start, 3)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in renderer.frames(aus):
        pass
    out["warp_fps"] = round(len(aus) / (time.perf_counter() - start), 1)
    out["warp_cpu_ms_per_frame"] = round(1000 * (time.process_time() - cpu) / len(aus), 2)

    compositor = CropCompositor(photo.image, photo.face, size=128)
    try:
        renderer.prepare_photo(
            read_face_photo(compositor.crop, face_landmarker_path=landmarker_path)
        )
        start, cpu = time.perf_counter(), time.process_time()
        for frame in renderer.frames(aus):
            compositor.paste(frame)
        out["warp_crop128_fps"] = round(len(aus) / (time.perf_counter() - start), 1)
        seconds = time.process_time() - cpu
        out["warp_crop128_cpu_ms_per_frame"] = round(1000 * seconds / len(aus), 2)
    except Exception as e:  # noqa: BLE001 - a report, not a test
        out["warp_crop128_fps"] = None
        out["warp_crop128_reason"] = str(e)
    renderer.close()
    return out


def bench_ganimation(image, face, aus, num_threads: int) -> dict:
    try:
        import torch

        from espnet_cause.ganimation.checkpoint import save_generator
        from espnet_cause.ganimation.generator import GANimationGenerator
        from espnet_cause.ganimation.renderer import GANimationRenderer, ganimation_frames
    except ImportError as e:
        return {"ganimation_fps": None, "ganimation_reason": f"GANimation not available: {e}"}

    torch.manual_seed(0)
    generator = GANimationGenerator()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "generator.pth"
        save_generator(path, generator, 128, {})
        start = time.perf_counter()
        renderer = GANimationRenderer(path, device="cpu", num_threads=num_threads)
        setup = time.perf_counter() - start
    list(ganimation_frames(renderer, image, face, aus[:4], batch_size=16))  # warm-up
    start = time.perf_counter()
    for _ in ganimation_frames(renderer, image, face, aus, batch_size=16):
        pass
    fps = len(aus) / (time.perf_counter() - start)
    return {
        "ganimation_fps": round(fps, 1),
        "ganimation_setup_s": round(setup, 3),
        "ganimation_backend": renderer.backend,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--num_threads", type=int, default=2)
    parser.add_argument("--image", default=None, help="Photo (default: the packaged demo photo).")
    parser.add_argument("--face_landmarker_path", default=None, help="Default: packaged model.")
    args = parser.parse_args()
    from espnet_cause import assets
    from espnet_cause.face.model_file import resolve_face_landmarker

    args.image = args.image or str(assets.demo_image())
    args.face_landmarker_path = str(resolve_face_landmarker(args.face_landmarker_path))

    import cv2

    cv2.setNumThreads(args.num_threads)
    from espnet_cause.face.landmarker import FaceLandmarker
    from espnet_cause.render.photo import read_face_photo

    with FaceLandmarker(args.face_landmarker_path, blendshapes=True) as landmarker:
        start = time.perf_counter()
        photo = read_face_photo(args.image, landmarker=landmarker)
        detect = time.perf_counter() - start
    image, face = photo.image, photo.face
    aus = speech_like_aus(args.frames)
    result = {
        "bench": "render",
        "image": Path(args.image).name,
        "image_size": [image.shape[1], image.shape[0]],
        "frames": args.frames,
        "num_threads": args.num_threads,
        "face_detect_s": round(detect, 3),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    result.update(bench_warp(photo, args.face_landmarker_path, aus))
    result.update(bench_ganimation(image, face, aus, args.num_threads))
    result["targets"] = TARGETS
    print(json.dumps(result))


if __name__ == "__main__":
    main()
