#!/usr/bin/env bash
# Bring up a single-node SLURM cluster on this machine (as root; containers without systemd are fine):
# installs Debian's slurm-wlm and munge if needed, writes /etc/slurm/slurm.conf for this host
# (partition "ci", 2 CPUs, no cgroups: proctrack/linuxproc, task/none, select/cons_tres), starts
# munged, slurmctld and slurmd, and waits until `sinfo` shows the node idle.
#   .ci/slurm/up.sh            # then: sinfo; sbatch ...; .ci/slurm/down.sh
# Environment: SLURM_CI_CPUS (2) CPUs of the node, SLURM_CI_PARTITION (ci), SLURM_CI_DIR
# (/var/lib/espnet-cause-slurm) for state, spool, pid and log files.
set -euo pipefail
cpus=${SLURM_CI_CPUS:-2}
partition=${SLURM_CI_PARTITION:-ci}
dir=${SLURM_CI_DIR:-/var/lib/espnet-cause-slurm}
conf=/etc/slurm/slurm.conf
marker="# written by espnet-cause .ci/slurm/up.sh"

[ "$(id -u)" -eq 0 ] || { echo "up.sh: must run as root (it installs packages and starts daemons)" >&2; exit 2; }
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
    echo "up.sh: installing slurm-wlm and munge from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq -o DPkg::Lock::Timeout=120
    apt-get install -y -qq -o DPkg::Lock::Timeout=120 --no-install-recommends slurm-wlm munge >/dev/null
fi
if [ -f "${conf}" ] && ! grep -qF "${marker}" "${conf}"; then
    echo "up.sh: ${conf} exists and was not written by this script; not touching it" >&2
    echo "fix: move it away, or use that cluster directly" >&2
    exit 2
fi

host=$(hostname -s)
# Memory the node offers jobs: what slurmd detects, minus 1 GB for the system.
mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
mem=$(( mem > 2048 ? mem - 1024 : mem ))
mkdir -p "${dir}"/{state,spool,log}
cat > "${conf}" <<CONF
${marker}
ClusterName=espnet-cause-ci
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
SlurmctldLogFile=${dir}/log/slurmctld.log
SlurmdLogFile=${dir}/log/slurmd.log
# No systemd and no cgroup delegation in a container: track processes by /proc, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MailProg=/bin/true
SchedulerType=sched/backfill
# Cancelled jobs disappear fast, so tests see the queue as it is.
MinJobAge=5
KillWait=5
InactiveLimit=0
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=${partition} Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF

# munged as the munge user, with the key the package generated (or a new one).
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
chmod 0755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
    chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
fi
if ! munge -n </dev/null >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
fi
for _ in $(seq 50); do munge -n </dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.2; done
munge -n </dev/null | unmunge >/dev/null || { echo "up.sh: munged does not answer (see /var/log/munge/munged.log)" >&2; exit 1; }

# -R: recover nothing from an earlier run's state (a clean cluster each time).
pgrep -F "${dir}/slurmctld.pid" >/dev/null 2>&1 || slurmctld -R -f "${conf}"
pgrep -F "${dir}/slurmd.pid" >/dev/null 2>&1 || slurmd -f "${conf}"
for _ in $(seq 60); do
    state=$(sinfo -h -N -n "${host}" -o %T 2>/dev/null || true)
    [ "${state}" = idle ] && break
    sleep 1
done
if [ "${state}" != idle ]; then
    echo "up.sh: node ${host} is '${state:-not answering}', not idle after 60 s" >&2
    bash "$(dirname "$0")/state.sh" >&2
    exit 1
fi
sinfo
echo "up.sh: SLURM up: node ${host} idle, partition ${partition}, ${cpus} CPUs, ${mem} MB (logs ${dir}/log)"
