// The container image, as far as reading text can check it. The image itself is built and run by
// `make docker-smoke` (hack/image/build.sh, smoke.sh; part of `make test`), which checks its user,
// entry points, contents and permissions; what is left here is what the build cannot show: the
// public default bases, the .dockerignore and secret-looking names (hack/check-dockerfile.mjs,
// which `make verify-dockerfile` runs too), plus the build pod's side of the image contract.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import type { ImageBuild } from "../../../src/api/v1alpha1/index.js";
import { OPERATOR_FLAGS } from "../../../src/cmd/operator/flags.js";
import { WORKER_FLAGS } from "../../../src/cmd/worker/flags.js";
import { buildJob } from "../../../src/controllers/job-template.js";

const repo = new URL("../../../../", import.meta.url).pathname;

interface Checker {
  checkDockerfile(text: string, ignoreText?: string): string[];
  dockerignore(text: string): (path: string) => boolean;
  isNode24(image: string): boolean;
}

const checker = (await import(pathToFileURL(path.join(repo, "hack/check-dockerfile.mjs")).href)) as Checker;
const dockerfile = fs.readFileSync(path.join(repo, "Dockerfile"), "utf8");
const ignore = fs.readFileSync(path.join(repo, ".dockerignore"), "utf8");

/** The pod a build Job runs (controllers/job-template.ts), for what the image must match. */
const workerPod = buildJob(
  {
    apiVersion: "golden.dev/v1alpha1",
    kind: "ImageBuild",
    metadata: { name: "b", namespace: "ns", uid: "u" },
    spec: {
      imageName: "i",
      imageGeneration: 1,
      image: { base: { os: "ubuntu", release: "24.04" }, formats: ["qcow2"] },
    },
  } as ImageBuild,
  {
    image: "golden:dev",
    serviceAccount: "golden-worker",
    nodeSelector: {},
    tolerations: [],
    resources: {},
    heartbeatSeconds: 10,
    timeoutGraceSeconds: 30,
  },
).spec?.template.spec;

describe("Dockerfile (what the build cannot check)", () => {
  it("passes hack/check-dockerfile.mjs, which catches each kind of violation", () => {
    assert.deepEqual(checker.checkDockerfile(dockerfile, ignore), []);
    const mutants: [string, string, RegExp, string?][] = [
      [
        "Node 22 builder",
        dockerfile.replace("=node:24-bookworm-slim", "=node:22-bookworm-slim"),
        /NODE_IMAGE=node:22.*not a Node 24/,
      ],
      [
        "floating runtime",
        dockerfile.replace(/nodejs24-debian12:nonroot/, "nodejs24-debian12:latest"),
        /pinned tag/,
      ],
      [
        "root runtime",
        dockerfile.replace(/nodejs24-debian12:nonroot/, "nodejs24-debian12:debug"),
        /distroless nodejs24 :nonroot/,
      ],
      ["no base ARG", dockerfile.replace(/^ARG NODE_IMAGE=.*$/m, ""), /no global ARG NODE_IMAGE/],
      [
        "hard-coded base",
        dockerfile.replace(/^FROM \$\{NODE_IMAGE\} AS deps$/m, "FROM node:24-bookworm-slim AS deps"),
        /FROM node:24-bookworm-slim .*local bases/,
      ],
      [
        "secret in ENV",
        dockerfile.replace("NODE_ENV=production", "NPM_TOKEN=abc NODE_ENV=production"),
        /NPM_TOKEN looks like a secret/,
      ],
      [
        "secret ARG",
        dockerfile.replace(/^ARG NPM_REGISTRY$/m, "ARG NPM_TOKEN"),
        /NPM_TOKEN looks like a secret/,
      ],
      ["ADD of a URL", dockerfile.replace(/^USER /m, "ADD https://example.com/x /x\nUSER "), /ADD of a URL/],
      ["empty .dockerignore", dockerfile, /node_modules is sent to the builder/, ""],
    ];
    for (const [what, text, want, ignoreText] of mutants) {
      const problems = checker.checkDockerfile(text, ignoreText ?? ignore);
      assert.ok(
        problems.some((p) => want.test(p)),
        `${what}: ${JSON.stringify(problems)}`,
      );
    }
    // The matcher itself: other majors, floating and untagged images are refused.
    for (const image of [
      "node:22-slim",
      "node:latest",
      "node",
      "node:240",
      "gcr.io/distroless/nodejs22-debian12",
      "gcr.io/distroless/nodejs24-debian12:latest",
    ]) {
      assert.equal(checker.isNode24(image), false, image);
    }
    for (const image of [
      "node:24",
      "node:24.11.1-trixie-slim",
      "docker.io/library/node:24-alpine",
      "gcr.io/distroless/nodejs24-debian13:nonroot",
    ]) {
      assert.equal(checker.isNode24(image), true, image);
    }
  });

  it("has a .dockerignore that sends only the build's inputs", () => {
    const excluded = checker.dockerignore(ignore);
    for (const p of [
      "node_modules/yaml/index.js",
      "dist/src/cmd/operator.js",
      ".cluster/pki/ca.key",
      ".git/HEAD",
      "test/unit/x.ts",
      "hack/deploy.mk",
    ]) {
      assert.ok(excluded(p), `${p} is excluded`);
    }
    for (const p of ["package.json", "package-lock.json", "tsconfig.json", "src/cmd/operator.ts"]) {
      assert.ok(!excluded(p), `${p} is sent`);
    }
  });

  it("build pods match the image: command golden-worker, uid/gid 65532, read-only root", () => {
    // The image side (ENTRYPOINT, golden-worker on PATH, User 65532:65532, runs read-only) is
    // checked on the built image by hack/image/smoke.sh.
    assert.deepEqual(workerPod?.containers[0]?.command, ["golden-worker"]);
    assert.equal(workerPod?.securityContext?.runAsUser, 65532);
    assert.equal(workerPod?.securityContext?.runAsGroup, 65532);
    assert.equal(workerPod?.containers[0]?.securityContext?.readOnlyRootFilesystem, true);
  });
});

describe("entry points in dist/", () => {
  for (const [cmd, name, table] of [
    ["operator", "golden-operator", OPERATOR_FLAGS],
    ["worker", "golden-worker", WORKER_FLAGS],
  ] as const) {
    it(`${name} --help lists every flag with its environment variable`, () => {
      const flags = table.map((f) => f.name);
      assert.ok(flags.length >= (cmd === "operator" ? 20 : 5), `${flags.length} flags of ${name}`);
      const res = spawnSync(process.execPath, [path.join(repo, "dist/src/cmd", `${cmd}.js`), "--help"], {
        encoding: "utf8",
      });
      assert.equal(res.status, 0, res.stderr);
      const help = res.stdout;
      assert.match(help, new RegExp(`^Usage: ${name} \\[flags\\]`));
      for (const flag of flags) {
        const env = `GOLDEN_${flag.toUpperCase().replaceAll("-", "_")}`;
        assert.match(
          help,
          new RegExp(`^  --${flag}( <\\w+>)?\\n {6}.*\\[\\$${env}\\]$`, "m"),
          `--${flag} with $${env}`,
        );
      }
      const listed = help.split("\n").filter((l) => /^ {2}--/.test(l));
      assert.equal(listed.length, flags.length + 1, "no flag listed that the table lacks (besides --help)");
    });
  }

  it("read their flags from the environment (a bad value is refused, naming the flag)", () => {
    const operator = spawnSync(process.execPath, [path.join(repo, "dist/src/cmd/operator.js")], {
      encoding: "utf8",
      env: { ...process.env, GOLDEN_LOG_LEVEL: "loud" },
    });
    assert.equal(operator.status, 1);
    assert.match(operator.stderr, /--log-level: want debug, info, warn or error, got "loud"/);
    const worker = spawnSync(process.execPath, [path.join(repo, "dist/src/cmd/worker.js")], {
      encoding: "utf8",
      env: { ...process.env, GOLDEN_HEARTBEAT_SECONDS: "often" },
    });
    assert.equal(worker.status, 2);
    assert.match(worker.stderr, /--heartbeat-seconds: want a number, got "often"/);
  });
});
