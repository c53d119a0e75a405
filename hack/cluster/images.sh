#!/usr/bin/env bash
# Imports images into the real node's containerd (namespace k8s.io, where the kubelet looks):
# the pause image built by hack/build-node.sh, then every image tarball in images_dir
# (.cluster/images/*.tar: `make image-tar` writes golden-dev.tar there). A tarball is imported
# again only when it changed since its last import. Usage: images.sh [tarball...]
set -euo pipefail
source "$(dirname "$0")/common.sh"

if ! pid_alive containerd; then
  log "the node's containerd is not running; make cluster-up imports $images_dir/*.tar when it starts"
  exit 0
fi
mkdir -p "$node_state/imported"
import() { # <tarball>
  local tar="$1" stamp
  stamp="$node_state/imported/$(basename "$tar").stamp"
  local sig
  sig="$(stat -c '%s %Y' "$tar")"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$sig" ]]; then return; fi
  log "importing $(basename "$tar") into containerd"
  local out
  if ! out="$(ctr_ images import --snapshotter overlayfs "$tar" 2>&1)"; then
    log "importing $tar failed: $out"
    exit 1
  fi
  echo "$sig" >"$stamp"
}

if (($#)); then
  for t in "$@"; do import "$t"; done
else
  import "$node_bin/pause.tar"
  shopt -s nullglob
  for t in "$images_dir"/*.tar; do import "$t"; done
fi
