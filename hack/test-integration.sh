#!/usr/bin/env bash
# make test-integration: the integration test files against the running local cluster. Most keep
# to namespaces and operators of their own (an operator's --namespace takes a list) and run side
# by side; the files that change the whole cluster then run one at a time: the chaos subset
# (restarts the apiserver and etcd, kills the kubelet), the apiserver outage, and the in-cluster
# deployment (its operator watches every namespace and would reconcile the other files' Images).
set -uo pipefail
cd "$(dirname "$0")/.."
# kubectl's discovery cache belongs to this cluster: one kept from an earlier cluster on the same
# address can name resources this one does not serve.
export KUBECACHEDIR="${GOLDEN_CLUSTER_DIR:-$PWD/.cluster}/kubectl-cache"
exclusive=(chaos apiserver-outage in-cluster)
# The longest shared files start first, so the lane does not end on one long file started last
# (about 2 minutes each: retries/timeouts/cron, fair-share scheduling, versions, campaigns, deploy).
longest=(build-policy scheduling versions campaign deploy)
shared=()
for n in "${longest[@]}"; do shared+=("dist/test/integration/$n.test.js"); done
for f in dist/test/integration/*.test.js; do
  name="$(basename "$f" .test.js)"
  [[ " ${exclusive[*]} ${longest[*]} " == *" $name "* ]] || shared+=("$f")
done
run() { node --test --test-timeout=600000 --test-reporter=spec "$@"; }
run --test-concurrency="${GOLDEN_TEST_CONCURRENCY:-4}" "${shared[@]}"
rc=$?
files=(); for n in "${exclusive[@]}"; do files+=("dist/test/integration/$n.test.js"); done
run --test-concurrency=1 "${files[@]}"
rc2=$?
((rc == 0 && rc2 == 0))
