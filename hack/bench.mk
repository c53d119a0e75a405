# `make bench` (included by the Makefile): golden's performance on a dedicated local cluster.
# Not part of `make test`. See bench/README.md for what it measures and the BENCH_* knobs.

##@ Benchmark
.PHONY: bench
bench: build ## Benchmark bursts of N Images (BENCH_N=100,1000,5000) on a dedicated cluster; results in bench/results/
	hack/bench.sh
