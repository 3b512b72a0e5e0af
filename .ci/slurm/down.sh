#!/usr/bin/env bash
# Tear down what .ci/slurm/up.sh started: cancel all jobs, stop slurmd, slurmctld and munged (by
# their pid files), remove the generated slurm.conf and the state directory.
set -uo pipefail
dir=${SLURM_CI_DIR:-/var/lib/espnet-cause-slurm}
conf=/etc/slurm/slurm.conf
marker="# written by espnet-cause .ci/slurm/up.sh"
if [ -f "${conf}" ] && ! grep -qF "${marker}" "${conf}"; then
    echo "down.sh: ${conf} was not written by up.sh; leaving that cluster alone" >&2
    exit 2
fi
command -v scancel >/dev/null && [ -f "${conf}" ] && scancel --full --quiet --user root 2>/dev/null
stop() {  # stop PIDFILE NAME: TERM, wait up to 10 s, then KILL
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 0
    kill -0 "${pid}" 2>/dev/null || return 0
    kill "${pid}"
    for _ in $(seq 50); do kill -0 "${pid}" 2>/dev/null || { echo "down.sh: stopped $2 (${pid})"; return 0; }; sleep 0.2; done
    kill -9 "${pid}" 2>/dev/null; echo "down.sh: killed $2 (${pid})"
}
stop "${dir}/slurmd.pid" slurmd
stop "${dir}/slurmctld.pid" slurmctld
stop /run/munge/munged.pid munged
rm -f "${conf}"
rm -rf "${dir}"
