#!/usr/bin/env bash
# `make docker-smoke`: runs the built image (IMG, default golden:dev) the way the cluster does —
# uid 65532, read-only root filesystem, no capabilities, no network — and checks what used to be
# read from the Dockerfile's text: both entry points answer --help, the operator starts and stops
# on SIGTERM, the user is numeric non-root,
# the app and its production dependencies are there and dev dependencies are not, files are
# root-owned and not writable by the runtime user, and there is no shell. Prints the image size.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/common.sh"
img="${1:-${IMG:-golden:dev}}"
docker_cli="$("$here/ensure-docker.sh")"
opts=(--network none --cap-drop ALL --security-opt no-new-privileges)
run=("$docker_cli" run --rm "${opts[@]}")
fail() { echo "smoke: FAIL: $*" >&2; exit 1; }

user="$("$docker_cli" image inspect -f '{{.Config.User}}' "$img")"
[[ "$user" == 65532:65532 ]] || fail "Config.User is '$user', want 65532:65532"
entry="$("$docker_cli" image inspect -f '{{json .Config.Entrypoint}}' "$img")"
[[ "$entry" == '["golden-operator"]' ]] || fail "Entrypoint is $entry, want [\"golden-operator\"]"
echo "smoke: ok: User 65532:65532, Entrypoint [\"golden-operator\"]"

for cmd in golden-operator golden-worker; do
  out="$("${run[@]}" --read-only --entrypoint "$cmd" "$img" --help)" || fail "$cmd --help exited $?"
  [[ "$out" == "Usage: $cmd [flags]"* ]] || fail "$cmd --help printed: ${out:0:200}"
  echo "smoke: ok: $cmd --help (read-only root)"
done
out="$("${run[@]}" --read-only "$img" --help)" || fail "the default entry point exited $?"
[[ "$out" == "Usage: golden-operator [flags]"* ]] || fail "default entry point is not golden-operator"

# The operator itself on a read-only root: it starts (no cluster to reach, so its informers retry)
# and SIGTERM reaches node through the exec-form ENTRYPOINT: `docker stop` ends it with exit 0.
cid="$("$docker_cli" run -d "${opts[@]}" --read-only "$img")"
trap '"$docker_cli" rm -f "$cid" >/dev/null 2>&1 || true' EXIT
# (grep reads the whole log: with pipefail, grep -q quitting early fails the pipe with SIGPIPE.)
started() { [[ "$("$docker_cli" logs "$cid" 2>&1)" == *'"health server listening"'* ]]; }
for _ in $(seq 30); do
  started && break
  sleep 0.5
done
started ||
  fail "the operator did not start: $("$docker_cli" logs "$cid" 2>&1 | tail -n 5)"
"$docker_cli" stop -t 10 "$cid" >/dev/null
code="$("$docker_cli" inspect -f '{{.State.ExitCode}}' "$cid")"
[[ "$code" == 0 ]] || fail "the operator exited $code on SIGTERM"
echo "smoke: ok: the operator starts on a read-only root and exits 0 on SIGTERM"

# Packages package-lock.json marks dev-only: none may be in the image.
dev="$(node -e 'const l = require(process.argv[1]).packages;
  console.log(JSON.stringify(Object.keys(l).filter((k) => l[k].dev)))' "$repo/package-lock.json")"
# Not --read-only here, so that a write is refused by permissions (EACCES), not by the mount.
"${run[@]}" -e "DEV=$dev" --entrypoint /nodejs/bin/node "$img" --input-type=module -e '
  import fs from "node:fs";
  const problems = [];
  const want = (ok, what) => { if (!ok) problems.push(what); };
  want(process.getuid() === 65532 && process.getgid() === 65532, `uid:gid ${process.getuid()}:${process.getgid()}`);
  want(process.versions.node.split(".")[0] === "24", `node ${process.version}`);
  want(process.env.NODE_ENV === "production", `NODE_ENV=${process.env.NODE_ENV}`);
  for (const p of ["/app/dist/bundle/operator.mjs", "/app/dist/bundle/worker.mjs", "/app/dist/bundle/visibility-thread.mjs",
    "/app/dist/src/cmd/operator.js", "/app/dist/src/cmd/worker.js",
    "/app/node_modules/@kubernetes/client-node/package.json", "/usr/local/bin/golden-operator",
    "/usr/local/bin/golden-worker"]) want(fs.existsSync(p), `missing ${p}`);
  want(JSON.parse(fs.readFileSync("/app/package.json", "utf8")).type === "module", "package.json type");
  const dev = JSON.parse(process.env.DEV).map((p) => `/app/${p}`);
  want(dev.length > 0, "no dev packages listed");
  for (const p of [...dev, "/app/node_modules/typescript", "/app/node_modules/@biomejs", "/app/src",
    "/app/test", "/app/dist/test", "/bin/sh", "/usr/bin/sh", "/bin/bash", "/usr/bin/env"])
    want(!fs.existsSync(p), `present: ${p}`);
  let files = 0;
  const walk = (p) => {
    const st = fs.lstatSync(p);
    files++;
    if (st.uid !== 0 || st.gid !== 0) problems.push(`${p} owned by ${st.uid}:${st.gid}`);
    if (!st.isSymbolicLink() && st.mode & 0o002) problems.push(`${p} is world-writable`);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(`${p}/${e}`);
  };
  for (const p of ["/app", "/usr/local/bin"]) walk(p);
  for (const p of ["/app/x", "/app/node_modules/x", "/usr/local/bin/golden-operator"]) {
    try { fs.writeFileSync(p, "x"); problems.push(`wrote ${p}`); }
    catch (e) { want(e.code === "EACCES", `${p}: ${e.code}`); }
  }
  if (problems.length) { console.error(problems.slice(0, 20).join("\n")); process.exit(1); }
  console.log(`smoke: ok: uid 65532, node ${process.version}, app and production deps present, none of ${dev.length} dev packages, no shell, ${files} files root-owned and not writable`);
' || fail "checks inside the image"

bytes="$("$docker_cli" image inspect -f '{{.Size}}' "$img")"
echo "smoke: ok: $img is $((bytes / 1000000)) MB"
