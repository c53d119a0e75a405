# Chaos testing (included by the Makefile). `make chaos` runs the full chaos suite (test/chaos/)
# against the current cluster: two leader-elected operators build 60 Images over 3 namespaces while
# the leader is SIGKILLed, the apiserver and etcd restart, the kubelet is killed and restarted, Jobs and pods
# are deleted and clients storm the Images with 409s; then the invariants, then 3000 fuzzed specs.
# Several minutes; it prints a summary with the seed. `make test` runs a bounded subset
# (test/integration/chaos.test.ts).
#   CHAOS_SEED=<n>                replay a run (the seed is printed at the start and in the summary)
#   CHAOS_IMAGES, CHAOS_DURATION_SECONDS, CHAOS_FUZZ, CHAOS_FUZZ_REAL   size of the run
#   CHAOS_STRICT=0                report known golden bugs (test/chaos/known-bugs.ts) without failing;
#                                 `make chaos` fails on them by default, the subset in `make test` does not
# Faults stop and restart the local control plane's processes by the pids under the cluster's
# state directory (GOLDEN_CLUSTER_DIR, default $(CLUSTER_DIR)) and bring them back with
# hack/cluster/up.sh, so the current cluster must be the local one (make cluster-up / make up).
# A golden-operator started by `make up` must not be running: it would reconcile the chaos
# namespaces too (hack/operator-bg.sh stop).

CHAOS_TIMEOUT_MS ?= 3600000
CHAOS_STRICT ?= 1

.PHONY: chaos
chaos: build install ## Full chaos run against the current local cluster (several minutes; CHAOS_SEED=<n> replays)
	GOLDEN_CLUSTER_DIR="$${GOLDEN_CLUSTER_DIR:-$(CLUSTER_DIR)}" CHAOS_STRICT=$(CHAOS_STRICT) \
		node --test --test-concurrency=1 --test-timeout=$(CHAOS_TIMEOUT_MS) --test-reporter=spec 'dist/test/chaos/*.test.js'
