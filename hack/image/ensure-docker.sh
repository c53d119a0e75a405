#!/usr/bin/env bash
# Makes sure a Docker engine answers, like ensure-node.sh does for Node: when `docker info` fails,
# installs Debian's docker.io if dockerd is missing, then starts dockerd in the background with its
# pid and log in ~/.cache/golden/docker/ and records that golden started it, so that
# hack/image/stop-docker.sh stops that dockerd and nothing else. Prints the docker CLI to use
# (one that builds with BuildKit: common.sh).
set -euo pipefail
source "$(dirname "$0")/common.sh"

engine_up() {
  local c
  for c in ${DOCKER:-} docker /usr/bin/docker; do
    command -v "$c" >/dev/null 2>&1 && "$c" info >/dev/null 2>&1 && return 0
  done
  return 1
}

if ! engine_up; then
  if ! command -v dockerd >/dev/null 2>&1; then
    if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
      echo "no Docker engine and no dockerd: install Docker (as root on Debian: apt-get install docker.io)" >&2
      exit 1
    fi
    echo "installing Debian's docker.io" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >"$state/apt.log" 2>&1 ||
      { apt-get update -q >>"$state/apt.log" 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >>"$state/apt.log" 2>&1; } ||
      { echo "apt-get install docker.io failed; see $state/apt.log" >&2; exit 1; }
  fi
  if [[ $EUID -ne 0 ]]; then
    echo "dockerd is installed but not running, and starting it needs root" >&2
    exit 1
  fi
  echo "starting dockerd (log: $state/dockerd.log)" >&2
  # Defaults work here (overlay2, cgroupfs, iptables via nf_tables, bridge docker0).
  # GOLDEN_DOCKERD_FLAGS adds flags, e.g. "--iptables=false --bridge=none" where iptables is missing.
  # shellcheck disable=SC2086
  setsid dockerd --pidfile "$state/dockerd.pid" ${GOLDEN_DOCKERD_FLAGS:-} \
    >>"$state/dockerd.log" 2>&1 </dev/null &
  echo "$!" >"$state/started-by-golden"
  for _ in $(seq 60); do
    engine_up && break
    if ! kill -0 "$(cat "$state/started-by-golden")" 2>/dev/null; then
      rm -f "$state/started-by-golden"
      echo "dockerd exited; last lines of $state/dockerd.log:" >&2
      tail -n 20 "$state/dockerd.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  engine_up || { echo "dockerd did not answer within 30 s" >&2; exit 1; }
  # dockerd's own pid (setsid may have forked), for stop-docker.sh.
  if [[ -s "$state/dockerd.pid" ]]; then cp "$state/dockerd.pid" "$state/started-by-golden"; fi
fi
pick_docker
