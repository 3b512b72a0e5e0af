"""Benchmark the built-in (MediaPipe) AU extractor, decode included; prints one JSON line.

Frames per second on a 640x360 30 fps clip (``--clip``; default: the packaged demo photo, scaled
to 360 px high, padded to 640 wide and smiling through the warp renderer, 2.4 s) and on a 640x480
letterboxed copy of it:

- ``plain_fps``: a per-frame loop (decode, full-size RGB, landmarker) in one thread, one face;
- ``extractor_fps``: :class:`MediaPipeAUExtractor` as the recipe builds it (decode thread, FFmpeg
  threads, frames scaled to ``DEFAULT_MAX_SIDE``, up to ``DEFAULT_NUM_FACES`` faces), every frame;
- ``extractor_au25_fps``: the same tracking at most 25 frames per second of video, as stage 2
  does for 25 fps labels (video frames consumed per second);
- ``*_per_cpu_s``: frames per CPU second of the process (all threads): the cost, independent of
  what else runs on the machine;
- ``dask_N_worker``: the ``extract_au --video_scp`` job over ``--copies`` copies of the clip via
  ``espnet_cause.jobs.parallel.run_items`` on a local Dask cluster with N worker processes:
  ``fps`` over the whole call (cluster start-up and model loading included) and ``steady_fps``
  between the first and the last finished video.

The machine is shared: ``load1`` (1-minute load average) is printed at start and end.

Usage: python bench/extract_au.py [--clip FILE.mp4] [--face_landmarker_path FILE]
       [--copies 16] [--repeats 3]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _letterbox(src: Path, dst: Path, height: int = 480) -> Path:
    import av

    from espnet_cause.io.video import iter_frames

    frames = [image for _, image in iter_frames(src)]
    h, w = frames[0].shape[:2]
    top = (height - h) // 2
    with av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = w, height, "yuv420p"
        for image in frames:
            canvas = np.zeros((height, w, 3), np.uint8)
            canvas[top : top + h] = image
            for packet in stream.encode(av.VideoFrame.from_ndarray(canvas, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return dst


def _demo_clip(dst: Path, fps: int = 30, num_frames: int = 72) -> Path:
    """640x360 clip of the packaged photo, AU12 rising from 0 to 5 over the middle third."""
    import cv2

    from espnet_cause import assets
    from espnet_cause.au import NUM_AUS, au_index
    from espnet_cause.io.image import load_image
    from espnet_cause.io.mp4 import write_mp4
    from espnet_cause.render.warp import WarpRenderer

    photo = load_image(assets.demo_image())
    height, width = 360, 640
    scaled = cv2.resize(photo, (round(photo.shape[1] * height / photo.shape[0]), height))
    extra = width - scaled.shape[1]
    frame = np.pad(scaled, ((0, 0), (extra // 2, extra - extra // 2), (0, 0)), mode="edge")
    aus = np.zeros((num_frames, NUM_AUS), np.float32)
    aus[:, au_index("AU12")] = np.clip(np.linspace(-1.0, 2.0, num_frames), 0.0, 1.0) * 5.0
    renderer = WarpRenderer()
    try:
        write_mp4(dst, renderer.render(frame, aus), fps)
    finally:
        renderer.close()
    return dst


def _timed(fn) -> tuple[float, float]:
    """(frames per wall second, frames per CPU second) of ``fn() -> frames``."""
    start, cpu = time.perf_counter(), time.process_time()
    n = fn()
    return n / (time.perf_counter() - start), n / (time.process_time() - cpu)


def _count(extractor, clip: Path, frames: int | None = None) -> int:
    n = len(extractor(clip))
    return frames or n


def plain_loop(model: Path, clip: Path) -> int:
    """A straightforward per-frame loop (the ~40 fps reference); returns frames."""
    import av
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model)),
        running_mode=vision.RunningMode.VIDEO,
        output_face_blendshapes=True,
    )
    n = 0
    with vision.FaceLandmarker.create_from_options(options) as landmarker, av.open(str(clip)) as c:
        for frame in c.decode(video=0):
            image = mp.Image(
                image_format=mp.ImageFormat.SRGB, data=frame.to_ndarray(format="rgb24")
            )
            landmarker.detect_for_video(image, int(frame.time * 1000))
            n += 1
    return n


def timed_item(key: str, payload: dict, **env) -> dict:
    """The extract_au scp job, with its finishing time in the record."""
    from espnet_cause.extract.videos import extract_item

    record = extract_item(key, payload, **env)
    record["t_end"] = time.time()
    return record


def dask_fps(model: Path, clip: Path, copies: int, workers: int, work: Path) -> dict:
    from omegaconf import OmegaConf

    from espnet_cause.extract.videos import setup_extractor
    from espnet_cause.io.video import video_info
    from espnet_cause.jobs.parallel import run_items

    config = OmegaConf.create(
        {
            "env": "local",
            "n_workers": workers,
            "options": {"threads_per_worker": 1, "processes": True, "dashboard_address": ":0"},
        }
    )
    per_clip = video_info(clip).num_frames
    out = work / f"dask{workers}"
    payload = {"extractor": "mediapipe", "openface_dir": None, "au_fps": 0, "max_gap": 0.5}
    items = [
        (f"c{i:03d}", {**payload, "video": str(clip), "output": str(out / f"c{i:03d}.csv")})
        for i in range(copies)
    ]
    start = time.perf_counter()
    records = run_items(
        items,
        timed_item,
        journal=out / "journal.jsonl",
        setup_fn=functools.partial(setup_extractor, "mediapipe", str(model)),
        parallel_config=config,
        desc=f"bench dask {workers}",
    )
    wall = time.perf_counter() - start
    bad = [r for r in records.values() if r["status"] != "ok"]
    if bad:
        raise RuntimeError(f"bench items failed: {bad[:2]}")
    ends = sorted(r["t_end"] for r in records.values())
    steady = per_clip * (len(ends) - 1) / (ends[-1] - ends[0]) if len(ends) > 1 else None
    return {
        "fps": round(per_clip * copies / wall, 1),
        "steady_fps": round(steady, 1) if steady else None,
        "wall_s": round(wall, 1),
        "frames": per_clip * copies,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=None, help="640x360 video (default: made)")
    parser.add_argument("--face_landmarker_path", type=Path, default=None)
    parser.add_argument("--copies", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from espnet_cause.extract.mediapipe import (
        DEFAULT_MAX_SIDE,
        DEFAULT_NUM_FACES,
        MediaPipeAUExtractor,
    )
    from espnet_cause.face.model_file import resolve_face_landmarker
    from espnet_cause.io.video import video_info

    model = resolve_face_landmarker(args.face_landmarker_path)
    result: dict = {"bench": "extract_au", "cpus": os.cpu_count(), "load1": os.getloadavg()[0]}
    result.update(max_side=DEFAULT_MAX_SIDE, num_faces=DEFAULT_NUM_FACES, target_fps=50)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clip = args.clip or _demo_clip(work / "demo.mp4")
        clips = {"640x360": clip, "640x480": _letterbox(clip, work / "clip480.mp4")}
        every = MediaPipeAUExtractor(face_landmarker_path=model)
        au25 = MediaPipeAUExtractor(face_landmarker_path=model, max_fps=25)
        for name, path in clips.items():
            frames = video_info(path).num_frames
            runs = {"plain": [], "extractor": [], "extractor_au25": []}
            for _ in range(args.repeats):  # interleaved, so load changes hit all alike
                runs["plain"].append(_timed(functools.partial(plain_loop, model, path)))
                runs["extractor"].append(_timed(functools.partial(_count, every, path)))
                # Video frames consumed (the extractor tracks only 25 of each second's 30).
                runs["extractor_au25"].append(
                    _timed(functools.partial(_count, au25, path, frames=frames))
                )
            result[name] = {"frames": frames}
            for key, values in runs.items():
                wall, cpu = np.median(np.array(values), axis=0)
                result[name][f"{key}_fps"] = round(float(wall), 1)
                result[name][f"{key}_fps_per_cpu_s"] = round(float(cpu), 1)
        every.close()
        au25.close()
        for workers in (1, 2):
            result[f"dask_{workers}_worker"] = dask_fps(model, clip, args.copies, workers, work)
    result["load1_end"] = os.getloadavg()[0]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
