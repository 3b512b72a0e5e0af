#!/usr/bin/env bash
# Scale-out on a real scheduler: a single-node SLURM cluster (.ci/slurm/up.sh, as root), then the
# recipe's stages 2, 5 and 3 and a 2-task CAUSE training through it, checked against part 30's
# local run (tests/cluster: same keys, AUs within 1e-5, equal statistics; every worker job of
# stage 2 is cancelled mid-run and the run still completes). Each step has a time limit and prints
# its time; a failure or a timeout prints the cluster's state (.ci/slurm/state.sh: sinfo, squeue
# with pending reasons, daemon and worker job logs). The cluster is torn down however this ends.
set -euo pipefail
start=$(date +%s)
stamp() { echo "40-slurm: $* ($(( $(date +%s) - start )) s)"; }
# One machine has one SLURM cluster (/etc/slurm, the daemons): CI runs of other checkouts at the
# same time take turns here, so that one's teardown cannot pull the cluster from under another.
exec 9>/var/lock/espnet-cause-slurm-ci.lock
if ! flock -w 1200 9; then
    echo "40-slurm: another CI run held the SLURM cluster for 20 min" >&2
    bash .ci/slurm/state.sh >&2
    exit 1
fi
stamp "cluster lock taken"
trap 'bash .ci/slurm/down.sh; stamp "cluster down"' EXIT
timeout -k 10 180 bash .ci/slurm/up.sh 9>&-  # the daemons must not hold the lock
stamp "cluster up"
step() {  # step LIMIT_S TEST: one test of tests/cluster/test_slurm_recipe.py, at most LIMIT_S
    local t0 rc=0
    t0=$(date +%s)
    timeout -k 20 "$1" .venv/bin/python -m pytest -q -p no:cacheprovider \
        "tests/cluster/test_slurm_recipe.py::$2" || rc=$?
    if [ "${rc}" -ne 0 ]; then
        [ "${rc}" -eq 124 ] && echo "40-slurm: $2 exceeded its $1 s" >&2
        bash .ci/slurm/state.sh egs/cause/cause1/exp/slurm >&2
        exit "${rc}"
    fi
    stamp "$2 passed in $(( $(date +%s) - t0 )) s"
}
# The tests' own limits are shorter (they kill the run and print the cluster state themselves).
step 540 test_stage2_through_slurm_equals_local_and_survives_cancelled_jobs
step 240 test_stage5_through_slurm_equals_local
step 300 test_stage3_in_slurm_jobs_equals_one_job
step 300 test_cause_training_as_two_slurm_tasks
