#!/usr/bin/env bash
# Stops the dockerd that hack/image/ensure-docker.sh started, and only that one: a Docker engine
# that was already running (a system service, someone else's) is left alone. Images stay on disk.
set -euo pipefail
source "$(dirname "$0")/common.sh"

marker="$state/started-by-golden"
[[ -f "$marker" ]] || exit 0
pid="$(cat "$marker")"
if [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dockerd ]]; then
  echo "stopping dockerd (pid $pid)" >&2
  kill -TERM "$pid"
  for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then echo "dockerd $pid still running after 30 s" >&2; exit 1; fi
fi
rm -f "$marker"
