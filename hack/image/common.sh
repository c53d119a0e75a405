# Sourced by hack/image/*.sh: paths, the state directory and the docker CLI to use.
# State lives in ~/.cache/golden/docker (not .cluster/), so `make cluster-down`, which removes
# .cluster/, does not forget the dockerd we started or the registry probe's answer.
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
state="${GOLDEN_CACHE:-$HOME/.cache/golden}/docker"
mkdir -p "$state"
# shellcheck source=../versions.env
source "$repo/hack/versions.env"

# BuildKit is needed (the Dockerfile uses RUN --mount). A CLI with the buildx plugin does it by
# default; Debian's docker.io 20.10 CLI (/usr/bin/docker) has it built in behind DOCKER_BUILDKIT=1;
# a newer CLI without buildx has neither, so prefer Debian's then.
export DOCKER_BUILDKIT=1
pick_docker() {
  local c major
  for c in ${DOCKER:-} docker /usr/bin/docker; do
    command -v "$c" >/dev/null 2>&1 || continue
    if "$c" buildx version >/dev/null 2>&1; then echo "$c"; return; fi
    major="$("$c" version --format '{{.Client.Version}}' 2>/dev/null || true)"
    major="${major%%.*}"
    if [[ "$major" =~ ^[0-9]+$ ]] && ((major < 23)); then echo "$c"; return; fi
  done
  echo "no docker CLI with BuildKit (install the buildx plugin, or Debian's docker.io)" >&2
  return 1
}
