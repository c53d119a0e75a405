#!/usr/bin/env bash
# `make test`: static checks, unit tests, the image's build and smoke test, then integration tests
# against the local cluster, whose real node runs build pods from golden's image (make image-import).
# The cluster is brought up if needed and taken down afterwards, even when tests fail — unless it
# was already running before (a developer's `make up`), which is then left as it was.
set -uo pipefail
cd "$(dirname "$0")/.."
source hack/cluster/common.sh

# How long each step took, for a run that nears its 10 minutes to say where they went.
lap=$SECONDS
took() { log "make test: $1 took $((SECONDS - lap)) s ($SECONDS s so far)"; lap=$SECONDS; }

make --no-print-directory verify-generate lint build || exit 1
took "generate check, lint and build"

# The container image (built, smoke-tested and saved for the real node; a dockerd is started if
# none runs, and stopped again) builds while the unit tests run: neither reads what the other
# writes, and the image's build mostly waits on dockerd and the disk. Its output follows the tests'.
marker="${GOLDEN_CACHE:-$HOME/.cache/golden}/docker/started-by-golden"
had_docker=0
[[ -f "$marker" ]] && had_docker=1
image_log="$(mktemp)"
make --no-print-directory docker-smoke image-tar >"$image_log" 2>&1 &
image_pid=$!
make --no-print-directory -o build test-unit
unit_rc=$?
wait "$image_pid"
image_rc=$?
cat "$image_log"
rm -f "$image_log"
if ((!had_docker)); then hack/image/stop-docker.sh; fi
((unit_rc == 0 && image_rc == 0)) || exit 1
took "unit tests, and beside them the image's build, smoke test and save"

started=0
if ! kubectl --kubeconfig "$kubeconfig" get --raw /readyz >/dev/null 2>&1; then
  started=1
fi
if ((!started)) && [[ -n "$(kubectl --kubeconfig "$kubeconfig" -n golden-system get deployment golden-operator --ignore-not-found -o name 2>/dev/null)" ]]; then
  log "the running cluster has golden deployed (make up): its operator would reconcile the tests' Images too; make down first"
  exit 1
fi
teardown() {
  local rc=$?
  if ((started)); then make --no-print-directory cluster-down && took "cluster down"; fi
  return "$rc"
}
trap teardown EXIT

# dist/ is built (the first step): -o build keeps cluster-up and test-integration from
# building it afresh twice more (8 s each).
KUBECONFIG="$kubeconfig" make --no-print-directory -o build cluster-up install || exit 1
# Build pods run golden's image on the real node: cluster-up imports the saved image (again here,
# for a cluster that was already up; a tarball that did not change is skipped).
if [[ "$REAL_NODE" == 1 ]]; then hack/cluster/images.sh || exit 1; fi
took "cluster up"
KUBECONFIG="$kubeconfig" make --no-print-directory -o build test-integration
rc=$?
took "integration tests"
exit "$rc"
