#!/usr/bin/env bash
# Stops every process the local cluster scripts started (by recorded pid, nothing else), tears the
# real node down (its containers, mounts, cgroups and iptables rules) and removes the cluster's
# state. The built binaries stay cached, and so do image tarballs in .cluster/images.
set -euo pipefail
source "$(dirname "$0")/common.sh"

# Reverse start order: clients first, etcd last; a group's members stop side by side.
stop golden-operator kube-proxy kubelet kwok kube-scheduler kube-controller-manager

# The node's containers: runc's state is the cluster's own (runc_root), so every container in it
# is one of ours. Killing them and their shims (found by this cluster's containerd address) leaves
# no process behind, whether or not containerd still answers.
if [[ -d "$runc_root" ]] && command -v runc >/dev/null; then
  for ns_root in "$runc_root"/*/; do
    [[ -d "$ns_root" ]] || continue
    for id in $(runc --root "$ns_root" list -q 2>/dev/null); do
      runc --root "$ns_root" kill "$id" KILL 2>/dev/null || true
      runc --root "$ns_root" delete --force "$id" 2>/dev/null || true
    done
  done
fi
stop containerd
for pid in $(pgrep -f -- "containerd-shim-runc-v2 .*-address $containerd_sock( |$)" || true); do
  # A shim's socket is /run/containerd/s/sha256(<containerd address>/<namespace>/<shim id>); a
  # killed shim leaves it behind.
  id="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | sed -n 's/.* -id \([^ ]*\).*/\1/p')"
  kill -KILL "$pid" 2>/dev/null || true
  if [[ -n "$id" ]]; then rm -f "/run/containerd/s/$(printf '%s' "$containerd_sock/k8s.io/$id" | sha256sum | cut -d' ' -f1)"; fi
done
if [[ -x "$node_bin/kube-proxy" && -f "$node_state/kube-proxy.yaml" ]]; then
  "$node_bin/kube-proxy" --cleanup >/dev/null 2>&1 || true
fi
guard="GOLDEN-${NODE_BRIDGE}"
if iptables -S "$guard" >/dev/null 2>&1; then
  iptables -D INPUT -p tcp -m multiport --dports "$APISERVER_PORT,$KUBELET_PORT" -j "$guard" 2>/dev/null || true
  iptables -D FORWARD -i "$NODE_BRIDGE" ! -o "$NODE_BRIDGE" -j DROP 2>/dev/null || true
  iptables -F "$guard" && iptables -X "$guard"
fi

# The kubelet's own chains (it makes them on start; no flag turns that off), in both families.
for ipt in iptables ip6tables; do
  command -v "$ipt" >/dev/null || continue
  if "$ipt" -S KUBE-FIREWALL >/dev/null 2>&1; then
    "$ipt" -D INPUT -j KUBE-FIREWALL 2>/dev/null || true
    "$ipt" -D OUTPUT -j KUBE-FIREWALL 2>/dev/null || true
    "$ipt" -F KUBE-FIREWALL && "$ipt" -X KUBE-FIREWALL
  fi
  for table in mangle nat filter; do "$ipt" -t "$table" -X KUBE-KUBELET-CANARY 2>/dev/null || true; done
  "$ipt" -t mangle -X KUBE-IPTABLES-HINT 2>/dev/null || true
done
# The kubelet links every container's log into /var/log/containers (a fixed path) from podLogsDir.
if [[ -d /var/log/containers ]]; then
  find /var/log/containers -maxdepth 1 -type l -lname "$node_state/*" -delete
fi

stop kube-apiserver
stop etcd

# What the kubelet and containerd mounted under the cluster's directory (pod volumes, rootfs
# overlays, sandbox shm, network namespaces), deepest first.
if [[ -d "$state" ]]; then
  awk -v s="$state/" 'index($5, s) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
fi
# The kubelet's cgroups (cgroupfs driver): empty once the containers are gone.
for sub in /sys/fs/cgroup/*/kubepods; do
  [[ -d "$sub" ]] && find "$sub" -depth -type d -exec rmdir {} + 2>/dev/null || true
done

# Everything but the image tarballs (make image-tar's output, imported at the next cluster-up).
if [[ -d "$state" ]]; then
  find "$state" -mindepth 1 -maxdepth 1 ! -path "$images_dir" -exec rm -rf {} +
  rmdir "$state" 2>/dev/null || true
fi
# The bridge is the cluster's own (up.sh made it); nothing else uses it.
ip link del "$NODE_BRIDGE" 2>/dev/null || true
log "cluster down"
