#!/usr/bin/env python3
"""GANimation generator speed at 128 px: plain PyTorch vs the fast renderer (one JSON line).

Generator only (the paper's size, random weights; speed does not depend on the weights), a
(T, 17) AU sequence on one face, batch 16, on ``--num_threads`` CPU threads. Crop and paste-back
are in ``bench/render.py``, which measures the whole ``render`` path.

    python bench/render_ganimation.py --num_threads 2 --frames 64
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import numpy as np


def _fps(fn, frames: int, repeats: int) -> float:
    fn()  # warm-up (oneDNN primitive creation, basis precomputation)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return frames / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num_threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import torch

    from espnet_cause.au import AU_INTENSITY_MAX, NUM_AUS
    from espnet_cause.ganimation.checkpoint import save_generator
    from espnet_cause.ganimation.generator import GANimationGenerator
    from espnet_cause.ganimation.renderer import (
        GANimationRenderer,
        cpu_has_fast_bf16,
        to_model_image,
        to_uint8_frames,
    )

    torch.set_num_threads(args.num_threads)
    torch.manual_seed(0)
    size = 128
    generator = GANimationGenerator().eval()
    rng = np.random.default_rng(0)
    face = (rng.random((size, size, 3)) * 255).astype(np.uint8)
    aus = (rng.random((args.frames, NUM_AUS)) * AU_INTENSITY_MAX).astype(np.float32)
    result = {
        "image_size": size,
        "frames": args.frames,
        "batch_size": args.batch_size,
        "num_threads": args.num_threads,
        "cpu_fast_bf16": cpu_has_fast_bf16(),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }

    def plain():
        with torch.inference_mode():
            image = to_model_image(face)
            for s in range(0, len(aus), args.batch_size):
                batch = torch.from_numpy(aus[s : s + args.batch_size] / AU_INTENSITY_MAX)
                to_uint8_frames(generator(image.expand(len(batch), -1, -1, -1), batch)[0])

    result["plain_fp32_fps"] = round(_fps(plain, args.frames, args.repeats), 2)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "generator.pth")
        save_generator(path, generator, size, {})
        reference = None
        for backend in ("fp32", "bf16"):
            renderer = GANimationRenderer(path, backend=backend)
            out = renderer.render(face, aus[: args.batch_size], args.batch_size)
            if reference is None:
                reference = out.astype(int)
            result[f"fast_{backend}_fps"] = round(
                _fps(lambda r=renderer: r.render(face, aus, args.batch_size), args.frames, 1),
                2,
            )
            result[f"fast_{backend}_max_abs_diff_uint8"] = int(
                np.abs(out.astype(int) - reference).max()
            )
        result["auto_backend"] = GANimationRenderer(path).backend
    print(json.dumps(result))


if __name__ == "__main__":
    main()
