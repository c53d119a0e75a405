#!/usr/bin/env bash
# A stand-in for `make docker-build image-tar` on a machine without a container engine or
# registry: assembles golden's image (golden:dev) from this machine's Node binary (with the shared
# libraries it links), production node_modules and dist/src, in the runtime layout of the
# Dockerfile (/nodejs/bin/node, /app, golden-operator and golden-worker on PATH, uid 65532), and
# writes it as an OCI image tarball for hack/cluster/images.sh. Usage: dev-image.sh [out.tar]
set -euo pipefail
source "$(dirname "$0")/common.sh"
out="${1:-$images_dir/golden-dev.tar}"
node="$("$repo/hack/ensure-node.sh")/node"
[[ -f "$repo/dist/src/cmd/worker.js" ]] || { log "dist/ missing: run make build first"; exit 1; }

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/nodejs/bin" "$root/app" "$root/usr/local/bin" "$root/tmp"
chmod 1777 "$root/tmp"
cp "$node" "$root/nodejs/bin/node"
# The dynamic loader and every library the node binary links, at their paths on this machine.
ldd "$node" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}' | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp "$repo/package.json" "$repo/package-lock.json" "$root/app/"
(cd "$root/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
rm -f "$root/app/package-lock.json"
mkdir -p "$root/app/dist"
cp -r "$repo/dist/src" "$root/app/dist/src"
for cmd in operator worker; do
  printf '#!/nodejs/bin/node\nimport("/app/dist/src/cmd/%s.js");\n' "$cmd" >"$root/usr/local/bin/golden-$cmd"
  chmod 0555 "$root/usr/local/bin/golden-$cmd"
done
mkdir -p "$(dirname "$out")"
adds=()
for d in "$root"/*; do adds+=(--add "$d:/$(basename "$d")"); done
[[ -d "$root/lib64" ]] || true
python3 "$repo/hack/oci-image.py" --name "${IMG:-golden:dev}" "${adds[@]}" \
  --entrypoint golden-operator --user 65532:65532 --workdir /app \
  --env PATH=/usr/local/bin:/nodejs/bin:/usr/bin:/bin --env NODE_ENV=production \
  --env NODE_OPTIONS=--enable-source-maps --out "$out"
log "wrote $out ($(du -h "$out" | cut -f1))"
