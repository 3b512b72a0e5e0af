"""Benchmark the built-in (MediaPipe) AU extractor, decode included; prints one JSON line.

Measures frames per second on the shared 640x360 clip and on a 640x480 letterboxed copy of it:

- ``plain``: a per-frame loop (decode at full size, then landmarker) in one thread;
- ``extractor``: :class:`MediaPipeAUExtractor` as the recipe uses it (decode thread, FFmpeg
  threads, frames downscaled to ``DEFAULT_MAX_SIDE``);
- ``dask_1``/``dask_2``: the ``extract_au --video_scp`` job over ``--copies`` copies of the clip
  through ``espnet_cause.parallel.run_items`` on a local Dask cluster with 1 and 2 worker
  processes (wall time including cluster start-up and model loading).

The machine is shared: ``load1`` is printed, and ``extractor_fps_per_cpu_s`` (frames per CPU
second of the process) is the load-independent cost.

Usage: python bench/extract_au.py [--shared ../shared] [--copies 8] [--repeats 3]
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


def plain_loop(model: Path, clip: Path) -> float:
    """Frames/s of a straightforward per-frame loop (the ~40 fps reference)."""
    import av
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model)),
        running_mode=vision.RunningMode.VIDEO,
        output_face_blendshapes=True,
    )
    start = time.perf_counter()
    n = 0
    with vision.FaceLandmarker.create_from_options(options) as landmarker, av.open(str(clip)) as c:
        for frame in c.decode(video=0):
            image = mp.Image(
                image_format=mp.ImageFormat.SRGB, data=frame.to_ndarray(format="rgb24")
            )
            landmarker.detect_for_video(image, int(frame.time * 1000))
            n += 1
    return n / (time.perf_counter() - start)


def extractor_fps(extractor, clip: Path) -> tuple[float, float]:
    """(frames per wall second, frames per CPU second of this process, all threads)."""
    start, cpu = time.perf_counter(), time.process_time()
    n = len(extractor(clip))
    return n / (time.perf_counter() - start), n / (time.process_time() - cpu)


def dask_fps(model: Path, clip: Path, copies: int, workers: int, work: Path) -> dict:
    from omegaconf import OmegaConf

    from espnet_cause.bin.extract_au import _scp_item, _tracker_env
    from espnet_cause.io.video import video_info
    from espnet_cause.parallel import run_items

    config = OmegaConf.create(
        {
            "env": "local",
            "n_workers": workers,
            "options": {"threads_per_worker": 1, "processes": True, "dashboard_address": None},
        }
    )
    frames = video_info(clip).num_frames * copies
    out = work / f"dask{workers}"
    items = [
        (
            f"c{i:03d}",
            {
                "extractor": "mediapipe",
                "video": str(clip),
                "openface_dir": None,
                "au_fps": 0,
                "max_gap": 0.5,
                "output": str(out / f"c{i:03d}.csv"),
            },
        )
        for i in range(copies)
    ]
    start = time.perf_counter()
    records = run_items(
        items,
        _scp_item,
        journal=out / "journal.jsonl",
        setup_fn=functools.partial(_tracker_env, "mediapipe", str(model)),
        parallel_config=config,
        desc=f"bench dask {workers}",
    )
    wall = time.perf_counter() - start
    assert all(r["status"] == "ok" for r in records.values()), records
    return {"fps": round(frames / wall, 1), "wall_s": round(wall, 2), "frames": frames}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("GLOG_minloglevel", "2")

    from espnet_cause.extract.mediapipe import DEFAULT_MAX_SIDE, MediaPipeAUExtractor
    from espnet_cause.io.video import video_info

    model = args.shared / "models" / "face_landmarker.task"
    clip = args.shared / "fixtures" / "video" / "single_face.mp4"
    result: dict = {"bench": "extract_au", "cpus": os.cpu_count(), "load1": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clips = {"640x360": clip, "640x480": _letterbox(clip, work / "clip480.mp4")}
        extractor = MediaPipeAUExtractor(face_landmarker_path=model)
        for name, path in clips.items():
            plain = [plain_loop(model, path) for _ in range(args.repeats)]
            ours = [extractor_fps(extractor, path) for _ in range(args.repeats)]
            result[name] = {
                "frames": video_info(path).num_frames,
                "plain_fps": round(float(np.median(plain)), 1),
                "extractor_fps": round(float(np.median([w for w, _ in ours])), 1),
                "extractor_fps_per_cpu_s": round(float(np.median([c for _, c in ours])), 1),
            }
        result["max_side"] = DEFAULT_MAX_SIDE
        for workers in (1, 2):
            result[f"dask_{workers}_worker"] = dask_fps(model, clip, args.copies, workers, work)
    result["target_fps"] = 50
    result["load1_end"] = os.getloadavg()[0]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
