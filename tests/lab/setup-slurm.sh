#!/usr/bin/env bash
# A real one-node SLURM cluster on this machine (Debian 12, as root): munge, slurmctld and
# slurmd from Debian's packages, a partition "debug" holding this host. Idempotent: a second
# run finds the daemons up and only checks them.
#
# The client programs (sbatch, srun, squeue, scontrol, ...) are moved out of /usr/bin into
# $SLURM_LAB_BIN (default /opt/venvoy-lab/slurm/bin), because `sbatch` on PATH is itself
# evidence of an HPC system: tests that want SLURM put that folder first on PATH, and every
# other test keeps seeing a workstation.
#
# The partition oversubscribes its cores (OverSubscribe=FORCE:8): eight array tasks start at
# the same moment even on a 2-core machine, which is what the job-array tests need to prove
# (eight `venvoy run` sessions of one environment at once).
#
# Usage: bash setup-slurm.sh            # set up and smoke-test (sbatch --wait of one job)
#        SLURM_LAB_BIN=/some/dir bash setup-slurm.sh
# Verified on Debian 12 (slurm 22.05.8, 2 cores): cold about 40 s, warm about 2 s.
set -euo pipefail
BIN=${SLURM_LAB_BIN:-/opt/venvoy-lab/slurm/bin}
CLIENTS=(sbatch srun salloc squeue scancel scontrol sinfo sacct sattach sstat)
say() { printf '[setup-slurm %5ss] %s\n' "$SECONDS" "$*"; }

[[ $(id -u) == 0 ]] || { say "must run as root"; exit 1; }

if [[ ! -x /usr/sbin/slurmctld || ! -x /usr/sbin/slurmd || ! -x /usr/sbin/munged ]] \
   || [[ ! -x $BIN/sbatch && ! -x /usr/bin/sbatch ]]; then
  say "installing slurm-wlm and munge"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurm-wlm munge >/dev/null
  [[ -x /usr/bin/sbatch || -x $BIN/sbatch ]] || apt-get install -y -qq --reinstall slurm-client >/dev/null
fi

# The clients live in $BIN, never in /usr/bin (see above). A package upgrade puts them back:
# move them again.
mkdir -p "$BIN"
for c in "${CLIENTS[@]}"; do
  if [[ -e /usr/bin/$c && ! -L /usr/bin/$c ]]; then mv -f "/usr/bin/$c" "$BIN/$c"; fi
done

# munge: one key, owned by munge, mode 400
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge /etc/munge
chown -R munge:munge /var/log/munge /var/lib/munge
if [[ ! -s /etc/munge/munge.key ]]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
if ! runuser -u munge -- munge -n </dev/null >/dev/null 2>&1; then
  say "starting munged"
  runuser -u munge -- /usr/sbin/munged
fi

# slurm.conf for this host. proctrack/linuxproc and task/none: no cgroup setup is needed,
# which a container sandbox may not allow. No cgroup.conf at all (22.05 has no "disabled").
host=$(hostname -s)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
rm -f /etc/slurm/cgroup.conf
conf=$(cat <<EOF
ClusterName=venvoylab
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
NodeName=$host CPUs=$(nproc) RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8
EOF
)
if [[ ! -f /etc/slurm/slurm.conf ]] || [[ $(cat /etc/slurm/slurm.conf) != "$conf" ]]; then
  printf '%s\n' "$conf" >/etc/slurm/slurm.conf
  rm -f /var/spool/slurmctld/clustername   # a state folder from another config is not ours
  # a changed config needs fresh daemons: stop the ones this script started, by pid file
  for d in slurmd slurmctld; do
    if [[ -s /run/$d.pid ]]; then kill "$(cat /run/$d.pid)" 2>/dev/null || true; rm -f "/run/$d.pid"; sleep 1; fi
  done
fi

running() { [[ -s /run/$1.pid ]] && kill -0 "$(cat "/run/$1.pid")" 2>/dev/null; }
if ! running slurmctld; then say "starting slurmctld"; /usr/sbin/slurmctld; fi
if ! running slurmd; then say "starting slurmd"; /usr/sbin/slurmd; fi

# wait until the node takes jobs
for _ in $(seq 1 30); do
  state=$("$BIN/sinfo" -h -o '%T' 2>/dev/null | head -1 || true)
  [[ $state == idle || $state == mixed || $state == allocated ]] && break
  if [[ $state == *down* || $state == *drain* ]]; then
    "$BIN/scontrol" update nodename="$host" state=resume 2>/dev/null || true
  fi
  sleep 1
done
say "node $host: ${state:-no answer}"

# smoke: one batch job, waited for
out=$(mktemp)
# shellcheck disable=SC2016  # expanded by the job, not here
if "$BIN/sbatch" --wait --quiet -o "$out" --wrap 'echo "job $SLURM_JOB_ID on $(hostname -s)"' \
   && grep -q "^job [0-9]" "$out"; then
  say "smoke ok: $(cat "$out")"
  rm -f "$out"
else
  say "smoke FAILED; logs: /var/log/slurm/"; rm -f "$out"; exit 1
fi
say "ready: PATH=$BIN:\$PATH sbatch ..."
