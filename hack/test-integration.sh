#!/usr/bin/env bash
# make test-integration: the integration test files against the running local cluster. Most keep
# to namespaces and operators of their own and run side by side; the files that change the whole
# cluster then run one at a time: the chaos subset (restarts the apiserver and etcd, kills the
# kubelet), the apiserver outage, and the files whose operator watches every namespace (it would
# reconcile the other files' Images): scheduling (fair share across namespaces), the in-cluster
# deployment, and the visibility API (also the cluster's one APIService for it).
set -uo pipefail
cd "$(dirname "$0")/.."
# kubectl's discovery cache belongs to this cluster: one kept from an earlier cluster on the same
# address can name resources this one does not serve.
export KUBECACHEDIR="${GOLDEN_CLUSTER_DIR:-$PWD/.cluster}/kubectl-cache"
exclusive=(chaos apiserver-outage scheduling in-cluster visibility)
shared=()
for f in dist/test/integration/*.test.js; do
  name="$(basename "$f" .test.js)"
  [[ " ${exclusive[*]} " == *" $name "* ]] || shared+=("$f")
done
run() { node --test --test-timeout=600000 --test-reporter=spec "$@"; }
run --test-concurrency="${GOLDEN_TEST_CONCURRENCY:-3}" "${shared[@]}"
rc=$?
files=(); for n in "${exclusive[@]}"; do files+=("dist/test/integration/$n.test.js"); done
run --test-concurrency=1 "${files[@]}"
rc2=$?
((rc == 0 && rc2 == 0))
