"""GANimation under torchrun on CPU: 2 processes (gloo) stay in step, and resume in 1 process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from made_fixtures import TINY_GANIMATION_CONF

from espnet_cause.bin import ganimation_train
from espnet_cause.ganimation.trainer import GANimationTrainer

WORKER = Path(__file__).with_name("ddp_worker.py")
REPO = Path(__file__).resolve().parents[2]


CONF = TINY_GANIMATION_CONF


@pytest.fixture
def faces(tmp_path):
    """8 random faces: each of the 2 ranks gets 4, in batches of 2."""
    from made_fixtures import write_face_dir

    return write_face_dir(tmp_path / "faces", 8)


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "conf.yaml"
    path.write_text(yaml.safe_dump(CONF))
    return path


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_torchrun_two_ranks_stay_in_step_and_resume_in_one_process(faces, config, tmp_path):
    out, dumps = tmp_path / "exp", tmp_path / "dumps"
    dumps.mkdir()
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env["OMP_NUM_THREADS"] = "1"
    steps = CONF["n_critic"]  # one generator step and n_critic critic steps
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        str(WORKER), str(dumps),
        "--config", str(config), "--train_dir", str(faces), "--output_dir", str(out),
        "--max_steps", str(steps), "--batch_size", "2", "--verbose", "0",
    ]  # fmt: skip
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    ranks = [torch.load(dumps / f"rank{r}.pt") for r in range(2)]
    assert [(s["rank"], s["world_size"], s["backend"], s["step"]) for s in ranks] == [
        (0, 2, "gloo", steps),
        (1, 2, "gloo", steps),
    ]
    for net in ("generator", "discriminator"):
        assert _same(ranks[0][net], ranks[1][net]), f"{net} weights differ between the ranks"
    # The steps changed the weights: compare with the initial networks of the same seed.
    initial = GANimationTrainer.from_config(
        faces, tmp_path / "init", yaml.safe_load(config.read_text())
    )
    assert not _same(initial.generator.state_dict(), ranks[0]["generator"])
    assert not _same(initial.discriminator.state_dict(), ranks[0]["discriminator"])
    # Rank 0's checkpoint holds those weights, and one process resumes from it.
    checkpoint = torch.load(out / "checkpoint.pth", weights_only=False)
    assert checkpoint["step"] == steps and _same(checkpoint["generator"], ranks[0]["generator"])
    ganimation_train.main(
        ["--config", str(config), "--train_dir", str(faces), "--output_dir", str(out)]
        + ["--resume", "--max_steps", str(2 * steps), "--batch_size", "2", "--verbose", "0"]
    )
    resumed = torch.load(out / "checkpoint.pth", weights_only=False)
    assert resumed["step"] == 2 * steps
    assert not _same(resumed["generator"], ranks[0]["generator"])
