#!/usr/bin/env bash
# make bench: runs bench/run.ts on a dedicated local control plane (never the developers' default
# .cluster). It brings the cluster up with hack/cluster/up.sh unless one is already running in
# GOLDEN_CLUSTER_DIR, installs the CRDs, delays KWOK's pod-complete stage so build pods end after
# the (simulated) worker reported, runs the benchmark, and takes down only a cluster it started.
#
# Same environment as hack/cluster/*.sh (GOLDEN_CLUSTER_DIR, GOLDEN_*_PORT), with defaults that
# keep clear of the default cluster; BENCH_* variables are described in bench/run.ts.
set -euo pipefail

export GOLDEN_CLUSTER_DIR="${GOLDEN_CLUSTER_DIR:-/tmp/golden-bench}"
export GOLDEN_ETCD_PORT="${GOLDEN_ETCD_PORT:-33790}"
export GOLDEN_ETCD_PEER_PORT="${GOLDEN_ETCD_PEER_PORT:-33800}"
export GOLDEN_APISERVER_PORT="${GOLDEN_APISERVER_PORT:-26443}"
export GOLDEN_KCM_PORT="${GOLDEN_KCM_PORT:-30257}"
export GOLDEN_SCHEDULER_PORT="${GOLDEN_SCHEDULER_PORT:-30259}"
export GOLDEN_KWOK_PORT="${GOLDEN_KWOK_PORT:-30247}"
export GOLDEN_KUBELET_PORT="${GOLDEN_KUBELET_PORT:-30250}"
# Its own bridge and node address (the aggregator reaches the bench's operators there); build pods
# go to KWOK's nodes and the harness plays the workers: no real node.
export GOLDEN_NODE_BRIDGE="${GOLDEN_NODE_BRIDGE:-goldenb0}"
export GOLDEN_NODE_IP="${GOLDEN_NODE_IP:-10.87.0.1}"
export GOLDEN_POD_CIDR="${GOLDEN_POD_CIDR:-10.87.0.0/24}"
export GOLDEN_REAL_NODE="${GOLDEN_REAL_NODE:-0}"
source "$(dirname "$0")/cluster/common.sh"
cd "$repo"
export PATH="$("$repo/hack/ensure-node.sh"):$repo/node_modules/.bin:$PATH"

# Build pods end this long after KWOK starts them: past the mocked build time (5 steps ×
# BENCH_STEP_SECONDS) plus slack for a loaded harness, like a worker's pod exits after it reported.
step_s="${BENCH_STEP_SECONDS:-1}"
complete_ms="${BENCH_POD_COMPLETE_DELAY_MS:-$((5 * step_s * 1000 + 25000))}"

if [[ "$state" == "$repo/.cluster" && "${BENCH_ALLOW_DEFAULT_CLUSTER:-}" != 1 ]]; then
  log "refusing to benchmark on the default cluster ($state); unset GOLDEN_CLUSTER_DIR"; exit 2
fi

started_cluster=0
cleanup() {
  local rc=$?
  if ((started_cluster)) && [[ "${BENCH_KEEP_CLUSTER:-}" != 1 ]]; then
    log "taking down the benchmark cluster"
    "$repo/hack/cluster/down.sh" || true
  fi
  exit "$rc"
}
trap cleanup EXIT

if pid_alive kube-apiserver; then
  log "reusing the running cluster in $state"
else
  log "starting a benchmark cluster in $state (apiserver :$APISERVER_PORT)"
  started_cluster=1
  # BENCH_APISERVER_PROFILE_SECONDS asks for the apiserver's CPU profile: its --profiling on.
  if [[ "${BENCH_APISERVER_PROFILE_SECONDS:-0}" != 0 ]]; then export GOLDEN_APISERVER_PROFILING=true; fi
  "$repo/hack/cluster/up.sh" >/dev/null
fi
# A cluster this script takes down at the end need not be cleaned after the last burst.
if ((started_cluster)) && [[ "${BENCH_KEEP_CLUSTER:-}" != 1 ]]; then export BENCH_DISPOSABLE_CLUSTER=1; fi
export KUBECONFIG="$kubeconfig"

kubectl apply --server-side -k config/crd >/dev/null
kubectl apply --server-side -f config/manager/namespace.yaml -f config/rbac/admission_params.yaml >/dev/null
kubectl apply --server-side -f config/rbac/admission_policies.yaml >/dev/null
kubectl wait --for condition=Established --timeout=60s crd/images.golden.dev crd/imagebuilds.golden.dev \
  crd/baseimages.golden.dev crd/rebuildcampaigns.golden.dev >/dev/null
# The catalog: the bench's Images build on ubuntu 24.04 (the campaign scenario adds its own base).
kubectl apply --server-side -k config/catalog >/dev/null

# KWOK with the same command line, but pod-complete delayed by $complete_ms.
bench_stages="$state/kwok-bench-stages.yaml"
awk -v ms="$complete_ms" '
  /^---/ { in_complete = 0 }
  /^  name: pod-complete$/ { in_complete = 1 }
  in_complete && /^  next:$/ { print "  delay:"; print "    durationMilliseconds: " ms }
  { print }
' "$bin/kwok-stages.yaml" >"$bench_stages.tmp"
grep -q "durationMilliseconds: $complete_ms" "$bench_stages.tmp" || { log "could not patch KWOK's pod-complete stage"; exit 1; }
if ! cmp -s "$bench_stages.tmp" "$bench_stages" || ! tr '\0' ' ' <"/proc/$(cat "$pids/kwok.pid")/cmdline" | grep -q "$bench_stages"; then
  mv "$bench_stages.tmp" "$bench_stages"
  "$repo/hack/cluster/restart.sh" kwok --config "$bench_stages"
else
  rm -f "$bench_stages.tmp"
fi

export BENCH_STEP_SECONDS="$step_s"
export BENCH_APISERVER_BINARY="$bin/kube-apiserver"
node "$repo/dist/bench/run.js"
