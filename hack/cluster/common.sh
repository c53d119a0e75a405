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
RUNNER_PORT="${GOLDEN_RUNNER_PORT:-20250}"
# The node's address: the gateway of a bridge the cluster scripts create (golden0). Pods reach the
# apiserver and aggregated API servers are reached through it; it never leaves this machine.
NODE_BRIDGE="${GOLDEN_NODE_BRIDGE:-golden0}"
NODE_IP="${GOLDEN_NODE_IP:-10.88.0.1}"
POD_CIDR="${GOLDEN_POD_CIDR:-10.88.0.0/24}"
server="https://127.0.0.1:$APISERVER_PORT"
kubeconfig="$state/kubeconfig"

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

pid_alive() { [[ -f "$pids/$1.pid" ]] && kill -0 "$(cat "$pids/$1.pid")" 2>/dev/null; }
