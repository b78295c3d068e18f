#!/usr/bin/env bash
# Stops the daemons start.sh started in DIR, by the pids in their pid files (never by name).
# usage: stop.sh DIR
set -uo pipefail
dir=$1
pids=()
for f in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
  [[ -s $f ]] && pids+=("$(cat "$f")")
done
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
for _ in $(seq 1 50); do
  alive=0
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
  ((alive)) || exit 0
  sleep 0.2
done
for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
exit 0
