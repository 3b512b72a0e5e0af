#!/usr/bin/env bash
# Print what the single-node SLURM cluster of .ci/slurm/up.sh looks like now, for a failure or a
# timeout to explain itself: sinfo, squeue (with the reason a job is pending), the node, the tails
# of the slurmctld/slurmd logs, and the tails of the Dask worker job logs under the given folders.
#   .ci/slurm/state.sh [DIR ...]    # e.g. egs/cause/cause1/exp/slurm
# Never fails (it is called when something already did).
set -u
dir=${SLURM_CI_DIR:-/var/lib/espnet-cause-slurm}
section() { echo "----- slurm state: $*"; }
section "sinfo"
timeout 10 sinfo -N -o "%N %P %T %C %m %E" 2>&1
section "squeue (state, reason)"
timeout 10 squeue -o "%i %j %T %M %R" 2>&1
section "scontrol show node"
timeout 10 scontrol show node 2>&1 | grep -E "NodeName|State|CPUAlloc|RealMemory|AllocMem|Reason" || true
for log in "${dir}"/log/slurmctld.log "${dir}"/log/slurmd.log; do
    [ -f "${log}" ] && { section "tail ${log}"; tail -n 15 "${log}"; }
done
for root in "$@"; do
    [ -d "${root}" ] || continue
    find "${root}" -path '*dask_logs/*.err' -newermt '-30 minutes' -printf '%T@ %p\n' 2>/dev/null |
        sort -n | tail -n 6 | cut -d' ' -f2- |
        while read -r log; do section "tail ${log}"; tail -n 12 "${log}"; done
    find "${root}" -maxdepth 2 -name run.log 2>/dev/null | sort |
        while read -r log; do section "tail ${log}"; tail -c 1500 "${log}" | tr '\r' '\n' | tail -n 12; done
done
exit 0
