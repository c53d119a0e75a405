#!/usr/bin/env bash
# Runs golden-operator against the local cluster: `start` in the background (idempotent; logs in
# .cluster/logs/golden-operator.log), or `foreground`. Build pods are steered to the real node
# (golden.dev/real-node=true), whose containerd runs them from the golden image; there is no arm64
# node, so arm64 Images build emulated on it (--arm64-placement=emulated).
set -euo pipefail
source "$(dirname "$0")/cluster/common.sh"
HEALTH_PORT="${GOLDEN_OPERATOR_HEALTH_PORT:-18081}"
export GOLDEN_HEALTH_PORT="${GOLDEN_HEALTH_PORT:-$HEALTH_PORT}"
export GOLDEN_WORKER_NODE_SELECTOR="${GOLDEN_WORKER_NODE_SELECTOR:-golden.dev/real-node=true}"
export GOLDEN_ARM64_PLACEMENT="${GOLDEN_ARM64_PLACEMENT:-emulated}"
# The visibility API needs an APIService and Service pointing at this host: off unless asked for.
export GOLDEN_VISIBILITY_PORT="${GOLDEN_VISIBILITY_PORT:-0}"
node="$("$repo/hack/ensure-node.sh")/node"
# The bundle and the memory settings the Deployment runs with (config/manager/manager.yaml).
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-131072}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-131072}"
cmd=("$node" --max-old-space-size=384 --max-semi-space-size=2 "$repo/dist/bundle/operator.mjs")

case "${1:-start}" in
  foreground)
    exec "${cmd[@]}" "${@:2}"
    ;;
  start)
    mkdir -p "$logs" "$pids"
    if pid_alive golden-operator; then
      log "golden-operator already running (pid $(cat "$pids/golden-operator.pid"))"
    else
      log "starting golden-operator (logs: $logs/golden-operator.log)"
      KUBECONFIG="$kubeconfig" setsid "${cmd[@]}" >>"$logs/golden-operator.log" 2>&1 </dev/null &
      echo $! >"$pids/golden-operator.pid"
    fi
    for _ in $(seq 1 120); do
      if curl -sf "http://127.0.0.1:$GOLDEN_HEALTH_PORT/readyz" >/dev/null; then log "golden-operator ready"; exit 0; fi
      pid_alive golden-operator || { log "golden-operator exited:"; tail -5 "$logs/golden-operator.log" >&2; exit 1; }
      sleep 0.5
    done
    log "golden-operator not ready after 60 s; see $logs/golden-operator.log"
    exit 1
    ;;
  stop)
    if pid_alive golden-operator; then kill -TERM "$(cat "$pids/golden-operator.pid")"; fi
    ;;
  *)
    echo "usage: $0 start|stop|foreground [operator flags]" >&2
    exit 2
    ;;
esac
