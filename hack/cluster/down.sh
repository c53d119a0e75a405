#!/usr/bin/env bash
# Stops every process the local cluster scripts started (by recorded pid, nothing else) and
# removes the cluster's state. The built binaries stay cached.
set -euo pipefail
source "$(dirname "$0")/common.sh"

# Reverse start order: clients first, etcd last.
for name in golden-operator local-runner kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
  f="$pids/$name.pid"
  [[ -f "$f" ]] || continue
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
done
# Worker processes the runner started record their pids too.
if [[ -d "$state/runner/pids" ]]; then
  for f in "$state/runner/pids"/*.pid; do
    [[ -f "$f" ]] || continue
    kill -KILL "$(cat "$f")" 2>/dev/null || true
  done
fi
rm -rf "$state"
# The bridge is the cluster's own (up.sh made it); nothing else uses it.
ip link del "$NODE_BRIDGE" 2>/dev/null || true
log "cluster down"
