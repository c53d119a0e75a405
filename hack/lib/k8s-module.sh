# k8s_module <dir> <package>...: writes into <dir> a throwaway Go module that requires
# k8s.io/kubernetes@$K8S_VERSION and builds the given k8s.io/kubernetes/cmd/... packages (sourced by
# build-control-plane.sh and build-node.sh; needs versions.env).
#
# k8s.io/kubernetes cannot be `go install`ed: its go.mod replaces the staging modules with local
# paths. The module replaces every staging module with the published v0.<minor>.<patch> instead.
k8s_module() {
  local mod="$1"; shift
  mkdir -p "$mod"
  local staging_version="v0.${K8S_VERSION#v1.}"
  local gomod
  gomod="$(cd "$mod" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  {
    echo "module golden.dev/k8s-build"
    echo
    grep -E '^go ' "$gomod"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    grep -E '=> \./staging/' "$gomod" | awk -v v="$staging_version" '{print "\t" $1 " => " $1 " " v}'
    echo ")"
  } >"$mod/go.mod"
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    local p
    for p in "$@"; do printf '\t_ "%s"\n' "$p"; done
    printf ')\n'
  } >"$mod/tools.go"
  (cd "$mod" && go mod tidy -e >/dev/null 2>&1 || true; cd "$mod" && GOFLAGS="$GOFLAGS -mod=mod" go mod download >/dev/null 2>&1 || true)
}

# k8s_build <dir> <cmd> <out>: go build k8s.io/kubernetes/cmd/<cmd> with the version stamped in.
k8s_build() {
  local mod="$1" cmd="$2" out="$3"
  local version_pkg="k8s.io/component-base/version"
  local vflags="-X $version_pkg.gitVersion=$K8S_VERSION -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2) -X $version_pkg.gitTreeState=clean"
  (cd "$mod" && GOFLAGS="$GOFLAGS -mod=mod" go build -tags tools -ldflags "-s -w $vflags" -o "$out.tmp" "k8s.io/kubernetes/cmd/$cmd")
  mv "$out.tmp" "$out"
}
