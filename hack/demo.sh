#!/usr/bin/env bash
# `make demo`: applies the sample Images, waits for them to build, and shows the result.
set -euo pipefail
source "$(dirname "$0")/cluster/common.sh"
export KUBECONFIG="$kubeconfig"
cd "$repo"
log "applying config/samples"
kubectl apply -k config/samples
log "waiting for the samples to become Ready (the mocked builds take a few seconds each)"
if ! kubectl wait --for=condition=Ready image --all --timeout=180s; then
  kubectl get images,imagebuilds
  log "not all Images became Ready; see kubectl describe image and $logs/golden-operator.log"
  exit 1
fi
kubectl get images,imagebuilds -o wide
echo
kubectl describe image "$(kubectl get images -o jsonpath='{.items[0].metadata.name}')" | sed -n '/^Status:/,$p'
echo
echo "export KUBECONFIG=$kubeconfig   # then: kubectl get images; kubectl explain image.spec; make down"
