"""Cluster configs: every conf/parallel/*.yaml builds its cluster and job script; lost workers."""

import sys
from pathlib import Path

import pytest

from espnet_cause.jobs.parallel import _future_record, _replace_lost_workers, load_parallel_config

pytest.importorskip("dask_jobqueue")

CONFS = sorted((Path(__file__).resolve().parents[1] / "conf" / "parallel").glob("*.yaml"))
#: How each scheduler's job script spells a directive and the queue option.
DIRECTIVES = {"slurm": ("#SBATCH", "-p {}"), "pbs": ("#PBS", "-q {}"), "sge": ("#$", "-q {}")}


def test_all_known_configs_are_tested():
    assert {c.stem for c in CONFS} >= {"local", "slurm", "slurm_ci", "pbs", "sge"}


@pytest.mark.parametrize("conf", CONFS, ids=lambda c: c.name)
def test_config_builds_its_cluster_and_job_script(conf, tmp_path, monkeypatch):
    from espnet3.parallel.parallel import CLUSTER_MAP

    monkeypatch.chdir(tmp_path)  # log_directory (exp/dask_logs) is created relative to here
    config = load_parallel_config(conf)
    assert int(config.n_workers) >= 1
    options = dict(config.options)
    if config.env == "local":
        from dask.distributed import Client, LocalCluster

        with LocalCluster(n_workers=1, **options) as cluster, Client(cluster) as client:
            assert client.submit(sum, [1, 2]).result() == 3
        return
    assert config.env in DIRECTIVES, f"{conf}: no job-script check for env {config.env}"
    prefix, queue = DIRECTIVES[config.env]
    # The cluster object espnet3.parallel builds; its scheduler starts, nothing is submitted.
    with CLUSTER_MAP[config.env](**options) as cluster:
        script = cluster.job_script()
        scheduler = cluster.scheduler_address
    directives = [line for line in script.splitlines() if line.startswith(prefix)]
    assert any(line.endswith(queue.format(options["queue"])) for line in directives), script
    assert any(options["walltime"] in line for line in directives), script
    assert any(f"{options['log_directory']}/" in line for line in directives), script
    assert Path(options["log_directory"]).is_dir()
    worker = script.strip().splitlines()[-1]
    assert worker.startswith(f"{sys.executable} -m distributed.cli.dask_worker {scheduler}")
    assert f"--nthreads {options['cores']}" in worker and "--memory-limit" in worker, worker


class FakeCluster:
    """The two dicts of a dask SpecCluster that the runner reads, and scale()."""

    def __init__(self, n):
        self.worker_spec = {f"w{i}": {} for i in range(n)}
        self.workers = {}
        self.scaled = []

    def scale(self, n):
        self.scaled.append(n)
        while len(self.worker_spec) < n:
            self.worker_spec[f"w{len(self.worker_spec) + len(self.scaled) * 10}"] = {}


def test_lost_workers_are_replaced_and_pending_ones_are_not():
    cluster, seen = FakeCluster(3), set()
    # Jobs still queued (specs without workers) are not lost.
    assert _replace_lost_workers(cluster, 3, seen) == [] and cluster.scaled == []
    cluster.workers = {"w0": object(), "w1": object(), "w2": object()}
    assert _replace_lost_workers(cluster, 3, seen) == []
    del cluster.workers["w1"]  # dask dropped it after its job was cancelled
    assert _replace_lost_workers(cluster, 3, seen) == ["w1"]
    assert (
        cluster.scaled == [3] and len(cluster.worker_spec) == 3 and "w1" not in cluster.worker_spec
    )
    assert _replace_lost_workers(cluster, 3, seen) == []  # the replacement is pending, not lost
    assert _replace_lost_workers(object(), 3, set()) == []  # not a SpecCluster: left alone


class LostResult:
    """A finished future whose result was on a worker that died: it comes back after recompute."""

    def __init__(self, timeouts):
        self.timeouts = timeouts
        self.waits = []

    def result(self, timeout=None):
        self.waits.append(timeout)
        if len(self.waits) <= self.timeouts:
            raise TimeoutError(f"timed out after {timeout} s.")
        return {"key": "a", "status": "ok"}


def test_fetching_a_lost_result_keeps_replacing_workers():
    # With every worker cancelled, the item only runs again once replacements are submitted; the
    # fetch must not block them (it did: the CI's stage 2 hung after the scancel).
    future, checks = LostResult(timeouts=2), []
    assert _future_record(future, "a", lambda: checks.append(1)) == {"key": "a", "status": "ok"}
    assert len(checks) == 2 and all(t is not None and t > 0 for t in future.waits), future.waits
