"""CAUSE training through ESPnet's distributed mode on CPU: torchrun, 2 processes, gloo.

ESPnet's external-launcher mode (``--multiprocessing_distributed false`` with ``WORLD_SIZE`` from
torchrun) runs DDP on CPU with ``--ngpu 0 --dist_backend gloo``. What needs GPUs is ESPnet's own
spawning (``--ngpu N --multiprocessing_distributed true``, which with ``--ngpu 0`` falls back to
one process) and its default backend nccl.
"""

import os
import subprocess
import sys

import yaml
from test_cause_train import TINY_CONF, data_args, make_dump

from espnet_cause.bin import cause_train

#: What a torchrun rank prints when it aborts in C++ as its first epoch starts, seen only while
#: other heavy processes shared the 2 cores (the run is retried once on it, never on other errors).
GLOO_ABORT = "terminate called without an active exception"


def test_torchrun_two_cpu_ranks_then_resume_in_one_process(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_dump(tmp_path, "train", 8, 0)
    make_dump(tmp_path, "valid", 4, 1)
    conf = tmp_path / "tiny.yaml"
    conf.write_text(yaml.safe_dump({**TINY_CONF, "batch_size": 4}))
    cause_train.main(
        ["--collect_stats", "true", "--config", str(conf), "--output_dir", "exp/stats"]
        + data_args(tmp_path, stats=True)
    )
    train = ["--config", str(conf), "--output_dir", "exp/cause"]
    train += ["--normalize_conf", "stats_file=exp/stats/train/feats_stats.npz"]
    train += ["--au_normalize_conf", "stats_file=exp/stats/train/au_stats.npz"]
    train += data_args(tmp_path, stats=False)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    cmd += ["-m", "espnet_cause.bin.cause_train", *train]
    cmd += ["--ngpu", "0", "--multiprocessing_distributed", "false", "--dist_backend", "gloo"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    if run.returncode != 0 and GLOO_ABORT in run.stderr:
        # one more run: a rank aborted at its first epoch (twice in session 17, each time with
        # other heavy processes on the 2 cores; 0 of 5 runs alone): the second must pass in full
        run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    exp = tmp_path / "exp/cause"
    config = yaml.safe_load((exp / "config.yaml").read_text())
    assert config["distributed"] is True and config["dist_backend"] == "gloo"
    first = exp / "1epoch.pth"
    assert first.is_file() and (exp / "valid.loss.best.pth").is_file()
    stamp = first.stat().st_mtime_ns
    # One process resumes the 2-process run's checkpoint and trains the next epoch only.
    cause_train.main(train + ["--resume", "true", "--max_epoch", "2"])
    assert (exp / "2epoch.pth").is_file() and first.stat().st_mtime_ns == stamp
    assert yaml.safe_load((exp / "config.yaml").read_text())["distributed"] is False
