# golden — build, run and test a Kubernetes-native golden OS image service.
# Every target runs on the pinned LTS Node (bootstrapped into ~/.cache/golden when the system
# Node is older) and, where it needs a cluster, on the local control plane built from source.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

NODE_BIN := $(shell hack/ensure-node.sh)
export PATH := $(NODE_BIN):$(CURDIR)/node_modules/.bin:$(PATH)
CLUSTER_DIR ?= $(CURDIR)/.cluster
export KUBECONFIG ?= $(CLUSTER_DIR)/kubeconfig

.PHONY: help
help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

##@ Development
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: node_modules/.installed ## Install npm dependencies (npm ci)

.PHONY: build
build: deps ## Compile TypeScript into dist/ (afresh: no output of a deleted source stays behind), bundle the operator and worker
	rm -rf dist
	tsc -p tsconfig.json
	node hack/bundle.mjs

.PHONY: generate
generate: deps ## Generate CRDs and TypeScript types from api/spec/
	node hack/generate.mjs

.PHONY: verify-generate
verify-generate: deps ## Fail when generated files drift from api/spec/
	node hack/generate.mjs --check

.PHONY: lint
lint: deps ## Lint and format-check (Biome)
	biome check .

##@ Local cluster
.PHONY: control-plane
control-plane: ## Build etcd, kube-apiserver, kube-controller-manager, kube-scheduler and KWOK (cached)
	hack/build-control-plane.sh
	@if [[ "$${GOLDEN_REAL_NODE:-1}" == 1 ]]; then hack/build-node.sh; fi

.PHONY: node-binaries
node-binaries: ## Build the real node: kubelet, kube-proxy, containerd, CNI plugins, pause image (cached)
	hack/build-node.sh

.PHONY: cluster-up
cluster-up: build ## Start the local cluster and its real node (idempotent; GOLDEN_REAL_NODE=0: KWOK only)
	hack/cluster/up.sh

.PHONY: image-import
image-import: image-tar ## Build golden's image, save it to .cluster/images and import it into the node's containerd
	hack/cluster/images.sh

.PHONY: cluster-down
cluster-down: ## Stop every process cluster-up started and remove .cluster/
	hack/cluster/down.sh

.PHONY: install
install: plugin ## Install the CRDs, golden's admission policies (with their params) and catalog of bases (config/catalog), and the kubectl plugin into $(CLUSTER_DIR)/bin
	kubectl apply --server-side -k config/crd
	kubectl apply --server-side -f config/manager/namespace.yaml -f config/rbac/admission_params.yaml
	kubectl apply --server-side -f config/rbac/admission_policies.yaml
	kubectl wait --for condition=Established --timeout=60s crd/images.golden.dev crd/imagebuilds.golden.dev crd/imageversions.golden.dev \
		crd/baseimages.golden.dev crd/rebuildcampaigns.golden.dev
	kubectl apply --server-side -k config/catalog

# The kubectl plugin: a launcher named kubectl-golden that runs dist/ on the pinned Node (the
# system Node may be too old for client-node), so `kubectl golden` works once the directory is on PATH.
PLUGIN_DIR := $(or $(GOLDEN_CLUSTER_DIR),$(CLUSTER_DIR))/bin
.PHONY: plugin
plugin: ## Install the kubectl plugin launcher into $(CLUSTER_DIR)/bin (export PATH=$$PWD/.cluster/bin:$$PATH)
	mkdir -p "$(PLUGIN_DIR)"
	printf '#!/bin/sh\n# kubectl golden: written by make plugin\nexec "%s/node" "%s/dist/src/cmd/kubectl-golden.js" "$$@"\n' \
		"$(NODE_BIN)" "$(CURDIR)" > "$(PLUGIN_DIR)/kubectl-golden"
	chmod +x "$(PLUGIN_DIR)/kubectl-golden"
	@test -f dist/src/cmd/kubectl-golden.js || echo "kubectl-golden: run make build first"
	@echo "kubectl golden: export PATH=$(PLUGIN_DIR):\$$PATH"

.PHONY: uninstall
uninstall: ## Remove the CRDs (and with them every Image, ImageBuild, BaseImage and RebuildCampaign)
	kubectl delete --ignore-not-found -f config/rbac/admission_policies.yaml -f config/rbac/admission_params.yaml
	kubectl delete --ignore-not-found -k config/crd

.PHONY: up
up: cluster-up image-import plugin ## cluster-up, golden's image into the real node, then config/default deployed on it (config/local)
	hack/deploy-local.sh

.PHONY: down
down: cluster-down docker-down ## Stop the cluster (the operator with it) and a dockerd that docker-build started

.PHONY: run
run: build install ## Run the operator in the foreground against the current KUBECONFIG
	hack/operator-bg.sh foreground

.PHONY: demo
demo: up ## From nothing: cluster, CRDs, operator, samples; wait and show the result
	hack/demo.sh

##@ Test
.PHONY: test-unit
test-unit: build ## Unit tests (no cluster)
	node --test --test-concurrency=$(shell nproc) --test-reporter=spec 'dist/test/unit/**/*.test.js'

.PHONY: test-integration
test-integration: build ## Integration tests against the running local cluster (cluster-wide ones alone, the rest side by side)
	hack/test-integration.sh

.PHONY: test
test: ## Everything CI runs: generate check, lint, unit, image build + smoke, cluster up, integration, cluster down
	hack/test.sh

# Shipping (Docker image, kind, deploy), benchmarks and chaos live in their own fragments.
include hack/deploy.mk
-include hack/bench.mk
-include hack/chaos.mk
