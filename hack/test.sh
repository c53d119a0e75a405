#!/usr/bin/env bash
# `make test`: static checks, unit tests, then integration tests against the local cluster, whose
# real node runs build pods from golden's image (make image-import).
# The cluster is brought up if needed and taken down afterwards, even when tests fail — unless it
# was already running before (a developer's `make up`), which is then left as it was.
set -uo pipefail
cd "$(dirname "$0")/.."
source hack/cluster/common.sh

make --no-print-directory verify-generate lint test-unit || exit 1

started=0
if ! kubectl --kubeconfig "$kubeconfig" get --raw /readyz >/dev/null 2>&1; then
  started=1
fi
teardown() { if ((started)); then make --no-print-directory cluster-down; fi; }
trap teardown EXIT

KUBECONFIG="$kubeconfig" make --no-print-directory cluster-up install || exit 1
# Build pods run golden's image on the real node: build it and import it into the node's containerd.
if [[ "$REAL_NODE" == 1 ]]; then
  make --no-print-directory image-import || exit 1
fi
KUBECONFIG="$kubeconfig" make --no-print-directory test-integration
