"""bench/render_fidelity.py end to end on the demo photo: each line says which targets it meets,
and ``--summary`` ends with the photos at a glance."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from espnet_cause import assets

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "render_fidelity.py"


def test_the_bench_says_which_photos_meet_the_targets(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
    demo = str(assets.demo_image())
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--image", demo, demo, "--aus", "AU12,AU26",
         "--seconds_per_au", "0.6", "--mixed_seconds", "0", "--num_threads", "1", "--summary"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    lines = [json.loads(x) for x in run.stdout.splitlines()]
    photos, last = lines[:-1], lines[-1]
    assert [x["bench"] for x in photos] == ["render_fidelity"] * 2
    for x in photos:
        assert x["meets"]["mean_r"] == (x["mean_r"] >= 0.7)
        assert x["meets"]["num_r_ge_0.3"] is False  # two AUs driven: never 12 at r >= 0.3
        assert x["meets"]["detail_mean"] == (x["detail_mean"] >= 0.9)
    assert last["bench"] == "render_fidelity_summary"
    assert last["photos"] == 2 and last["meet_all_targets"] == 0
    assert last["failing"] == [Path(demo).name] * 2
    assert last["meet_targets"]["detail_mean"] == sum(x["meets"]["detail_mean"] for x in photos)
    assert last["lowest_detail"] == min(x["detail_mean"] for x in photos)
