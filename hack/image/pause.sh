#!/usr/bin/env bash
# Builds golden-base/pause:1 (PAUSE_IMG), the sandbox image for a local kubelet: the static Go
# binary of pause/main.go in a FROM scratch image. Go compiles it on the host (CGO_ENABLED=0), so
# no golang image is pulled. Skipped when the image exists and was built from the same source
# (label golden.source; GOLDEN_REBUILD_BASES=1 forces a rebuild).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/common.sh"
img="${PAUSE_IMG:-golden-base/pause:1}"
docker_cli="$("$here/ensure-docker.sh")"
hash="$(cat "$here/pause.sh" "$here/pause/main.go" | sha256sum | cut -c1-12)"
have="$("$docker_cli" image inspect -f '{{index .Config.Labels "golden.source"}}' "$img" 2>/dev/null || true)"
[[ "${GOLDEN_REBUILD_BASES:-0}" != 1 && "$have" == "$hash" ]] && exit 0
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
GOOS=linux GOARCH="$(go env GOHOSTARCH)" CGO_ENABLED=0 GOFLAGS=-trimpath \
  go build -ldflags='-s -w' -o "$tmp/pause" "$here/pause/main.go"
printf 'FROM scratch\nLABEL golden.source=%s\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' \
  "$hash" >"$tmp/Dockerfile"
"$docker_cli" build --quiet -t "$img" "$tmp" >/dev/null
echo "built $img" >&2
