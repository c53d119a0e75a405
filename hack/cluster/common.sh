# Shared settings of the local cluster scripts (sourced).
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$repo/hack/versions.env"
cache="${GOLDEN_CACHE:-$HOME/.cache/golden}"
bin="$cache/k8s-$K8S_VERSION"
state="${GOLDEN_CLUSTER_DIR:-$repo/.cluster}"
pki="$state/pki"
logs="$state/logs"
pids="$state/pids"
# Uncommon ports so a developer's other clusters don't collide with this one.
ETCD_PORT="${GOLDEN_ETCD_PORT:-23790}"
ETCD_PEER_PORT="${GOLDEN_ETCD_PEER_PORT:-23800}"
APISERVER_PORT="${GOLDEN_APISERVER_PORT:-16443}"
KCM_PORT="${GOLDEN_KCM_PORT:-20257}"
SCHEDULER_PORT="${GOLDEN_SCHEDULER_PORT:-20259}"
KWOK_PORT="${GOLDEN_KWOK_PORT:-20247}"
# The real node (GOLDEN_REAL_NODE=0 leaves it out: KWOK's fake nodes only).
REAL_NODE="${GOLDEN_REAL_NODE:-1}"
NODE_NAME="${GOLDEN_NODE_NAME:-golden-node-0}"
KUBELET_PORT="${GOLDEN_KUBELET_PORT:-20250}"
KUBELET_HEALTHZ_PORT="${GOLDEN_KUBELET_HEALTHZ_PORT:-20248}"
KUBE_PROXY_HEALTHZ_PORT="${GOLDEN_KUBE_PROXY_HEALTHZ_PORT:-20256}"
KUBE_PROXY_METRICS_PORT="${GOLDEN_KUBE_PROXY_METRICS_PORT:-20249}"
node_bin="$cache/node-$K8S_VERSION-containerd$CONTAINERD_VERSION-cni$CNI_PLUGINS_VERSION"
node_state="$state/node"
containerd_sock="$node_state/containerd/containerd.sock"
runc_root="$node_state/containerd/runc"
PAUSE_IMAGE="${GOLDEN_PAUSE_IMAGE:-localhost/golden-pause:dev}"
# Image tarballs imported into the node's containerd at cluster-up (make image-tar writes here).
images_dir="${GOLDEN_IMAGES_DIR:-$state/images}"
# The node's address: the gateway of a bridge the cluster scripts create (golden0). Pods reach the
# apiserver and aggregated API servers are reached through it; it never leaves this machine.
NODE_BRIDGE="${GOLDEN_NODE_BRIDGE:-golden0}"
NODE_IP="${GOLDEN_NODE_IP:-10.88.0.1}"
# The real node's pods get addresses here (KWOK's fake pods use 10.244.0.0/16).
POD_CIDR="${GOLDEN_POD_CIDR:-10.88.0.0/24}"
server="https://127.0.0.1:$APISERVER_PORT"
kubeconfig="$state/kubeconfig"

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

pid_alive() { [[ -f "$pids/$1.pid" ]] && kill -0 "$(cat "$pids/$1.pid")" 2>/dev/null; }

ctr_() { "$node_bin/ctr" --address "$containerd_sock" -n k8s.io "$@"; }

# start <name> <cmd...>: runs a component in its own session with its log under .cluster/logs.
start() {
  local name="$1"; shift
  if pid_alive "$name"; then log "$name already running (pid $(cat "$pids/$name.pid"))"; return; fi
  log "starting $name"
  setsid "$@" >>"$logs/$name.log" 2>&1 </dev/null &
  echo $! >"$pids/$name.pid"
}

wait_for() { # <component-or-"-"> <what> <timeout-s> <cmd...>: fails fast if the component died
  local component="$1" what="$2" timeout="$3"; shift 3
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [[ "$component" != - ]] && ! pid_alive "$component"; then
      log "$component exited; last lines of $logs/$component.log:"; tail -5 "$logs/$component.log" >&2; exit 1
    fi
    if ((SECONDS > deadline)); then log "timed out waiting for $what; see $logs"; exit 1; fi
    sleep 0.5
  done
}

# stop <name>...: SIGTERM each recorded pid at once, wait for all of them, SIGKILL what is left
# after 10 s. Components that do not depend on each other stop side by side (down.sh).
stop() {
  local name f pid live=() _
  for name in "$@"; do
    f="$pids/$name.pid"
    [[ -f "$f" ]] || continue
    pid="$(cat "$f")"
    if kill -0 "$pid" 2>/dev/null; then
      log "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      live+=("$pid")
    fi
    rm -f "$f"
  done
  ((${#live[@]})) || return 0
  for _ in $(seq 1 50); do
    for pid in "${live[@]}"; do kill -0 "$pid" 2>/dev/null && break; pid=""; done
    [[ -n "$pid" ]] || return 0
    sleep 0.2
  done
  for pid in "${live[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}

# write_kubeconfig <file> <cert-name>: a kubeconfig for the client cert pki/<cert-name>.crt.
write_kubeconfig() {
  cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: golden-local
  cluster:
    server: $server
    certificate-authority: $pki/ca.crt
users:
- name: $2
  user:
    client-certificate: $pki/$2.crt
    client-key: $pki/$2.key
contexts:
- name: golden-local
  context: {cluster: golden-local, user: $2}
current-context: golden-local
KC
}
