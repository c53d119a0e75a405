#!/usr/bin/env bash
# Builds the local control plane from Go modules at the versions pinned in hack/versions.env and
# caches the binaries outside the repo, so only the first run on a machine compiles anything.
#
#   $GOLDEN_CACHE/k8s-<version>/{etcd,kube-apiserver,kube-controller-manager,kube-scheduler,kwok}
#
# k8s.io/kubernetes cannot be `go install`ed: see hack/lib/k8s-module.sh for the throwaway module
# it is built from (shared with hack/build-node.sh, which builds the kubelet and kube-proxy).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
source "$here/lib/k8s-module.sh"

cache="${GOLDEN_CACHE:-$HOME/.cache/golden}"
bin_dir="$cache/k8s-$K8S_VERSION"
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

missing=()
for b in "${binaries[@]}"; do [[ -x "$bin_dir/$b" ]] || missing+=("$b"); done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "control plane $K8S_VERSION cached in $bin_dir"
  exit 0
fi

echo "building ${missing[*]} into $bin_dir (first run on this machine; later runs reuse it)"
mkdir -p "$bin_dir"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
start=$SECONDS
export GOFLAGS="${GOFLAGS:-} -buildvcs=false -trimpath"
export CGO_ENABLED=0
ldflags="-s -w"

# --- Kubernetes components (hack/lib/k8s-module.sh) -----------------------------------------
build_kubernetes() {
  local c need=0
  for c in kube-apiserver kube-controller-manager kube-scheduler; do [[ -x "$bin_dir/$c" ]] || need=1; done
  ((need)) || return 0
  k8s_module "$work/k8s" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    [[ -x "$bin_dir/$c" ]] && continue
    echo "  go build $c"
    k8s_build "$work/k8s" "$c" "$bin_dir/$c"
  done
}

# --- etcd: a tiny main around etcdmain --------------------------------------------------------
build_etcd() {
  [[ -x "$bin_dir/etcd" ]] && return
  local mod="$work/etcd"
  mkdir -p "$mod"
  cat >"$mod/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$mod" && go mod init golden.dev/etcd-build >/dev/null 2>&1 &&
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1 && go mod tidy >/dev/null 2>&1)
  echo "  go build etcd"
  (cd "$mod" && go build -ldflags "$ldflags" -o "$bin_dir/etcd.tmp" .)
  mv "$bin_dir/etcd.tmp" "$bin_dir/etcd"
}

# --- KWOK: no replaces, plain go build ---------------------------------------------------------
build_kwok() {
  [[ -x "$bin_dir/kwok" ]] && return
  echo "  go build kwok"
  local mod="$work/kwok"
  mkdir -p "$mod"
  (cd "$mod" && go mod init golden.dev/kwok-build >/dev/null 2>&1 &&
    go get "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >/dev/null 2>&1 &&
    go build -ldflags "$ldflags" -o "$bin_dir/kwok.tmp" sigs.k8s.io/kwok/cmd/kwok)
  mv "$bin_dir/kwok.tmp" "$bin_dir/kwok"
}

build_etcd
build_kwok
build_kubernetes
echo "$K8S_VERSION $ETCD_VERSION $KWOK_VERSION built in $((SECONDS - start)) s" | tee "$bin_dir/BUILD_INFO"
