// The Image API: the apiserver itself refuses bad Images naming the field, serves the
// published schema, and kubectl shows useful columns and field docs.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Image, ImageBuild } from "../../src/api/v1alpha1/index.js";
import { apiErrorMessage } from "../../src/runtime/api-errors.js";
import { maximalSpec, specLimits } from "../support/spec-limits.js";
import { storedSize } from "../support/worst-case-size.js";
import { golden, kubectl, scratchNamespace } from "./cluster.js";

/** The spec's size limits, from the generated CRD. */
const L = specLimits();

const valid = (): Image["spec"] => ({
  base: { os: "ubuntu", release: "24.04", arch: "amd64" },
  formats: ["qcow2"],
  customizations: {
    files: [{ path: "/etc/motd", content: "hi", mode: "0644" }],
    users: [{ name: "ops", groups: ["wheel"] }],
    services: { enabled: ["sshd"], disabled: [] },
  },
  build: { timeoutSeconds: 600, simulate: { stepSeconds: 0 } },
});

// biome-ignore lint/suspicious/noExplicitAny: the cases mutate arbitrary JSON on purpose
type Spec = Record<string, any>;
type Mutation = (spec: Spec) => void;

/** Each bad input, and the field its error must name. */
const BAD_INPUTS: Array<[string, Mutation, RegExp]> = [
  ["missing base", (s) => delete s.base, /spec\.base: Required value/],
  ["unknown os", (s) => (s.base.os = "windows"), /spec\.base\.os: Unsupported value: "windows"/],
  ["unknown arch", (s) => (s.base.arch = "riscv64"), /spec\.base\.arch: Unsupported value: "riscv64"/],
  [
    "arch not built for the os",
    (s) => {
      s.base = { os: "sles", release: "15-SP6", arch: "arm64" };
    },
    /spec\.base\.arch: Invalid value.*arm64 is not supported for os sles/,
  ],
  ["release with a space", (s) => (s.base.release = "24 04"), /spec\.base\.release: Invalid value/],
  [
    "no formats",
    (s) => (s.formats = []),
    /spec\.formats: Invalid value: 0: spec\.formats in body should have at least 1 items/,
  ],
  [
    "duplicate format",
    (s) => (s.formats = ["qcow2", "qcow2"]),
    /spec\.formats\[1\]: Duplicate value: "qcow2"/,
  ],
  ["unknown format", (s) => (s.formats = ["dmg"]), /spec\.formats\[0\]: Unsupported value: "dmg"/],
  [
    "relative file path",
    (s) => (s.customizations.files[0].path = "etc/motd"),
    /spec\.customizations\.files\[0\]\.path: Invalid value.*must be absolute/,
  ],
  [
    "file path with ..",
    (s) => (s.customizations.files[0].path = "/etc/../shadow"),
    /spec\.customizations\.files\[0\]\.path: Invalid value.*'\.\.'/,
  ],
  [
    "file mode not octal",
    (s) => (s.customizations.files[0].mode = "0999"),
    /spec\.customizations\.files\[0\]\.mode: Invalid value/,
  ],
  [
    "bad user name",
    (s) => (s.customizations.users[0].name = "Root!"),
    /spec\.customizations\.users\[0\]\.name: Invalid value/,
  ],
  [
    "service enabled and disabled",
    (s) => (s.customizations.services.disabled = ["sshd"]),
    /spec\.customizations\.services: Invalid value.*sshd cannot be both enabled and disabled/,
  ],
  [
    "timeout too short",
    (s) => (s.build.timeoutSeconds = 5),
    /spec\.build\.timeoutSeconds: Invalid value: 5: spec\.build\.timeoutSeconds in body should be greater than or equal to 60/,
  ],
  [
    "timeout shorter than a step",
    (s) => (s.build.simulate.stepSeconds = 900),
    /spec\.build\.timeoutSeconds: Invalid value.*greater than simulate\.stepSeconds/,
  ],
  ["too many retries", (s) => (s.build.retries = 11), /spec\.build\.retries: Invalid value: 11/],
  [
    "failAt a step that never runs",
    (s) => (s.build.simulate.failAt = "convert-iso"),
    /spec\.build\.simulate\.failAt: Invalid value.*format iso is not listed in formats/,
  ],
  [
    "unknown failAt step",
    (s) => (s.build.simulate.failAt = "reticulate"),
    /spec\.build\.simulate\.failAt: Invalid value: "reticulate"/,
  ],
  [
    "bad cron schedule",
    (s) => (s.rebuild = { schedule: "every day" }),
    /spec\.rebuild\.schedule: Invalid value: "every day"/,
  ],
  [
    "file path with //",
    (s) => (s.customizations.files = [{ path: "/etc//motd" }]),
    /spec\.customizations\.files\[0\]\.path: Invalid value: path must be normalized/,
  ],
  [
    "file path with a control character",
    (s) => (s.customizations.files = [{ path: "/etc/mo\u0007td" }]),
    /spec\.customizations\.files\[0\]\.path: Invalid value: path must not contain control characters/,
  ],
  [
    "file under /proc",
    (s) => (s.customizations.files = [{ path: "/proc/sys/kernel/core_pattern" }]),
    /spec\.customizations\.files\[0\]\.path: Invalid value: path must not be under \/proc, \/sys or \/dev/,
  ],
  [
    "setuid file mode",
    (s) => (s.customizations.files = [{ path: "/usr/bin/x", mode: "4755" }]),
    /spec\.customizations\.files\[0\]\.mode: Invalid value: mode must not set the setuid, setgid or sticky bit/,
  ],
  [
    "kernel arg with shell syntax",
    (s) => (s.customizations.kernelArgs = ["init=$(reboot)"]),
    /spec\.customizations\.kernelArgs\[0\]: Invalid value: "init=\$\(reboot\)"/,
  ],
  [
    "kernel args longer than the kernel's 2048 characters",
    (s) => (s.customizations.kernelArgs = Array.from({ length: 9 }, () => "x".repeat(256))),
    /spec\.customizations\.kernelArgs: Invalid value: .*2048 characters/,
  ],
  [
    "SSH key comment with a control character",
    (s) => (s.customizations.users[0].sshAuthorizedKeys = ["ssh-ed25519 AAAA bob\u001b[2J"]),
    /spec\.customizations\.users\[0\]\.sshAuthorizedKeys\[0\]: Invalid value/,
  ],
  [
    "schedule that is not five fields: the pattern's error, not the rules that read fields",
    (s) => (s.rebuild = { schedule: "every sunday" }),
    /^(?![\s\S]*(too often|out of range))[\s\S]*spec\.rebuild\.schedule: Invalid value: "every sunday"/,
  ],
  [
    "schedule with a day of week out of range",
    (s) => (s.rebuild = { schedule: "0 3 * * 8" }),
    /spec\.rebuild\.schedule: Invalid value: .*number out of range: .*day of week 0-7/,
  ],
  [
    "schedule with an hour out of range",
    (s) => (s.rebuild = { schedule: "0 24 1 1 *" }),
    /spec\.rebuild\.schedule: Invalid value: .*number out of range/,
  ],
  [
    "schedule firing every minute",
    (s) => (s.rebuild = { schedule: "*/2 * * * *" }),
    /spec\.rebuild\.schedule: Invalid value: .*schedule fires too often/,
  ],
  [
    "kernel arg with whitespace",
    (s) => (s.customizations.kernelArgs = ["quiet splash"]),
    /spec\.customizations\.kernelArgs\[0\]: Invalid value/,
  ],
  [
    "one file too many",
    (s) => (s.customizations.files = Array.from({ length: L.files + 1 }, (_, i) => ({ path: `/f${i}` }))),
    new RegExp(`spec\\.customizations\\.files: Too many: ${L.files + 1}: must have at most ${L.files} items`),
  ],
  [
    "file content too long",
    (s) => (s.customizations.files[0].content = "x".repeat(L.fileContentLength + 1)),
    /spec\.customizations\.files\[0\]\.content: Too long/,
  ],
  [
    "SSH key comment too long",
    (s) =>
      (s.customizations.users[0].sshAuthorizedKeys = [
        `ssh-ed25519 AAAA ${"c".repeat(L.sshCommentLength + 1)}`,
      ]),
    /spec\.customizations\.users\[0\]\.sshAuthorizedKeys\[0\]: Invalid value/,
  ],
  [
    "a spec as large as etcd's request limit",
    (s) =>
      (s.customizations.files = Array.from({ length: 24 }, (_, i) => ({
        path: `/f${i}`,
        content: "x".repeat(65536),
      }))),
    /spec\.customizations\.files: Too many/,
  ],
];

describe("Image API", () => {
  let ns: { name: string; remove: () => Promise<void> };
  before(async () => {
    ns = await scratchNamespace("api");
  });
  after(async () => ns.remove());

  it("accepts the valid baseline used below", async () => {
    await golden.images.create(
      {
        apiVersion: "golden.dev/v1alpha1",
        kind: "Image",
        metadata: { name: "baseline", namespace: ns.name },
        spec: valid(),
      },
      { dryRun: "All" },
    );
  });

  for (const [what, mutate, expected] of BAD_INPUTS) {
    it(`refuses ${what}, naming the field`, async () => {
      const spec = structuredClone(valid()) as Spec;
      mutate(spec);
      const image = {
        apiVersion: "golden.dev/v1alpha1",
        kind: "Image",
        metadata: { name: "bad", namespace: ns.name },
        spec,
      };
      await assert.rejects(golden.images.create(image as Image), (err: unknown) => {
        assert.match(apiErrorMessage(err), expected);
        return true;
      });
    });
  }

  it("stores the largest spec the schema admits, with room to spare under etcd's limit", async () => {
    const image = await golden.images.create({
      apiVersion: "golden.dev/v1alpha1",
      kind: "Image",
      metadata: { name: "maximal", namespace: ns.name },
      spec: maximalSpec(L),
    });
    const bytes = storedSize(image);
    assert.ok(bytes < 1024 * 1024, `the largest Image takes ${bytes} bytes as stored`);
    // What the operator adds: a finalizer and a status.
    await golden.images.patch(ns.name, "maximal", { metadata: { finalizers: ["golden.dev/test"] } });
    await golden.images.patchStatus(ns.name, "maximal", {
      status: { phase: "Pending", message: "x".repeat(4096) },
    });
    await golden.images.patch(ns.name, "maximal", { metadata: { finalizers: null } });
    await golden.images.delete(ns.name, "maximal");
    // The ImageBuild holds a copy of the spec, and a status of its own.
    const build = await golden.imageBuilds.create({
      apiVersion: "golden.dev/v1alpha1",
      kind: "ImageBuild",
      metadata: { name: "maximal", namespace: ns.name },
      spec: { imageName: "maximal", imageGeneration: 1, attempt: 1, trigger: "Created", image: image.spec },
    });
    assert.ok(storedSize(build) < 1024 * 1024, `the largest ImageBuild takes ${storedSize(build)} bytes`);
    await golden.imageBuilds.patchStatus(ns.name, "maximal", {
      status: { phase: "Failed", message: "x".repeat(4096) },
    });
    await golden.imageBuilds.delete(ns.name, "maximal");
  });

  it("keeps an ImageBuild's spec immutable", async () => {
    const build: ImageBuild = {
      apiVersion: "golden.dev/v1alpha1",
      kind: "ImageBuild",
      metadata: { name: "frozen", namespace: ns.name },
      spec: { imageName: "x", imageGeneration: 1, attempt: 1, trigger: "Created", image: valid() },
    };
    await golden.imageBuilds.create(build);
    await assert.rejects(
      golden.imageBuilds.patch(ns.name, "frozen", { spec: { imageGeneration: 2 } }),
      (err: unknown) => {
        assert.match(apiErrorMessage(err), /spec: Invalid value.*spec is immutable/);
        return true;
      },
    );
  });

  it("publishes its OpenAPI schema through the apiserver", async () => {
    const doc = JSON.parse(await kubectl("get", "--raw", "/openapi/v3/apis/golden.dev/v1alpha1")) as {
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    const image = doc.components.schemas["dev.golden.v1alpha1.Image"];
    assert.ok(image?.properties?.spec, "Image schema with spec");
    assert.ok(doc.components.schemas["dev.golden.v1alpha1.ImageBuild"], "ImageBuild schema");
  });

  it("documents every field of spec.base in kubectl explain", async () => {
    const text = await kubectl("explain", "image.spec.base");
    for (const field of ["os", "release", "arch"]) {
      const line = new RegExp(`^\\s{2}${field}\\s+<[^>]+>`, "m");
      assert.match(text, line, `${field} listed`);
      const after = text.slice(text.search(line)).split("\n")[1] ?? "";
      assert.ok(after.trim().length > 10, `${field} has a description`);
    }
  });

  it("shows OS, release, arch and phase columns, with short names and the golden category", async () => {
    await golden.images.create({
      apiVersion: "golden.dev/v1alpha1",
      kind: "Image",
      metadata: { name: "columns", namespace: ns.name },
      spec: valid(),
    });
    const table = await kubectl("get", "img", "-n", ns.name);
    assert.match(table.split("\n")[0] ?? "", /^NAME\s+OS\s+RELEASE\s+ARCH\s+PHASE\s+READY\s+AGE/);
    assert.match(table, /columns\s+ubuntu\s+24\.04\s+amd64/);
    const builds = await kubectl("get", "ib", "-n", ns.name);
    assert.match(builds.split("\n")[0] ?? "", /^NAME\s+IMAGE\s+GEN\s+PHASE\s+STEP\s+PROGRESS\s+AGE/);
    const all = await kubectl("get", "golden", "-n", ns.name, "-o", "name");
    assert.match(all, /image\.golden\.dev\/columns/);
    assert.match(all, /imagebuild\.golden\.dev\/frozen/);
    assert.doesNotMatch(all, /baseimage\.golden\.dev/, "the catalog is not in the golden category");
  });
});
