#!/usr/bin/env bash
# Scale-out on a real scheduler: a single-node SLURM cluster (.ci/slurm/up.sh, as root), then the
# recipe's stages 2, 3 and 5 through it, checked against part 30's local run (tests/cluster:
# same keys, AUs within 1e-5, equal statistics; every worker job of stage 2 is cancelled mid-run
# and the run still completes). The cluster is torn down however this ends.
set -euo pipefail
start=$(date +%s)
stamp() { echo "40-slurm: $* ($(( $(date +%s) - start )) s)"; }
trap 'bash .ci/slurm/down.sh; stamp "cluster down"' EXIT
bash .ci/slurm/up.sh
stamp "cluster up"
.venv/bin/python -m pytest -q tests/cluster --durations=0
stamp "stages 2, 3 and 5 through SLURM equal the local run"
