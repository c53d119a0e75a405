#!/usr/bin/env bash
# `make docker-build`: builds golden's image (IMG, default golden:dev) from ../../Dockerfile with
# BuildKit, starting a Docker engine first if none runs (ensure-docker.sh). The Dockerfile's bases
# default to the public node:24-bookworm-slim and distroless nodejs24 images; when those cannot be
# pulled (no registry: a 5 s probe, remembered for a day in ~/.cache/golden/docker/registry) or
# GOLDEN_LOCAL_BASES=1, local stand-ins are built (bases.sh) and passed in as build arguments.
# GOLDEN_LOCAL_BASES=0 forces the public bases. npm inside the build uses the host's registry
# and CA certificates.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/common.sh"
img="${1:-${IMG:-golden:dev}}"
docker_cli="$("$here/ensure-docker.sh")"
export DOCKER_CLI="$docker_cli"

public_node="$(sed -nE 's/^ARG NODE_IMAGE=(.*)$/\1/p' "$repo/Dockerfile")"
public_runtime="$(sed -nE 's/^ARG RUNTIME_IMAGE=(.*)$/\1/p' "$repo/Dockerfile")"
registry_reachable() {
  local memo="$state/registry"
  if [[ -n "$(find "$memo" -mmin -1440 2>/dev/null)" ]]; then [[ "$(cat "$memo")" == yes ]]; return; fi
  if "$docker_cli" image inspect "$public_node" >/dev/null 2>&1 ||
    timeout 5 "$docker_cli" manifest inspect "$public_node" >/dev/null 2>&1; then
    echo yes >"$memo"
  else
    echo "cannot reach the registry of $public_node within 5 s: using local bases" >&2
    echo no >"$memo"
    return 1
  fi
}

args=()
case "${GOLDEN_LOCAL_BASES:-}" in
  1) local=1 ;;
  0) local=0 ;;
  *) if registry_reachable; then local=0; else local=1; fi ;;
esac
if ((local)); then
  while IFS= read -r kv; do args+=(--build-arg "$kv"); done < <("$here/bases.sh")
else
  echo "bases: $public_node, $public_runtime" >&2
fi
registry="$(npm config get registry 2>/dev/null || true)"
[[ -n "$registry" ]] && args+=(--build-arg "NPM_REGISTRY=$registry")
# The CA bundle the host's npm trusts (cafile, else NODE_EXTRA_CA_CERTS), as the npm-ca secret.
ca="$(npm config get cafile 2>/dev/null || true)"
[[ -f "$ca" ]] || ca="${NODE_EXTRA_CA_CERTS:-}"
[[ -f "$ca" ]] && args+=(--secret "id=npm-ca,src=$ca")

"$docker_cli" build "${args[@]}" ${GOLDEN_BUILD_FLAGS:-} -t "$img" "$repo"
