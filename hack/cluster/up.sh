#!/usr/bin/env bash
# Starts (or reuses) the local cluster: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, KWOK with a few fake nodes, and the real node (containerd, kubelet, kube-proxy;
# hack/cluster/node-up.sh) unless GOLDEN_REAL_NODE=0. Idempotent: running components are reused,
# missing ones started.
set -euo pipefail
source "$(dirname "$0")/common.sh"

"$repo/hack/build-control-plane.sh" >&2
mkdir -p "$logs" "$pids" "$state/etcd"
NODE_IP="$NODE_IP" NODE_NAME="$NODE_NAME" "$repo/hack/cluster/pki.sh" "$pki"

# The node's bridge: its gateway address is the node's InternalIP, where pods reach the apiserver
# and where the apiserver reaches aggregated API servers (Endpoints cannot be loopback).
if ! ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
  log "creating bridge $NODE_BRIDGE with $NODE_IP"
  ip link add "$NODE_BRIDGE" type bridge
fi
# (grep reads the whole listing: with -q, pipefail would see ip's SIGPIPE once the bridge has ports.)
ip addr show dev "$NODE_BRIDGE" | grep "inet $NODE_IP/" >/dev/null || ip addr add "$NODE_IP/${POD_CIDR#*/}" dev "$NODE_BRIDGE"
ip link set "$NODE_BRIDGE" up

# Guard, before anything listens: with a real node the apiserver listens on every address (pods
# reach it at NODE_IP), and the kubelet at NODE_IP; only loopback and the node's bridge may reach
# them. Pod traffic is not forwarded anywhere off the bridge (the CNI config does not masquerade).
if [[ "$REAL_NODE" == 1 ]]; then
  guard="GOLDEN-${NODE_BRIDGE}"
  if ! iptables -S "$guard" >/dev/null 2>&1; then
    iptables -N "$guard"
    iptables -A "$guard" -i lo -j RETURN
    iptables -A "$guard" -i "$NODE_BRIDGE" -j RETURN
    iptables -A "$guard" -j DROP
  fi
  iptables -C INPUT -p tcp -m multiport --dports "$APISERVER_PORT,$KUBELET_PORT" -j "$guard" 2>/dev/null ||
    iptables -I INPUT 1 -p tcp -m multiport --dports "$APISERVER_PORT,$KUBELET_PORT" -j "$guard"
  iptables -C FORWARD -i "$NODE_BRIDGE" ! -o "$NODE_BRIDGE" -j DROP 2>/dev/null ||
    iptables -I FORWARD 1 -i "$NODE_BRIDGE" ! -o "$NODE_BRIDGE" -j DROP
fi

write_kubeconfig "$kubeconfig" admin
for c in kube-controller-manager kube-scheduler kwok; do write_kubeconfig "$state/$c.kubeconfig" "$c"; done

start etcd "$bin/etcd" --name golden --data-dir "$state/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "golden=http://127.0.0.1:$ETCD_PEER_PORT" --quota-backend-bytes 8589934592 \
  --listen-metrics-urls "" --log-level warn
wait_for etcd etcd 30 curl -sf "http://127.0.0.1:$ETCD_PORT/health"

# With a real node, pods reach the apiserver through the kubernetes Service, whose endpoint is the
# advertise address (kept by the lease reconciler): NODE_IP, on the node's bridge. So the apiserver
# listens on every address (node-up.sh's iptables guard admits only loopback and the bridge) and
# reaches the kubelet at NODE_IP with a client cert, checking its serving cert against the CA.
# Without one, it stays on loopback and nothing maintains the Service's endpoints.
if [[ "$REAL_NODE" == 1 ]]; then
  apiserver_net=(--bind-address 0.0.0.0 --advertise-address "$NODE_IP" --endpoint-reconciler-type lease
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" --kubelet-client-key "$pki/apiserver-kubelet-client.key"
    --kubelet-certificate-authority "$pki/ca.crt" --kubelet-preferred-address-types InternalIP)
else
  apiserver_net=(--bind-address 127.0.0.1 --advertise-address 127.0.0.1 --endpoint-reconciler-type none)
fi
# A new apiserver on this address is a new cluster: kubectl's discovery cache of the last one on it
# (kinds, short names, categories) would otherwise be read for hours (its TTL).
if ! pid_alive kube-apiserver; then rm -rf "${KUBECACHEDIR:-$HOME/.kube/cache}/discovery/127.0.0.1_$APISERVER_PORT"; fi
start kube-apiserver "$bin/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  "${apiserver_net[@]}" --secure-port "$APISERVER_PORT" \
  --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
  --client-ca-file "$pki/ca.crt" \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
  --service-cluster-ip-range 10.96.0.0/16 \
  --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
  --requestheader-client-ca-file "$pki/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
  --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
  --requestheader-extra-headers-prefix X-Remote-Extra- \
  --proxy-client-cert-file "$pki/front-proxy-client.crt" --proxy-client-key-file "$pki/front-proxy-client.key" \
  --enable-aggregator-routing=true \
  --allow-privileged=true --profiling="${GOLDEN_APISERVER_PROFILING:-false}" --v=1
wait_for kube-apiserver "kube-apiserver /readyz" 120 kubectl --kubeconfig "$kubeconfig" get --raw /readyz

start kube-controller-manager "$bin/kube-controller-manager" \
  --kubeconfig "$state/kube-controller-manager.kubeconfig" \
  --authentication-kubeconfig "$state/kube-controller-manager.kubeconfig" \
  --authorization-kubeconfig "$state/kube-controller-manager.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$KCM_PORT" --leader-elect=false --use-service-account-credentials \
  --root-ca-file "$pki/ca.crt" --service-account-private-key-file "$pki/sa.key" \
  --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
  --controllers '*' \
  --kube-api-qps 50 --kube-api-burst 100 --v=1

start kube-scheduler "$bin/kube-scheduler" \
  --kubeconfig "$state/kube-scheduler.kubeconfig" \
  --authentication-kubeconfig "$state/kube-scheduler.kubeconfig" \
  --authorization-kubeconfig "$state/kube-scheduler.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$SCHEDULER_PORT" --leader-elect=false --v=1

# KWOK plays the kubelet for fake nodes only (selected by annotation), so it leaves the real node
# alone. Its fake pods get addresses from 10.244.0.0/16, apart from the real node's POD_CIDR.
# Its stages are KWOK's own defaults, taken from the KWOK module.
kwok_config="$bin/kwok-stages.yaml"
if [[ ! -s "$kwok_config" ]]; then
  kwok_src="$(cd /tmp && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  for f in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    cat "$kwok_src/kustomize/stage/$f"; echo "---"
  done >"$kwok_config.tmp"
  mv "$kwok_config.tmp" "$kwok_config"
fi
start kwok "$bin/kwok" --kubeconfig "$state/kwok.kubeconfig" --config "$kwok_config" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
  --node-ip 127.0.0.1 --cidr 10.244.0.0/16 --server-address "127.0.0.1:$KWOK_PORT"

# Fake nodes for everything that is not a golden worker pod (benchmark pods, other workloads). The
# operator's build pods select the real node (golden.dev/real-node=true), never these.
KWOK_NODES="${GOLDEN_KWOK_NODES:-3}"
for i in $(seq 0 $((KWOK_NODES - 1))); do
  arch=amd64; ((i % 3 == 2)) && arch=arm64
  cat <<NODE
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels: {type: kwok, kubernetes.io/arch: $arch, kubernetes.io/os: linux, kubernetes.io/hostname: kwok-node-$i}
# Nothing runs on a fake node: only pods that ask for one (a toleration) land there.
spec:
  taints: [{key: kwok.x-k8s.io/node, value: fake, effect: NoSchedule}]
status:
  allocatable: {cpu: "64", memory: 256Gi, pods: "1000"}
  capacity: {cpu: "64", memory: 256Gi, pods: "1000"}
---
NODE
done | kubectl --kubeconfig "$kubeconfig" apply -f - >/dev/null

# The real node: containerd, the kubelet and kube-proxy (it waits for the node to be Ready).
if [[ "$REAL_NODE" == 1 ]]; then
  "$repo/hack/cluster/node-up.sh"
fi
wait_for - "nodes Ready" 120 kubectl --kubeconfig "$kubeconfig" wait --for=condition=Ready nodes --all --timeout=1s
wait_for kube-controller-manager "default service account" 60 kubectl --kubeconfig "$kubeconfig" -n default get serviceaccount default

log "cluster ready: $(kubectl --kubeconfig "$kubeconfig" get --raw /readyz) — $(kubectl --kubeconfig "$kubeconfig" get nodes --no-headers | wc -l) nodes"
echo "export KUBECONFIG=$kubeconfig"
