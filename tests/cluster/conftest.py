"""Live tests on a running SLURM cluster and the recipe's local results.

They need what a clean clone does not have: a SLURM cluster (``.ci/slurm/up.sh`` brings up one
as root) and the outputs of the local recipe run (``egs/cause/cause1/run.sh`` stages 1-5, as CI
part 30 leaves them). So ``make test`` (pytest over ``tests/``) does not collect them at all, and
CI part 40 runs them explicitly, after ``up.sh``: ``python -m pytest tests/cluster``. Run that
way without a cluster or without the recipe outputs they fail, naming what is missing; they are
never skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
#: The recipe whose local results are the reference (ESPNET_CAUSE_RECIPE overrides).
RECIPE = Path(os.environ.get("ESPNET_CAUSE_RECIPE", REPO / "egs" / "cause" / "cause1"))
#: The Dask/SLURM config of the CI cluster.
SLURM_CONF = REPO / "conf" / "parallel" / "slurm_ci.yaml"


def pytest_ignore_collect(collection_path, config):
    """Collect this directory only when it (or a file in it) is named on the command line."""
    base = Path(config.invocation_params.dir)
    for arg in config.args:
        asked = (base / arg.split("::")[0]).resolve()
        if asked == HERE or HERE in asked.parents:
            return None
    return True


@pytest.fixture(scope="session")
def slurm_partition() -> str:
    """The partition of ``slurm_ci.yaml``, checked to have an idle node."""
    partition = yaml.safe_load(SLURM_CONF.read_text())["options"]["queue"]
    if shutil.which("sinfo") is None:
        pytest.fail("no SLURM here (sinfo not found); bring one up with: sudo .ci/slurm/up.sh")
    run = subprocess.run(
        ["sinfo", "-h", "-p", partition, "-o", "%T"], capture_output=True, text=True, timeout=30
    )
    states = run.stdout.split()
    if run.returncode != 0 or "idle" not in states:
        pytest.fail(
            f"SLURM partition {partition!r} has no idle node ({run.stdout.strip() or run.stderr}); "
            "bring the cluster up with: sudo .ci/slurm/up.sh"
        )
    return partition


@pytest.fixture(scope="session")
def recipe():
    """``recipe(*paths)``: the recipe directory, failing unless the local run left ``paths``."""

    def require(*paths: str) -> Path:
        missing = [p for p in paths if not (RECIPE / p).exists()]
        if missing:
            pytest.fail(
                f"{RECIPE}: the local recipe results are missing ({', '.join(missing)}); "
                f"run: cd {RECIPE} && ./run.sh --stop-stage 5"
            )
        return RECIPE

    return require
