// The container image, checked without a Docker engine: the Dockerfile's structure and policy
// (through hack/check-dockerfile.mjs, which `make verify-dockerfile` runs too), the .dockerignore,
// the PATH wrappers its build stage writes, and the entry points they start.
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import type { ImageBuild } from "../../../src/api/v1alpha1/index.js";
import { buildJob } from "../../../src/controllers/job-template.js";

const repo = new URL("../../../../", import.meta.url).pathname;
const run = promisify(execFile);

interface Instruction {
  keyword: string;
  args: string;
  flags: Record<string, string>;
  line: number;
}
interface Stage {
  name?: string;
  image: string;
  fromStage: boolean;
  instructions: Instruction[];
}
interface Checker {
  parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] };
  checkDockerfile(text: string, ignoreText?: string): string[];
  dockerignore(text: string): (path: string) => boolean;
  isNode24(image: string): boolean;
}

const checker = (await import(pathToFileURL(path.join(repo, "hack/check-dockerfile.mjs")).href)) as Checker;
const dockerfile = fs.readFileSync(path.join(repo, "Dockerfile"), "utf8");
const ignore = fs.readFileSync(path.join(repo, ".dockerignore"), "utf8");
const { stages } = checker.parseDockerfile(dockerfile);
const final = stages.at(-1) as Stage;
const stage = (name: string) => {
  const s = stages.find((x) => x.name === name);
  assert.ok(s, `stage ${name}`);
  return s;
};
const runs = (s: Stage) => s.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args);

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

describe("Dockerfile", () => {
  it("is multi-stage: build (npm ci + tsc), deps (npm ci --omit=dev) and a runtime fed by both", () => {
    assert.ok(stages.length >= 3, `${stages.length} stages`);
    assert.ok(runs(stage("build")).some((r) => /\bnpm ci\b/.test(r) && !/--omit=dev/.test(r)));
    assert.ok(runs(stage("build")).some((r) => /\btsc -p tsconfig\.json\b/.test(r)));
    assert.ok(runs(stage("deps")).every((r) => !/\bnpm (ci|install)\b/.test(r) || /--omit=dev/.test(r)));
    assert.ok(runs(stage("deps")).some((r) => /\bnpm ci\b.*--omit=dev/.test(r)));
    const copies = final.instructions.filter((i) => i.keyword === "COPY");
    assert.ok(
      copies.every((c) => c.flags.from),
      "the runtime takes nothing from the build context",
    );
    const fromDeps = copies.filter((c) => c.flags.from === "deps").map((c) => c.args);
    assert.ok(
      fromDeps.some((a) => a.startsWith("/app/node_modules/")),
      "node_modules from the production-only stage",
    );
    assert.ok(copies.some((c) => c.flags.from === "build" && c.args.startsWith("/app/dist/src/")));
    assert.ok(
      !copies.some((c) => c.flags.from === "build" && /node_modules/.test(c.args)),
      "no dev dependencies",
    );
  });

  it("pins every base image to Node 24, with a distroless Node 24 runtime", () => {
    const bases = stages.filter((s) => !s.fromStage).map((s) => s.image);
    assert.ok(bases.length >= 2);
    for (const image of bases) assert.ok(checker.isNode24(image), image);
    assert.match(final.image, /^gcr\.io\/distroless\/nodejs24-debian\d+:nonroot$/);
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

  it("runs the final stage as numeric non-root USER 65532, the runAsUser of build pods", () => {
    const users = final.instructions.filter((i) => i.keyword === "USER");
    assert.equal(users.at(-1)?.args, "65532:65532");
    assert.equal(workerPod?.securityContext?.runAsUser, 65532);
    assert.equal(workerPod?.securityContext?.runAsGroup, 65532);
    assert.equal(workerPod?.containers[0]?.securityContext?.readOnlyRootFilesystem, true);
  });

  it("passes hack/check-dockerfile.mjs, which catches each kind of violation", () => {
    assert.deepEqual(checker.checkDockerfile(dockerfile, ignore), []);
    const mutants: [string, string, RegExp, string?][] = [
      ["no USER", dockerfile.replace(/^USER .*$/m, ""), /no USER/],
      ["USER by name", dockerfile.replace(/^USER .*$/m, "USER nonroot"), /not numeric/],
      ["USER root", dockerfile.replace(/^USER .*$/m, "USER 0:0"), /is root/],
      [
        "Node 22 builder",
        dockerfile.replace("=node:24-bookworm-slim", "=node:22-bookworm-slim"),
        /node:22.*not a Node 24/,
      ],
      [
        "floating runtime",
        dockerfile.replace(/nodejs24-debian12:nonroot/, "nodejs24-debian12:latest"),
        /pinned tag/,
      ],
      [
        "dev deps shipped",
        dockerfile.replace("--from=deps /app/node_modules/", "--from=build /app/node_modules/"),
        /installs dev dependencies/,
      ],
      ["no --omit=dev", dockerfile.replaceAll("--omit=dev ", ""), /--omit=dev/],
      ["one stage", 'FROM node:24-slim\nUSER 1000\nENTRYPOINT ["node"]\n', /multi-stage/],
      [
        "shell-form entry point",
        dockerfile.replace(/^ENTRYPOINT .*$/m, "ENTRYPOINT golden-operator"),
        /not exec form/,
      ],
      [
        "no wrappers on PATH",
        dockerfile.replace(/^COPY --from=build \/app\/bin\/.*$/m, ""),
        /\/usr\/local\/bin/,
      ],
      ["RUN on distroless", dockerfile.replace(/^USER /m, "RUN echo hi\nUSER "), /distroless/],
      [
        "secret in ENV",
        dockerfile.replace("NODE_ENV=production", "NPM_TOKEN=abc NODE_ENV=production"),
        /NPM_TOKEN looks like a secret/,
      ],
      ["empty .dockerignore", dockerfile, /node_modules is sent to the builder/, ""],
      ["src ignored", dockerfile, /excludes src\//, `${ignore}src/\n`],
    ];
    for (const [what, text, want, ignoreText] of mutants) {
      const problems = checker.checkDockerfile(text, ignoreText ?? ignore);
      assert.ok(
        problems.some((p) => want.test(p)),
        `${what}: ${JSON.stringify(problems)}`,
      );
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

  it("puts golden-operator (the ENTRYPOINT) and golden-worker (the Job's command) on PATH, and they start", async () => {
    assert.deepEqual(JSON.parse(final.instructions.find((i) => i.keyword === "ENTRYPOINT")?.args ?? "null"), [
      "golden-operator",
    ]);
    assert.deepEqual(workerPod?.containers[0]?.command, ["golden-worker"]);
    assert.ok(
      final.instructions.some(
        (i) => i.keyword === "COPY" && i.flags.from === "build" && i.args === "/app/bin/ /usr/local/bin/",
      ),
    );

    // Run the build stage's wrapper step as written, in a scratch WORKDIR.
    const step = runs(stage("build")).find((r) => r.includes("golden-"));
    assert.ok(step, "a RUN writing the wrappers");
    const workdir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-wrappers-"));
    try {
      await run("sh", ["-c", step], { cwd: workdir });
      assert.deepEqual(fs.readdirSync(path.join(workdir, "bin")).sort(), [
        "golden-operator",
        "golden-worker",
      ]);
      for (const [name, summary] of [
        ["golden-operator", "Reconciles golden.dev Images"],
        ["golden-worker", "Builds (mocks) one ImageBuild"],
      ] as const) {
        const file = path.join(workdir, "bin", name);
        assert.equal(fs.statSync(file).mode & 0o777, 0o555, `${name} is executable and read-only`);
        const text = fs.readFileSync(file, "utf8");
        // The node binary of gcr.io/distroless/nodejs*: the image has no /usr/bin/env.
        assert.equal(text.split("\n")[0], "#!/nodejs/bin/node");
        // Same script, /app being this checkout (whose dist/ is what the build stage produces).
        const local = path.join(workdir, `${name}.local`);
        fs.writeFileSync(local, text.replaceAll("/app/", repo));
        const { stdout } = await run(process.execPath, [local, "--help"], { cwd: workdir });
        assert.ok(stdout.startsWith(`Usage: ${name} [flags]\n\n${summary}`), stdout);
      }
    } finally {
      fs.rmSync(workdir, { recursive: true, force: true });
    }
  });
});

describe("entry points in dist/", () => {
  for (const [cmd, name] of [
    ["operator", "golden-operator"],
    ["worker", "golden-worker"],
  ] as const) {
    it(`${name} --help lists every flag with its environment variable`, () => {
      const source = fs.readFileSync(path.join(repo, "src/cmd", `${cmd}.ts`), "utf8");
      const table = source.slice(
        source.indexOf("const FLAGS"),
        source.indexOf("];", source.indexOf("const FLAGS")),
      );
      const flags = [...table.matchAll(/name: "([a-z][a-z0-9-]*)"/g)].map((m) => m[1] ?? "");
      assert.ok(flags.length >= (cmd === "operator" ? 20 : 5), `${flags.length} flags in src/cmd/${cmd}.ts`);
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
