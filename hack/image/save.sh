#!/usr/bin/env bash
# Writes images to tarballs for a node without a registry: `docker save IMAGE` to
# .cluster/images/<image with / and : as ->.tar (golden:dev -> golden-dev.tar), which
# `ctr -n k8s.io images import FILE` loads into the node's containerd. Usage: save.sh IMAGE...
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/common.sh"
docker_cli="$("$here/ensure-docker.sh")"
out="${GOLDEN_IMAGES_DIR:-${CLUSTER_DIR:-$repo/.cluster}/images}"
mkdir -p "$out"
for img in "$@"; do
  file="$out/$(tr '/:' '--' <<<"$img").tar"
  "$docker_cli" save -o "$file.tmp" "$img"
  chmod 0644 "$file.tmp" && mv "$file.tmp" "$file"
  echo "$file ($(($(stat -c %s "$file") / 1000000)) MB)"
done
