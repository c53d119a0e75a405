import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ImageSpec } from "../../../src/api/v1alpha1/index.js";
import { artifactFor, type Format, planSteps } from "../../../src/worker/plan.js";

const REPO = "s3://golden-artifacts/default/web";
const ALL_FORMATS: Format[] = ["qcow2", "raw", "vmdk", "vhd", "ami", "iso"];

function spec(overrides: Partial<ImageSpec> = {}): ImageSpec {
  return {
    base: { os: "ubuntu", release: "24.04", arch: "amd64" },
    formats: ["qcow2"],
    ...overrides,
  };
}

const rich: ImageSpec = spec({
  customizations: {
    packages: ["nginx", "curl"],
    users: [{ name: "deploy", groups: ["sudo"], sshAuthorizedKeys: ["ssh-ed25519 AAAA deploy@example.com"] }],
    services: { enabled: ["nginx"], disabled: ["cups"] },
    files: [{ path: "/etc/motd", content: "hello", mode: "0644" }],
    kernelArgs: ["console=ttyS0,115200"],
  },
  formats: ["qcow2", "raw"],
});

describe("planSteps", () => {
  it("has only the mandatory steps for a bare spec", () => {
    assert.deepEqual(planSteps(spec()), ["fetch-base", "configure", "convert-qcow2", "publish"]);
  });

  it("includes install-packages and create-users in order when the spec asks for them", () => {
    assert.deepEqual(planSteps(rich), [
      "fetch-base",
      "install-packages",
      "create-users",
      "configure",
      "convert-qcow2",
      "convert-raw",
      "publish",
    ]);
  });

  it("install-packages only with packages", () => {
    const steps = planSteps(spec({ customizations: { packages: ["vim"] } }));
    assert.deepEqual(steps, ["fetch-base", "install-packages", "configure", "convert-qcow2", "publish"]);
    assert.ok(!planSteps(spec({ customizations: { packages: [] } })).includes("install-packages"));
  });

  it("create-users only with users", () => {
    const steps = planSteps(spec({ customizations: { users: [{ name: "ops" }] } }));
    assert.deepEqual(steps, ["fetch-base", "create-users", "configure", "convert-qcow2", "publish"]);
    assert.ok(!planSteps(spec({ customizations: { users: [] } })).includes("create-users"));
  });

  it("files, services and kernel args add no step of their own", () => {
    const steps = planSteps(
      spec({
        customizations: { files: [{ path: "/a" }], services: { enabled: ["x"] }, kernelArgs: ["quiet"] },
      }),
    );
    assert.deepEqual(steps, ["fetch-base", "configure", "convert-qcow2", "publish"]);
  });

  it("one convert step per format, in the spec's order, and publish last", () => {
    const formats: Format[] = ["iso", "raw", "ami", "qcow2", "vhd", "vmdk"];
    const steps = planSteps(spec({ formats }));
    assert.deepEqual(
      steps.filter((s) => s.startsWith("convert-")),
      formats.map((f) => `convert-${f}`),
    );
    assert.equal(steps.at(-1), "publish");
    assert.equal(steps[0], "fetch-base");
    assert.equal(new Set(steps).size, steps.length, "no duplicate steps");
  });
});

describe("artifactFor", () => {
  it("returns the format, a sha256 digest and a location naming base, arch, format and digest", () => {
    const a = artifactFor(rich, "qcow2", REPO);
    assert.equal(a.format, "qcow2");
    assert.match(a.digest ?? "", /^sha256:[0-9a-f]{64}$/);
    const hex = (a.digest ?? "").slice("sha256:".length);
    assert.equal(a.location, `${REPO}/ubuntu-24.04-amd64.qcow2@sha256:${hex}`);
  });

  it("defaults the arch in the location to amd64", () => {
    const a = artifactFor(spec({ base: { os: "debian", release: "12" } }), "raw", REPO);
    assert.match(a.location, /\/debian-12-amd64\.raw@sha256:[0-9a-f]{64}$/);
  });

  it("is the same for the same spec", () => {
    assert.deepEqual(artifactFor(rich, "raw", REPO), artifactFor(structuredClone(rich), "raw", REPO));
  });

  it("does not depend on build settings, rebuild policy, history limits or the other formats", () => {
    const a = artifactFor(rich, "qcow2", REPO);
    const b = artifactFor(
      {
        ...structuredClone(rich),
        formats: ["qcow2", "iso", "vhd"],
        build: {
          timeoutSeconds: 60,
          retries: 5,
          priority: 9,
          simulate: { stepSeconds: 0, failAt: "publish" },
        },
        historyLimits: { successful: 1, failed: 1 },
        rebuild: { schedule: "@daily", suspend: true },
      },
      "qcow2",
      REPO,
    );
    assert.equal(b.digest, a.digest);
    assert.equal(b.sizeBytes, a.sizeBytes);
  });

  it("ignores key insertion order anywhere in the spec", () => {
    const reordered: ImageSpec = {
      formats: ["raw", "qcow2"],
      customizations: {
        kernelArgs: ["console=ttyS0,115200"],
        files: [{ mode: "0644", content: "hello", path: "/etc/motd" }],
        services: { disabled: ["cups"], enabled: ["nginx"] },
        users: [
          { sshAuthorizedKeys: ["ssh-ed25519 AAAA deploy@example.com"], groups: ["sudo"], name: "deploy" },
        ],
        packages: ["nginx", "curl"],
      },
      base: { arch: "amd64", release: "24.04", os: "ubuntu" },
    };
    assert.notEqual(JSON.stringify(reordered.base), JSON.stringify(rich.base));
    for (const f of ["qcow2", "raw"] as const) {
      assert.deepEqual(artifactFor(reordered, f, REPO), artifactFor(rich, f, REPO));
    }
  });

  it("changes when the packages change, including their order", () => {
    const base = artifactFor(rich, "qcow2", REPO).digest;
    const more = structuredClone(rich);
    more.customizations?.packages?.push("git");
    const swapped = structuredClone(rich);
    swapped.customizations?.packages?.reverse();
    const digests = [
      base,
      artifactFor(more, "qcow2", REPO).digest,
      artifactFor(swapped, "qcow2", REPO).digest,
    ];
    assert.equal(new Set(digests).size, 3);
  });

  it("changes with the format", () => {
    const digests = ALL_FORMATS.map((f) => artifactFor(rich, f, REPO).digest);
    assert.equal(new Set(digests).size, ALL_FORMATS.length);
  });

  it("changes when the base changes", () => {
    const variants: ImageSpec["base"][] = [
      { os: "ubuntu", release: "24.04", arch: "amd64" },
      { os: "ubuntu", release: "22.04", arch: "amd64" },
      { os: "ubuntu", release: "24.04", arch: "arm64" },
      { os: "debian", release: "24.04", arch: "amd64" },
    ];
    const digests = variants.map((b) => artifactFor({ ...rich, base: b }, "qcow2", REPO).digest);
    assert.equal(new Set(digests).size, variants.length);
  });

  it("changes when any other customization changes", () => {
    const base = artifactFor(rich, "qcow2", REPO).digest;
    const mutations: ((s: ImageSpec) => void)[] = [
      (s) => {
        if (s.customizations?.files?.[0]) s.customizations.files[0].content = "bye";
      },
      (s) => {
        if (s.customizations?.users?.[0]) s.customizations.users[0].name = "other";
      },
      (s) => {
        if (s.customizations?.services) s.customizations.services.enabled = ["sshd"];
      },
      (s) => {
        if (s.customizations) s.customizations.kernelArgs = ["quiet"];
      },
    ];
    for (const mutate of mutations) {
      const s = structuredClone(rich);
      mutate(s);
      assert.notEqual(artifactFor(s, "qcow2", REPO).digest, base);
    }
  });

  it("does not depend on the repository", () => {
    const a = artifactFor(rich, "raw", REPO);
    const b = artifactFor(rich, "raw", "s3://elsewhere/x");
    assert.equal(a.digest, b.digest);
    assert.equal(a.sizeBytes, b.sizeBytes);
    assert.ok(b.location.startsWith("s3://elsewhere/x/"));
  });

  it("treats absent and empty customizations alike", () => {
    assert.equal(
      artifactFor(spec(), "qcow2", REPO).digest,
      artifactFor(spec({ customizations: {} }), "qcow2", REPO).digest,
    );
  });

  it("reports a positive, integral, deterministic size that grows with packages", () => {
    for (const f of ALL_FORMATS) {
      const a = artifactFor(rich, f, REPO);
      assert.ok(Number.isSafeInteger(a.sizeBytes), `${f}: ${a.sizeBytes}`);
      assert.ok((a.sizeBytes ?? 0) > 0);
      assert.equal(artifactFor(structuredClone(rich), f, REPO).sizeBytes, a.sizeBytes);
    }
    const few = spec({ customizations: { packages: ["a"] } });
    const many = spec({ customizations: { packages: Array.from({ length: 200 }, (_, i) => `p${i}`) } });
    // 199 more packages add far more than the at most 1 MiB of jitter.
    assert.ok(
      (artifactFor(many, "qcow2", REPO).sizeBytes ?? 0) > (artifactFor(few, "qcow2", REPO).sizeBytes ?? 0),
    );
  });
});

describe("emulationNote", () => {
  it("names the emulated arch and the node's, or nothing", async () => {
    const { emulationNote } = await import("../../../src/worker/build.js");
    const spec: ImageSpec = { base: { os: "debian", release: "12", arch: "arm64" }, formats: ["raw"] };
    assert.equal(emulationNote(spec, "amd64"), "; arm64 emulated on amd64");
    assert.equal(emulationNote(spec, undefined), "");
  });
});
