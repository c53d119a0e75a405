#!/usr/bin/env bash
# Restarts a component the cluster scripts started, with the same command line but some flags
# changed: restart.sh <name> [--flag value]... (a flag not on the command line is appended).
# The benchmark uses it to delay KWOK's pod-complete stage and to give the Job controller a
# larger client budget for its queued scenario.
set -euo pipefail
source "$(dirname "$0")/common.sh"
name="$1"; shift
pid_alive "$name" || { log "$name is not running"; exit 1; }
pid="$(cat "$pids/$name.pid")"
mapfile -d '' args <"/proc/$pid/cmdline"
while (($# >= 2)); do
  flag="$1" value="$2"; shift 2
  found=0
  for i in "${!args[@]}"; do
    if [[ "${args[$i]}" == "$flag" ]]; then args[i + 1]="$value"; found=1; fi
  done
  ((found)) || args+=("$flag" "$value")
done
log "restarting $name: ${args[*]:1}"
kill -TERM "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$pid" 2>/dev/null || true
setsid "${args[@]}" >>"$logs/$name.log" 2>&1 </dev/null &
echo $! >"$pids/$name.pid"
sleep 1
pid_alive "$name" || { log "$name did not restart; see $logs/$name.log"; exit 1; }
