#!/usr/bin/env bash
# Starts a private one-node Slurm cluster for the tests: its own munge key and socket, its own
# slurm.conf, ports and state under DIR, so it touches no system Slurm or munge that may be running.
# usage: start.sh DIR CTLD_PORT SLURMD_PORT   (as root). Stop it with stop.sh DIR.
# Afterwards: export SLURM_CONF=DIR/slurm.conf for sbatch/squeue/sinfo.
set -euo pipefail
dir=$(realpath "$1")
ctld_port=$2
slurmd_port=$3
mkdir -p "$dir"/{state,spool,log,munge}
chmod 700 "$dir/munge"

mungekey --create --keyfile="$dir/munge/munge.key"
chmod 400 "$dir/munge/munge.key"
munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
  --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed"

node=$(hostname -s)
mem_mib=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
cat >"$dir/slurm.conf" <<CONF
ClusterName=nsttest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem_mib State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF

export SLURM_CONF=$dir/slurm.conf
slurmctld -c -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 1 120); do
  state=$(sinfo -h -o %T 2>/dev/null || true)
  if [[ $state == idle* ]]; then exit 0; fi
  sleep 0.5
done
echo "slurm did not come up (node state: '${state:-none}'); logs in $dir/log" >&2
tail -n 20 "$dir"/log/*.log >&2 || true
exit 1
