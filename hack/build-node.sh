#!/usr/bin/env bash
# Builds the local cluster's real node from Go modules at the versions pinned in hack/versions.env
# and caches it outside the repo, like the control plane (hack/build-control-plane.sh):
#
#   $GOLDEN_CACHE/node-<k8s>-containerd<v>-cni<v>/
#     kubelet kube-proxy                          k8s.io/kubernetes (the same throwaway module)
#     containerd containerd-shim-runc-v2 ctr      github.com/containerd/containerd/v2
#     cni/{bridge,host-local,loopback,portmap}    github.com/containernetworking/plugins
#     pause, pause.tar                            a static wait-for-SIGTERM binary, as an OCI image
#
# It also installs what the node needs from Debian when missing: runc (containerd's runtime),
# iptables and conntrack (kube-proxy).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
source "$here/lib/k8s-module.sh"

cache="${GOLDEN_CACHE:-$HOME/.cache/golden}"
bin_dir="$cache/node-$K8S_VERSION-containerd$CONTAINERD_VERSION-cni$CNI_PLUGINS_VERSION"
cni_plugins=(bridge host-local loopback portmap)
binaries=(kubelet kube-proxy containerd containerd-shim-runc-v2 ctr pause pause.tar)

# --- Debian packages -----------------------------------------------------------------------
need_pkgs=()
command -v runc >/dev/null || need_pkgs+=(runc)
command -v iptables >/dev/null || need_pkgs+=(iptables)
command -v conntrack >/dev/null || need_pkgs+=(conntrack)
if ((${#need_pkgs[@]})); then
  echo "installing ${need_pkgs[*]} (apt-get)"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

missing=()
for b in "${binaries[@]}"; do [[ -s "$bin_dir/$b" ]] || missing+=("$b"); done
for b in "${cni_plugins[@]}"; do [[ -x "$bin_dir/cni/$b" ]] || missing+=("cni/$b"); done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "node binaries cached in $bin_dir"
  exit 0
fi

echo "building ${missing[*]} into $bin_dir (first run on this machine; later runs reuse it)"
mkdir -p "$bin_dir/cni"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
start=$SECONDS
export GOFLAGS="${GOFLAGS:-} -buildvcs=false -trimpath"
export CGO_ENABLED=0
ldflags="-s -w"

# --- kubelet and kube-proxy ------------------------------------------------------------------
build_kubernetes() {
  [[ -x "$bin_dir/kubelet" && -x "$bin_dir/kube-proxy" ]] && return
  k8s_module "$work/k8s" k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
  for c in kubelet kube-proxy; do
    [[ -x "$bin_dir/$c" ]] && continue
    echo "  go build $c"
    k8s_build "$work/k8s" "$c" "$bin_dir/$c"
  done
}

# --- containerd (CRI plugin included), its runc shim and ctr ---------------------------------
build_containerd() {
  [[ -x "$bin_dir/containerd" && -x "$bin_dir/containerd-shim-runc-v2" && -x "$bin_dir/ctr" ]] && return
  local mod="$work/containerd" pkg=github.com/containerd/containerd/v2
  mkdir -p "$mod"
  (cd "$mod" && go mod init golden.dev/containerd-build >/dev/null 2>&1 &&
    go get "$pkg@$CONTAINERD_VERSION" >/dev/null 2>&1)
  local vflags="-X $pkg/version.Version=$CONTAINERD_VERSION -X $pkg/version.Revision=golden -X $pkg/version.Package=$pkg"
  for c in containerd containerd-shim-runc-v2 ctr; do
    [[ -x "$bin_dir/$c" ]] && continue
    echo "  go build $c"
    (cd "$mod" && GOFLAGS="$GOFLAGS -mod=mod" go build -tags no_btrfs -ldflags "$ldflags $vflags" -o "$bin_dir/$c.tmp" "$pkg/cmd/$c")
    mv "$bin_dir/$c.tmp" "$bin_dir/$c"
  done
}

# --- CNI plugins -------------------------------------------------------------------------------
build_cni() {
  local mod="$work/cni" pkg=github.com/containernetworking/plugins
  mkdir -p "$mod"
  (cd "$mod" && go mod init golden.dev/cni-build >/dev/null 2>&1 &&
    go get "$pkg@$CNI_PLUGINS_VERSION" >/dev/null 2>&1)
  for p in "${cni_plugins[@]}"; do
    [[ -x "$bin_dir/cni/$p" ]] && continue
    local dir=main
    [[ "$p" == host-local ]] && dir=ipam
    [[ "$p" == portmap ]] && dir=meta
    echo "  go build cni/$p"
    (cd "$mod" && GOFLAGS="$GOFLAGS -mod=mod" go build -ldflags "$ldflags -X $pkg/pkg/utils/buildversion.BuildVersion=$CNI_PLUGINS_VERSION" \
      -o "$bin_dir/cni/$p.tmp" "$pkg/plugins/$dir/$p")
    mv "$bin_dir/cni/$p.tmp" "$bin_dir/cni/$p"
  done
}

# --- the pause image: the pod sandbox's process, waits for SIGTERM ------------------------------
build_pause() {
  if [[ ! -x "$bin_dir/pause" ]]; then
    local mod="$work/pause"
    mkdir -p "$mod"
    cat >"$mod/main.go" <<'GO'
// pause holds a pod sandbox's namespaces until the runtime stops it.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}
GO
    (cd "$mod" && go mod init golden.dev/pause >/dev/null 2>&1)
    echo "  go build pause"
    (cd "$mod" && go build -ldflags "$ldflags" -o "$bin_dir/pause.tmp" .)
    mv "$bin_dir/pause.tmp" "$bin_dir/pause"
  fi
  python3 "$here/oci-image.py" --name "${GOLDEN_PAUSE_IMAGE:-localhost/golden-pause:dev}" \
    --add "$bin_dir/pause:/pause" --entrypoint /pause --user 65535:65535 --out "$bin_dir/pause.tar"
}

build_pause
build_cni
build_containerd
build_kubernetes
echo "kubelet/kube-proxy $K8S_VERSION, containerd $CONTAINERD_VERSION, CNI plugins $CNI_PLUGINS_VERSION built in $((SECONDS - start)) s" |
  tee "$bin_dir/BUILD_INFO"
