"""The recipe's stages 2, 3 and 5 through SLURM equal the local run; a cancelled job is survived.

Each test runs the real ``run.sh`` in a scratch recipe directory under ``exp/slurm/<name>`` of the
reference recipe (its ``path.sh``/``db.sh`` source the recipe's; ``run.sh``, ``conf``, ``utils``, ...
and the inputs are links), with ``--nj_config conf/parallel/slurm_ci.yaml``: the Dask workers are
SLURM jobs, whose scripts and logs land in ``exp/slurm/<name>/exp/dask_logs``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from espnet_cause.io.au_files import read_au_fps, read_au_scp
from espnet_cause.io.datadir import read_kaldi_map
from espnet_cause.jobs.batch import read_report
from espnet_cause.jobs.parallel import read_journal

#: The Dask/SLURM config of the CI cluster (its partition is checked by the slurm_partition fixture).
SLURM_CONF = Path(__file__).resolve().parents[2] / "conf" / "parallel" / "slurm_ci.yaml"
#: Prints the cluster's state when a run fails or hangs.
STATE_SH = Path(__file__).resolve().parents[2] / ".ci" / "slurm" / "state.sh"
SETS = ("train", "valid", "test")
#: What a scratch recipe dir does not share with the recipe: its own path.sh/db.sh and outputs.
OWN_FILES = {"path.sh", "db.sh", "data", "dump", "exp", "downloads"}
#: Largest AU difference (0-5 scale) allowed between the SLURM and the local run.
TOLERANCE = 1e-5


def make_run_dir(recipe: Path, name: str, links: list[str]) -> Path:
    """A fresh recipe directory that shares the recipe's code (links) and the given inputs."""
    run_dir = recipe / "exp" / "slurm" / name
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    for script in ("path.sh", "db.sh"):
        (run_dir / script).write_text(f". {recipe / script}\n")
    code = [p.name for p in recipe.iterdir() if p.name not in OWN_FILES]  # run.sh, conf, utils, ...
    for link in (*code, *links):
        target = recipe / link
        (run_dir / link).parent.mkdir(parents=True, exist_ok=True)
        (run_dir / link).symlink_to(target.resolve(), target_is_directory=target.is_dir())
    return run_dir


def start_recipe(run_dir: Path, *args: str) -> tuple[subprocess.Popen, Path]:
    """``run.sh ARGS --nj_config slurm_ci.yaml`` in ``run_dir``, in its own process group."""
    log = run_dir / "run.log"
    cmd = ["./run.sh", *args, "--nj_config", str(SLURM_CONF)]
    out = open(log, "w")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(
        cmd, cwd=run_dir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    proc.log_file = out
    return proc, log


def slurm_state(*dirs: Path) -> str:
    """``.ci/slurm/state.sh``: sinfo, squeue with pending reasons, daemon and worker log tails."""
    run = subprocess.run(
        ["bash", str(STATE_SH), *map(str, dirs)], capture_output=True, text=True, timeout=60
    )
    return run.stdout + run.stderr


def finish(proc: subprocess.Popen, log: Path, timeout: float) -> str:
    """Wait for a run started by :func:`start_recipe`; on a timeout kill it and say why it hung."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        state = slurm_state(log.parent)  # before the kill, as it hung
        os.killpg(proc.pid, signal.SIGTERM)  # run.sh, its stage, the Dask scheduler, srun
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        text = log.read_text(errors="replace").replace("\r", "\n")
        pytest.fail(
            f"{' '.join(proc.args)} did not finish within {timeout:.0f} s ({log}):\n"
            f"{text[-3000:]}\n{state}"
        )
    finally:
        proc.log_file.close()
    text = log.read_text(errors="replace")
    assert proc.returncode == 0, (
        f"{' '.join(proc.args)} failed ({log}):\n{text[-4000:]}\n{slurm_state(log.parent)}"
    )
    return text


def worker_jobs(partition: str) -> list[str]:
    """IDs of the running Dask worker jobs in the partition."""
    out = subprocess.run(
        ["squeue", "-h", "-p", partition, "-n", "dask-worker", "-t", "R", "-o", "%i"],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    return out.split()


def assert_same_aus(ours: Path, reference: Path, scp: str) -> int:
    """Same keys and AU values within TOLERANCE in two recipe dirs' ``scp``; returns the count.

    The scps hold ark paths relative to their recipe directory, so each is read from there.
    """
    with contextlib.chdir(ours):
        a, fps_a = dict(read_au_scp(scp).items()), read_au_fps(scp)  # loaded here
    with contextlib.chdir(reference):
        b, fps_b = dict(read_au_scp(scp).items()), read_au_fps(scp)
    assert sorted(a) == sorted(b), f"{ours}/{scp} and {reference}/{scp} have different keys"
    for key in a:
        assert a[key].shape == b[key].shape, (scp, key, a[key].shape, b[key].shape)
        diff = float(np.max(np.abs(a[key] - b[key]))) if a[key].size else 0.0
        assert diff <= TOLERANCE, f"{ours}/{scp} {key}: AUs differ from the local run by {diff}"
    assert fps_a == fps_b, (fps_a, fps_b)
    return len(a)


def assert_same_stats(ours: Path, reference: Path) -> None:
    """ESPnet statistics equal as the normaliser uses them (count, mean, std).

    AU statistics agree to float32 rounding (ESPnet sums in float32, in another order). Feature
    statistics also depend on the batches: ESPnet's batched STFT pads an utterance that is not the
    longest of its batch with zeros, not by reflection, which changes its last 2 frames, and the
    shards batch differently; on the mini corpus that moves the means and stds by < 1e-3.
    """
    a, b = np.load(ours), np.load(reference)
    assert int(a["count"]) == int(b["count"]) > 0, (ours, int(a["count"]), int(b["count"]))
    rtol = 1e-5 if ours.name == "au_stats.npz" else 1e-3
    mean_a, mean_b = a["sum"] / a["count"], b["sum"] / b["count"]
    std_a = np.sqrt(a["sum_square"] / a["count"] - mean_a**2)
    std_b = np.sqrt(b["sum_square"] / b["count"] - mean_b**2)
    np.testing.assert_allclose(mean_a, mean_b, rtol=rtol, atol=rtol, err_msg=f"{ours} mean")
    np.testing.assert_allclose(std_a, std_b, rtol=rtol, err_msg=f"{ours} std")


def test_stage2_through_slurm_equals_local_and_survives_cancelled_jobs(slurm_partition, recipe):
    recipe = recipe(*(f"{d}/{s}/au.scp" for d in ("dump",) for s in SETS), "data/train/video.scp")
    run_dir = make_run_dir(recipe, "stage2", ["data"])
    journal = run_dir / "dump" / "train" / ".work" / "journal.jsonl"
    tracked = len(read_kaldi_map(recipe / "data" / "train" / "video.scp"))
    proc, log = start_recipe(run_dir, "--stage", "2", "--stop-stage", "2")
    # While the training set's face tracking runs on the SLURM workers, cancel all of them.
    cancelled, done_at_cancel = [], None
    deadline = time.monotonic() + 180
    while proc.poll() is None and time.monotonic() < deadline and not cancelled:
        done = sum(r.get("extractor") == "mediapipe" for r in read_journal(journal).values())
        jobs = worker_jobs(slurm_partition) if done else []
        if jobs and done < tracked:
            subprocess.run(["scancel", *jobs], check=True, timeout=30)
            cancelled, done_at_cancel = jobs, done
        time.sleep(0.2)
    text = finish(proc, log, timeout=300)
    assert cancelled, f"the run ended before a worker job could be cancelled ({log})"
    assert 0 < done_at_cancel < tracked
    train_log = (run_dir / "exp" / "au_labels" / "train.log").read_text()
    assert "submitting replacements" in train_log, train_log[-3000:]
    # Complete and equal to the local run, for every set.
    for dset in SETS:
        ours, reference = run_dir / "dump" / dset, recipe / "dump" / dset
        assert assert_same_aus(run_dir, recipe, f"dump/{dset}/au.scp") > 0
        assert sorted(read_kaldi_map(ours / "wav.scp")) == sorted(
            read_kaldi_map(reference / "wav.scp")
        )
        columns = ("extractor", "frames", "missing_frames", "decision")
        ours_report, ref_report = (read_report(d / "au_report.tsv") for d in (ours, reference))
        assert ours_report.keys() == ref_report.keys()
        for key, row in ref_report.items():
            assert [ours_report[key][c] for c in columns] == [row[c] for c in columns], key
    # The workers were SLURM jobs, with their logs under exp/: the cancelled ones and others.
    logs = {p.name for p in (run_dir / "exp" / "dask_logs").glob("dask-worker-*.err")}
    assert {f"dask-worker-{job}.err" for job in cancelled} <= logs, (cancelled, logs)
    assert len(logs) > len(cancelled), logs
    assert "stage 2 finished" in text


def test_stage5_through_slurm_equals_local(slurm_partition, recipe):
    recipe = recipe(
        "dump/test/wav.scp", "exp/cause_ci/model.zip", "exp/cause_ci/score_test/scores.json"
    )
    run_dir = make_run_dir(recipe, "stage5", ["dump", "exp/cause_ci/model.zip"])
    proc, log = start_recipe(run_dir, "--stage", "5", "--stop-stage", "5")
    finish(proc, log, timeout=180)
    ours = run_dir / "exp" / "cause_ci"
    reference = recipe / "exp" / "cause_ci"
    assert assert_same_aus(run_dir, recipe, "exp/cause_ci/infer_test/au.scp") > 0
    a = json.loads((ours / "score_test" / "scores.json").read_text())["systems"]["model"]["mean"]
    b = json.loads((reference / "score_test" / "scores.json").read_text())["systems"]["model"][
        "mean"
    ]
    assert a.keys() == b.keys() and all(abs(a[k] - b[k]) <= 1e-4 for k in a), (a, b)
    assert list((run_dir / "exp" / "dask_logs").glob("dask-worker-*.err"))


def test_stage3_in_slurm_jobs_equals_one_job(slurm_partition, recipe):
    recipe = recipe("dump/train/au.scp", "exp/stats/train/feats_stats.npz")
    run_dir = make_run_dir(recipe, "stage3", ["dump"])
    proc, log = start_recipe(run_dir, "--stage", "3", "--stop-stage", "3", "--stats_nj", "2")
    finish(proc, log, timeout=240)
    ours, reference = run_dir / "exp" / "stats", recipe / "exp" / "stats"
    assert len(list((ours / "split2").glob("stats.*.log"))) == 2
    for mode in ("train", "valid"):
        for name in ("feats_stats.npz", "au_stats.npz"):
            assert_same_stats(ours / mode / name, reference / mode / name)
        for name in ("speech_shape", "au_shape"):
            lines = sorted((reference / mode / name).read_text().splitlines())
            assert sorted((ours / mode / name).read_text().splitlines()) == lines and lines


@pytest.fixture(autouse=True)
def _no_jobs_left(slurm_partition):
    """Each test leaves no worker job behind."""
    yield
    for _ in range(60):
        if not worker_jobs(slurm_partition):
            return
        time.sleep(1)
    pytest.fail(f"worker jobs still running after 60 s:\n{slurm_state()}")


def test_cause_training_as_two_slurm_tasks(slurm_partition, recipe):
    """ESPnet's ``--dist_launcher slurm`` on CPU: srun starts 2 ranks (gloo) of one DDP training.

    ESPnet takes world size, master address and local rank from srun's environment. Its node
    rank check allows one task per node (``--multiprocessing_distributed true``, where each task
    spawns ``--ngpu`` processes: GPUs only), so each CPU task passes ``--dist_rank
    $SLURM_PROCID`` itself.
    """
    recipe = recipe("dump/train/au.scp", "exp/stats/train/speech_shape")
    import socket

    out = recipe / "exp" / "slurm" / "ddp"
    shutil.rmtree(out, ignore_errors=True)
    with socket.socket() as s:  # a free port for the ranks' rendezvous
        s.bind(("", 0))
        port = s.getsockname()[1]
    dump, stats = recipe / "dump", recipe / "exp" / "stats"
    cmd = ["srun", "-p", slurm_partition, "-n", "2", "-c", "1", "--mem-per-cpu", "2G",
           "--kill-on-bad-exit=1", "bash", "-c", 'exec "$@" --dist_rank "$SLURM_PROCID"', "-",
           sys.executable, "-m", "espnet_cause.bin.cause_train",
           "--config", str(recipe / "conf" / "cause_ci.yaml"), "--output_dir", str(out),
           "--max_epoch", "1", "--num_workers", "0",
           "--ngpu", "0", "--dist_launcher", "slurm", "--multiprocessing_distributed", "false",
           "--dist_backend", "gloo", "--dist_master_port", str(port),
           "--normalize_conf", f"stats_file={stats}/train/feats_stats.npz",
           "--au_normalize_conf", f"stats_file={stats}/train/au_stats.npz"]  # fmt: skip
    for mode, dset in (("train", "train"), ("valid", "valid")):
        cmd += [f"--{mode}_data_path_and_name_and_type", f"{dump}/{dset}/wav.scp,speech,sound"]
        cmd += [f"--{mode}_data_path_and_name_and_type", f"{dump}/{dset}/au.scp,au,kaldi_ark"]
        cmd += [f"--{mode}_shape_file", f"{stats}/{mode}/speech_shape"]
    out.mkdir(parents=True)
    log = out / "srun.log"
    out_file = open(log, "w")  # noqa: SIM115 (closed by finish)
    # The dumps hold paths relative to the recipe directory.
    proc = subprocess.Popen(
        cmd, cwd=recipe, stdout=out_file, stderr=subprocess.STDOUT, start_new_session=True
    )
    proc.log_file = out_file
    finish(proc, log, timeout=240)
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["distributed"] is True and config["dist_launcher"] == "slurm", config
    assert (out / "1epoch.pth").is_file() and (out / "valid.loss.best.pth").is_file()
