"""Stage-2 face tracking through SLURM with 1, 2 and 4 Dask workers; prints one JSON line.

The mini corpus's videos (all sets of a recipe that ran stage 1, ``--copies`` times under new
keys) are labelled by ``make_au_labels`` (the stage-2 library call) with a SLURM config of N
workers derived from ``--conf`` (each worker one SLURM job of 1 CPU). Per N: ``wall_s`` from the
call to its return (job submission, worker start-up and model loading included), ``videos_per_s``
and ``frames_per_s`` (AU frames at 25 fps) over that time, and the speed-up against 1 worker.
The SLURM node's CPU count bounds how many workers run at once; the others wait in the queue.

Usage (with the cluster of .ci/slurm/up.sh running):
    python bench/slurm_workers.py [--recipe egs/cause/cause1] [--workers 1 2 4] [--copies 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent


def video_data_dir(recipe: Path, out: Path, copies: int) -> int:
    """A data dir of every video utterance of the recipe's data dirs, ``copies`` times."""
    from espnet_cause.io.datadir import read_kaldi_map, write_kaldi_map, write_utt2spk_spk2utt

    wav, video, utt2spk = {}, {}, {}
    for dset in sorted(p for p in (recipe / "data").iterdir() if (p / "video.scp").is_file()):
        wavs, spk = read_kaldi_map(dset / "wav.scp"), read_kaldi_map(dset / "utt2spk")
        for utt, path in read_kaldi_map(dset / "video.scp").items():
            for c in range(copies):
                key = f"{spk[utt]}-c{c}-{utt}"
                wav[key], video[key], utt2spk[key] = wavs[utt], path, spk[utt]
    out.mkdir(parents=True, exist_ok=True)
    write_kaldi_map(out / "wav.scp", wav)
    write_kaldi_map(out / "video.scp", video)
    write_utt2spk_spk2utt(out, utt2spk)
    return len(video)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", type=Path, default=HERE.parent / "egs" / "cause" / "cause1")
    parser.add_argument("--conf", type=Path, default=HERE.parent / "conf/parallel/slurm_ci.yaml")
    parser.add_argument("--face_landmarker_path", type=Path, default=None, help="default: packaged")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--copies", type=int, default=2)
    args = parser.parse_args()

    from espnet_cause.extract.labels import make_au_labels
    from espnet_cause.jobs.batch import read_report

    base = yaml.safe_load(args.conf.read_text())
    cpus = subprocess.run(
        ["sinfo", "-h", "-p", base["options"]["queue"], "-o", "%c"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    result = {"bench": "slurm_workers", "slurm_node_cpus": int(cpus[0]), "copies": args.copies,
              "load1_start": round(os.getloadavg()[0], 2)}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        result["videos"] = video_data_dir(args.recipe, tmp / "data", args.copies)
        for n in args.workers:
            conf = tmp / f"slurm{n}.yaml"
            options = {**base["options"], "log_directory": str(tmp / f"logs{n}")}
            conf.write_text(yaml.safe_dump({**base, "n_workers": n, "options": options}))
            out = tmp / f"dump{n}"
            start = time.perf_counter()
            summary = make_au_labels(
                tmp / "data", out, face_landmarker_path=args.face_landmarker_path,
                parallel_config=conf,
            )  # fmt: skip
            wall = time.perf_counter() - start
            assert summary["kept"] == result["videos"], summary
            frames = sum(int(r["frames"]) for r in read_report(out / "au_report.tsv").values())
            result[f"workers_{n}"] = {
                "wall_s": round(wall, 1),
                "videos_per_s": round(result["videos"] / wall, 3),
                "frames_per_s": round(frames / wall, 1),
            }
    one = result.get("workers_1")
    for n in args.workers:
        if one:
            result[f"workers_{n}"]["speedup"] = round(
                one["wall_s"] / result[f"workers_{n}"]["wall_s"], 2
            )
    result["load1_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
