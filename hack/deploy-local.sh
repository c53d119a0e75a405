#!/usr/bin/env bash
# make up's last step: deploys config/local (config/default as shipped, arm64 emulated) into the
# local cluster, running the golden:dev image that make image-import put in the node's containerd,
# and waits for the rollout. Idempotent; a newer golden:dev restarts the operator's pods.
set -euo pipefail
source "$(dirname "$0")/cluster/common.sh"
export KUBECONFIG="$kubeconfig"
cd "$repo"

# The CRDs first: config/local also holds the catalog's BaseImages, which need their CRD served.
kubectl apply --server-side --force-conflicts -k config/crd >/dev/null
kubectl wait --for condition=Established --timeout=60s crd/images.golden.dev crd/imagebuilds.golden.dev \
  crd/baseimages.golden.dev crd/rebuildcampaigns.golden.dev >/dev/null
kubectl apply --server-side --force-conflicts -k config/local >/dev/null
# The tag stays golden:dev while the image behind it changes: the image's digest in the pod
# template rolls the Deployment exactly when the node got a new image.
digest="$(ctr_ images ls "name==docker.io/library/golden:dev" | awk 'NR == 2 { print $3 }')"
[[ -n "$digest" ]] || { log "golden:dev is not in the node's containerd: run make image-import"; exit 1; }
kubectl -n golden-system patch deployment golden-operator --type merge \
  -p "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"golden.dev/image-digest\":\"$digest\"}}}}}" >/dev/null
log "waiting for the golden-operator Deployment (image $digest)"
if ! kubectl -n golden-system rollout status deployment/golden-operator --timeout=180s; then
  kubectl -n golden-system get pods -o wide
  kubectl -n golden-system describe pods | tail -30
  exit 1
fi
kubectl -n golden-system get pods -o wide
