#!/usr/bin/env bash
# A single-node SLURM cluster on localhost, for trying the workflow's SLURM profile (and for the
# tests marked `slurm`, which start the same cluster themselves when these programs exist).
#
#   sudo apt-get install -y slurm-wlm munge          # Debian/Ubuntu, as root
#   pip install snakemake-executor-plugin-slurm
#   bench/slurm_local.sh start /tmp/slurm            # prints: export SLURM_CONF=...
#   bench/slurm_local.sh stop /tmp/slurm
#
# Everything (munge key and socket, slurm.conf, spool and state folders, logs, pid files) lives
# under the folder given; nothing in /etc is changed (slurmd, configless, caches the config in
# /run/slurm/conf; munged's socket is its default, /run/munge). Run as root (slurmd starts jobs).
set -euo pipefail
action=${1:?usage: slurm_local.sh start|stop FOLDER}
root=$(mkdir -p "${2:?usage: slurm_local.sh start|stop FOLDER}" && cd "$2" && pwd)

stop() {
  for daemon in slurmd slurmctld munged; do
    if [[ -f "$root/$daemon.pid" ]]; then
      kill "$(cat "$root/$daemon.pid")" 2>/dev/null || true
      rm -f "$root/$daemon.pid"
    fi
  done
}

if [[ $action == stop ]]; then
  stop
  exit 0
fi

mkdir -p "$root"/{munge,spool,state,log}
chmod 700 "$root/munge"
[[ -f $root/munge/munge.key ]] || dd if=/dev/urandom of="$root/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$root/munge/munge.key"
cpus=$(nproc)
memory=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
port=$((20000 + RANDOM % 20000))
cat > "$root/slurm.conf" <<CONF
ClusterName=litreview-local
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$root/state
SlurmdSpoolDir=$root/spool
SlurmctldPidFile=$root/slurmctld.pid
SlurmdPidFile=$root/slurmd.pid
SlurmctldLogFile=$root/log/slurmctld.log
SlurmdLogFile=$root/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
InactiveLimit=0
# configless: slurmd fetches this file from slurmctld and keeps it in /run/slurm/conf, where
# srun inside a job finds it (Snakemake's jobstep executor clears SLURM_CONF)
SlurmctldParameters=enable_configless
KillWait=5
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
stop
mkdir -p /run/munge  # munge's default socket: configless slurmd knows no other before it has the config
munged --key-file="$root/munge/munge.key" \
  --pid-file="$root/munged.pid" --log-file="$root/log/munged.log" \
  --seed-file="$root/munge/munge.seed" --force
export SLURM_CONF=$root/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd --conf-server "localhost:$port"
for _ in $(seq 1 60); do
  if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.5
done
echo "slurm_local.sh: the node did not come up; see $root/log/" >&2
stop
exit 1
