#!/usr/bin/env bash
# Builds the local control plane from Go modules at the versions pinned in hack/versions.env and
# caches the binaries outside the repo, so only the first run on a machine compiles anything.
#
#   $GOLDEN_CACHE/k8s-<version>/{etcd,kube-apiserver,kube-controller-manager,kube-scheduler,kwok}
#
# k8s.io/kubernetes cannot be `go install`ed: its go.mod replaces the staging modules with local
# paths. A throwaway module requires it and replaces every staging module with the published
# v0.<minor>.<patch> instead.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

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

# --- Kubernetes components -----------------------------------------------------------------
build_kubernetes() {
  local mod="$work/k8s"
  mkdir -p "$mod"
  local staging_version="v0.${K8S_VERSION#v1.}"
  local gomod
  gomod="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  {
    echo "module golden.dev/controlplane-build"
    echo
    grep -E '^go ' "$gomod"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    grep -E '=> \./staging/' "$gomod" | awk -v v="$staging_version" '{print "\t" $1 " => " $1 " " v}'
    echo ")"
  } >"$mod/go.mod"
  cat >"$mod/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
  (cd "$mod" && go mod tidy -e >/dev/null 2>&1 || true; cd "$mod" && GOFLAGS="$GOFLAGS -mod=mod" go mod download >/dev/null 2>&1 || true)
  local version_pkg="k8s.io/component-base/version"
  local vflags="-X $version_pkg.gitVersion=$K8S_VERSION -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2) -X $version_pkg.gitTreeState=clean"
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    [[ -x "$bin_dir/$c" ]] && continue
    echo "  go build $c"
    (cd "$mod" && GOFLAGS="$GOFLAGS -mod=mod" go build -tags tools -ldflags "$ldflags $vflags" -o "$bin_dir/$c.tmp" "k8s.io/kubernetes/cmd/$c")
    mv "$bin_dir/$c.tmp" "$bin_dir/$c"
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
