import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ImageVersion } from "../../../src/api/v1alpha1/index.js";
import { chooseParentBuild, isRevoked, usableAsParent } from "../../../src/versions/revocation.js";

const NOW = new Date("2026-12-01T12:00:00Z");

function version(v: string, build: string, revocation?: ImageVersion["revocation"]): ImageVersion {
  return {
    apiVersion: "golden.dev/v1alpha1",
    kind: "ImageVersion",
    metadata: { name: `base-${v}`, namespace: "ns" },
    spec: {
      imageName: "base",
      version: v,
      bump: "Patch",
      build,
      inputs: { os: "ubuntu", release: "24.04", arch: "amd64", baseRevision: "r1", customizationDigest: "d" },
      manifest: { digest: "m" },
    },
    ...(revocation ? { revocation } : {}),
  };
}

describe("revocation", () => {
  it("a revocation counts from its time; one without a time at once", () => {
    assert.equal(isRevoked(version("1.0.0", "b1", { reason: "cve" }), NOW), true);
    assert.equal(isRevoked(version("1.0.0", "b1", { reason: "cve", at: "2026-12-01T11:00:00Z" }), NOW), true);
    assert.equal(
      isRevoked(version("1.0.0", "b1", { reason: "cve", at: "2026-12-02T00:00:00Z" }), NOW),
      false,
    );
    assert.equal(usableAsParent(version("1.0.0", "b1"), NOW), true);
  });
});

describe("chooseParentBuild", () => {
  it("uses the parent's newest success while its version is usable, or not made yet", () => {
    const versions = [version("1.0.0", "b1"), version("1.1.0", "b2")];
    assert.equal(chooseParentBuild("b2", versions, NOW).build, "b2");
    assert.equal(chooseParentBuild("b3", versions, NOW).build, "b3");
  });

  it("falls back to the newest usable version (by number) when the newest success's is revoked", () => {
    const versions = [
      version("1.10.0", "b10"),
      version("1.9.0", "b9"),
      version("1.11.0", "b11", { reason: "cve" }),
      version("1.2.0", "b2"),
    ];
    const choice = chooseParentBuild("b11", versions, NOW);
    assert.equal(choice.build, "b10");
    assert.equal(choice.version?.spec.version, "1.10.0");
  });

  it("skips every revoked version, and a revocation whose time has come", () => {
    const versions = [
      version("1.0.0", "b1"),
      version("1.1.0", "b2", { reason: "cve", at: "2026-12-01T11:59:00Z" }),
      version("1.2.0", "b3", { reason: "cve" }),
    ];
    assert.equal(chooseParentBuild("b3", versions, NOW).build, "b1");
    // Scheduled for later: still usable now.
    const later = [
      version("1.0.0", "b1"),
      version("1.1.0", "b2", { reason: "cve", at: "2026-12-09T00:00:00Z" }),
    ];
    assert.equal(chooseParentBuild("b2", later, NOW).build, "b2");
  });

  it("names the revoked newest version when none is usable", () => {
    const versions = [version("1.0.0", "b1", { reason: "a" }), version("1.1.0", "b2", { reason: "b" })];
    const choice = chooseParentBuild("b2", versions, NOW);
    assert.equal(choice.build, undefined);
    assert.equal(choice.revoked?.spec.version, "1.1.0");
  });
});
