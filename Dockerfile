# golden's container image: one image, two entry points on PATH.
#   golden-operator  the operator Deployment (config/manager) — the default ENTRYPOINT
#   golden-worker    build Jobs' pods (src/controllers/job-template.ts runs command: ["golden-worker"])
#
# Stages: build (npm ci + tsc), deps (production node_modules only: npm ci --omit=dev) and the
# runtime, distroless Node 24: no shell, no package manager, uid/gid 65532 (the runAsUser of
# build pods), root-owned read-only files and nothing written at run time, so it runs with
# readOnlyRootFilesystem. Build with BuildKit: `make docker-build` (see docs/deploy.md), which also
# builds local stand-ins for the two base images where they cannot be pulled, and
# `make docker-smoke` runs the result. No `# syntax=` line: that would pull a frontend image;
# the built-in frontend (Docker 20.10+) has RUN --mount.

# Node 24 (Active LTS) on both sides; Debian 12 in both, so the glibc of build and runtime match.
ARG NODE_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot
# npm registry for npm ci (e.g. a mirror: --build-arg NPM_REGISTRY="$(npm config get registry)");
# unset, npm uses its default. Extra CA certificates for it (a TLS-inspecting proxy) come in as the
# optional BuildKit secret npm-ca (--secret id=npm-ca,src=FILE), so they stay out of the layers.
ARG NPM_REGISTRY

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
ARG NPM_REGISTRY
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=npm-ca \
    if [ -f /run/secrets/npm-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca; fi && \
    npm ci ${NPM_REGISTRY:+--registry="$NPM_REGISTRY"} --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src/ src/
# tsconfig.json also includes test/ and hack/, which .dockerignore keeps out: only dist/src/ is built.
RUN node_modules/.bin/tsc -p tsconfig.json
# The entry points run bundled (esbuild; hack/bundle.mjs says why): dist/bundle/{operator,worker}.mjs, and
# the operator's visibility thread, dist/bundle/visibility-thread.mjs.
COPY hack/bundle.mjs hack/
RUN node hack/bundle.mjs operator worker visibility-thread
# Entry points for PATH: distroless has neither a shell nor the /usr/bin/env that the
# `#!/usr/bin/env node` of the bundles needs, so each is a two-line script run by the
# runtime image's own node binary (/nodejs/bin/node).
RUN mkdir bin && for cmd in operator worker; do \
      printf '#!/nodejs/bin/node\nimport("/app/dist/bundle/%s.mjs");\n' "$cmd" >"bin/golden-$cmd"; \
    done && chmod 0555 bin/golden-*

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
ARG NPM_REGISTRY
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=npm-ca \
    if [ -f /run/secrets/npm-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca; fi && \
    npm ci ${NPM_REGISTRY:+--registry="$NPM_REGISTRY"} --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${RUNTIME_IMAGE} AS runtime
LABEL org.opencontainers.image.title="golden" \
      org.opencontainers.image.description="Kubernetes operator and build worker for golden OS images" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
# package.json carries "type": "module", which Node needs to load dist/ as ES modules.
# COPY creates /app root-owned; WORKDIR first would create it owned by the base's USER (nonroot).
COPY --from=deps /app/package.json /app/package.json
COPY --from=deps /app/node_modules/ /app/node_modules/
COPY --from=build /app/dist/src/ /app/dist/src/
COPY --from=build /app/dist/bundle/ /app/dist/bundle/
COPY --from=build /app/bin/ /usr/local/bin/
WORKDIR /app
# Numeric, so the kubelet can verify runAsNonRoot without an /etc/passwd lookup.
USER 65532:65532
EXPOSE 8081
ENTRYPOINT ["golden-operator"]
CMD []
