import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ImageBuild, VersionInputs } from "../../../src/api/v1alpha1/index.js";
import { baseRevisionOf, customizationDigest, versionInputs } from "../../../src/versions/inputs.js";
import { bumpFor, nextVersion } from "../../../src/versions/numbering.js";
import { build, imageSpec } from "../../support/fixtures.js";

const inputs = (o: Partial<VersionInputs> = {}): VersionInputs => ({
  os: "ubuntu",
  release: "24.04",
  arch: "amd64",
  baseRevision: "r1",
  customizationDigest: customizationDigest(imageSpec()),
  ...o,
});

describe("version numbering", () => {
  it("starts at 1.0.0", () => {
    assert.deepEqual(nextVersion(undefined, inputs()), { version: "1.0.0", bump: "Initial" });
  });

  it("moves major on a new distribution, release, architecture or parent Image", () => {
    for (const o of [
      { os: "debian" as const },
      { release: "26.04" },
      { arch: "arm64" as const },
      { parentImage: "base" },
    ])
      assert.equal(bumpFor(inputs(), inputs(o)), "Major", JSON.stringify(o));
    assert.deepEqual(nextVersion({ version: "1.3.2", inputs: inputs() }, inputs({ release: "26.04" })), {
      version: "2.0.0",
      bump: "Major",
    });
  });

  it("moves minor on changed customizations or formats, whatever the base did", () => {
    const custom = customizationDigest(imageSpec({ customizations: { packages: ["nginx"] } }));
    assert.equal(bumpFor(inputs(), inputs({ customizationDigest: custom, baseRevision: "r2" })), "Minor");
    const formats = customizationDigest(imageSpec({ formats: ["qcow2", "raw"] }));
    assert.deepEqual(
      nextVersion({ version: "1.3.2", inputs: inputs() }, inputs({ customizationDigest: formats })),
      {
        version: "1.4.0",
        bump: "Minor",
      },
    );
  });

  it("moves patch on a new base revision, parent version, or a plain rebuild", () => {
    assert.equal(bumpFor(inputs(), inputs({ baseRevision: "r2" })), "Patch");
    assert.equal(
      bumpFor(
        inputs({ parentImage: "b", parentVersion: "1.0.0" }),
        inputs({ parentImage: "b", parentVersion: "1.0.1" }),
      ),
      "Patch",
    );
    assert.equal(nextVersion({ version: "1.3.2", inputs: inputs() }, inputs()).version, "1.3.3");
  });

  it("ignores build settings: only customizations and formats make the digest", () => {
    const a = customizationDigest(imageSpec({ build: { priority: 5 }, formats: ["raw", "qcow2"] }));
    const b = customizationDigest(imageSpec({ formats: ["qcow2", "raw"] }));
    assert.equal(a, b);
  });

  it("takes the base revision the build recorded, else a per-release stand-in", () => {
    const b: ImageBuild = build({ spec: imageSpec({ base: { os: "debian", release: "12" } }) });
    assert.equal(baseRevisionOf(b), "debian-12-unversioned");
    b.status = { phase: "Succeeded", inputs: { baseRevision: "debian-12-20261201" } };
    assert.equal(baseRevisionOf(b), "debian-12-20261201");
    b.status.inputs = { ...b.status.inputs, parentImage: "base", baseImage: "debian-12" };
    assert.deepEqual(versionInputs(b, "1.2.0"), {
      os: "debian",
      release: "12",
      arch: "amd64",
      baseRevision: "debian-12-20261201",
      baseImage: "debian-12",
      parentImage: "base",
      parentVersion: "1.2.0",
      customizationDigest: customizationDigest(b.spec.image),
    });
  });
});
