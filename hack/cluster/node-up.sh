#!/usr/bin/env bash
# Starts (or reuses) the local cluster's real node, NODE_NAME at NODE_IP: containerd with its CRI
# plugin and runc, the CNI config (bridge on NODE_BRIDGE, host-local IPAM over POD_CIDR, portmap),
# the kubelet and kube-proxy; then imports the pause image and any image tarballs in images_dir.
# Called by up.sh after the control plane is up; hack/cluster/down.sh undoes it.
set -euo pipefail
source "$(dirname "$0")/common.sh"

"$repo/hack/build-node.sh" >&2
mkdir -p "$node_state"/{containerd,kubelet,pod-logs,cni/net.d,cni/networks,cni/cache} "$runc_root" "$images_dir"

# put <file>: writes stdin to <file> only when it differs, so a rerun (chaos restores the cluster
# with up.sh) leaves running components' configs alone: kube-proxy exits when its file is written.
put() {
  local tmp="$node_state/.put.tmp"
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; fi
}

# --- CNI: pods on the node's bridge, its gateway NODE_IP; nothing masqueraded ----------------
# Written before containerd starts, which loads it at init (it may miss a later rename into net.d).
put "$node_state/cni/net.d/10-golden.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "golden",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$NODE_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$node_state/cni/networks"
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON

# --- containerd ------------------------------------------------------------------------------
put "$node_state/containerd/config.toml" <<TOML
version = 4
root = "$node_state/containerd/root"
state = "$node_state/containerd/state"


[plugins]
  [plugins.'io.containerd.server.v1.grpc']
    address = "$containerd_sock"
  [plugins.'io.containerd.server.v1.ttrpc']
    address = "$containerd_sock.ttrpc"
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = "overlayfs"
    [plugins.'io.containerd.cri.v1.images'.registry]
      # Every registry resolves to a closed loopback port: images come from ctr import only, and
      # a pull of a missing image fails here instead of leaving the machine.
      config_path = "$node_state/containerd/certs.d"
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = "$PAUSE_IMAGE"
  [plugins.'io.containerd.cri.v1.runtime']
    # This machine's root lacks CAP_SYS_RESOURCE: without it runc fails to lower oom_score_adj.
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = "runc"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = "$(command -v runc)"
          Root = "$runc_root"
          SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ["$node_bin/cni"]
      conf_dir = "$node_state/cni/net.d"
  [plugins.'io.containerd.grpc.v1.cri']
    stream_server_address = "127.0.0.1"
  [plugins.'io.containerd.nri.v1.nri']
    disable = true
TOML
mkdir -p "$node_state/containerd/certs.d/_default"
echo 'server = "https://127.0.0.1:1"' | put "$node_state/containerd/certs.d/_default/hosts.toml"
PATH="$node_bin:$PATH" start containerd "$node_bin/containerd" --config "$node_state/containerd/config.toml" --log-level warn
wait_for containerd containerd 30 "$node_bin/ctr" --address "$containerd_sock" version

# --- images: the pause image now (every pod's sandbox); the rest while the kubelet registers --
"$repo/hack/cluster/images.sh" "$node_bin/pause.tar" >&2

# --- kubelet ---------------------------------------------------------------------------------
write_kubeconfig "$state/kubelet.kubeconfig" kubelet
write_kubeconfig "$state/kube-proxy.kubeconfig" kube-proxy
put "$node_state/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# The kubelet refuses loopback: it serves (logs, exec) at the node's address on its bridge.
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
tlsCertFile: $pki/kubelet-serving.crt
tlsPrivateKeyFile: $pki/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$containerd_sock
# This host is on cgroup v1, which the kubelet refuses by default since 1.35.
failCgroupV1: false
cgroupDriver: cgroupfs
failSwapOn: false
podLogsDir: $node_state/pod-logs
# No cluster DNS; pods reach the apiserver by KUBERNETES_SERVICE_HOST. No resolver either, so
# nothing a pod looks up leaves the machine.
resolvConf: ""
maxPods: 32
serializeImagePulls: false
# A shared 2-core dev box: evict only when really short.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 2%
  nodefs.inodesFree: 2%
  imagefs.available: 2%
# Pod and node status as fast as the fake nodes report theirs.
nodeStatusUpdateFrequency: 5s
syncFrequency: 10s
YAML
start kubelet "$node_bin/kubelet" --config "$node_state/kubelet.yaml" \
  --kubeconfig "$state/kubelet.kubeconfig" --root-dir "$node_state/kubelet" \
  --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
  --node-labels "golden.dev/real-node=true" --v=1

# --- kube-proxy: Services (the kubernetes Service at 10.96.0.1:443) for pods ---------------------
put "$node_state/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $state/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_CIDR
nodePortAddresses: ["$NODE_IP/32"]
healthzBindAddress: 127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:$KUBE_PROXY_METRICS_PORT
iptables: {localhostNodePorts: false}
# Leave the host's conntrack sysctls alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
start kube-proxy "$node_bin/kube-proxy" --config "$node_state/kube-proxy.yaml" --v=1

"$repo/hack/cluster/images.sh" >&2 &
import_pid=$!
wait_for kubelet "node $NODE_NAME Ready" 120 kubectl --kubeconfig "$kubeconfig" wait --for=condition=Ready "node/$NODE_NAME" --timeout=1s
wait_for kube-proxy "kube-proxy healthz" 30 curl -sf "http://127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT/healthz"
wait "$import_pid" || { log "importing images into containerd failed"; exit 1; }
if ! ctr_ images ls -q 2>/dev/null | grep -E '(^|/)golden:' >/dev/null; then
  log "no golden image in the node's containerd yet: build pods will not start until make image-import puts one in $images_dir"
fi
