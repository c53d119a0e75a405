import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ImageSpec, VersionInputs } from "../../../src/api/v1alpha1/index.js";
import { changelog, renderChangelog, summarize } from "../../../src/versions/changelog.js";
import { customizationDigest, sha256 } from "../../../src/versions/inputs.js";
import { contentManifest, packageVersion, revisionOrdinal } from "../../../src/versions/manifest.js";
import { comparePackageVersions } from "../../../src/versions/semver.js";
import { imageSpec } from "../../support/fixtures.js";

function content(spec: ImageSpec, baseRevision = "r1", parentVersion?: string) {
  const inputs: VersionInputs = {
    os: spec.base.os ?? "ubuntu",
    release: spec.base.release ?? "",
    arch: spec.base.arch ?? "amd64",
    baseRevision,
    customizationDigest: customizationDigest(spec),
    ...(parentVersion ? { parentImage: "base", parentVersion } : {}),
  };
  return { inputs, manifest: contentManifest(inputs, spec) };
}

const web = imageSpec({
  customizations: {
    packages: ["nginx", "curl"],
    users: [{ name: "deploy", groups: ["sudo", "adm"], sshAuthorizedKeys: ["ssh-ed25519 AAAA deploy@x"] }],
    services: { enabled: ["nginx"], disabled: ["cups"] },
    files: [{ path: "/etc/motd", content: "hello\n" }],
    kernelArgs: ["console=ttyS0"],
  },
});

describe("content manifest", () => {
  it("is the same for the same inputs, and its digest covers it", () => {
    assert.deepEqual(content(web).manifest, content(structuredClone(web)).manifest);
    const { digest, ...body } = content(web).manifest;
    assert.match(digest, /^sha256:[a-f0-9]{64}$/);
    assert.notEqual(digest, content(web, "r2").manifest.digest);
    assert.ok(body.packages?.length);
  });

  it("lists base and customization packages sorted, users, services, files with digests and kernel args", () => {
    const m = content(web).manifest;
    const names = m.packages?.map((p) => p.name) ?? [];
    assert.deepEqual(names, [...names].sort());
    assert.ok(names.includes("openssl") && names.includes("nginx") && names.includes("curl"));
    assert.deepEqual(m.users, [
      { name: "deploy", groups: ["adm", "sudo"], sshKeys: [sha256("ssh-ed25519 AAAA deploy@x")] },
    ]);
    assert.deepEqual(m.servicesEnabled, ["nginx", "ssh"]);
    assert.deepEqual(m.servicesDisabled, ["cups"]);
    assert.deepEqual(m.files, [{ path: "/etc/motd", mode: "0644", digest: sha256("hello\n") }]);
    assert.deepEqual(m.kernelArgs, ["console=ttyS0"]);
  });

  it("never moves a package back on a newer base revision", () => {
    const packages = ["openssl", "bash", "systemd", "coreutils", "curl", "nginx", "jq", "vim", "tzdata"];
    for (const revisions of [
      ["r1", "r2", "r3", "r10"],
      ["fedora-r1", "fedora-r2"],
      ["20261201", "20261215", "20270105", "20280301"],
    ]) {
      for (const p of packages) {
        const versions = revisions.map((r) => packageVersion(p, "9", r));
        for (let i = 1; i < versions.length; i++)
          assert.ok(
            comparePackageVersions(versions[i - 1] as string, versions[i] as string) <= 0,
            `${p}: ${versions[i - 1]} at ${revisions[i - 1]}, ${versions[i]} at ${revisions[i]}`,
          );
      }
      const first = packages.map((p) => packageVersion(p, "9", revisions[0] as string));
      const last = packages.map((p) => packageVersion(p, "9", revisions.at(-1) as string));
      assert.ok(
        first.some((v, i) => v !== last[i]),
        `some package moves from ${revisions[0]} to ${revisions.at(-1)}`,
      );
    }
    assert.equal(revisionOrdinal("20240115"), 2);
    assert.equal(revisionOrdinal("fedora-r12"), 12);
    assert.equal(revisionOrdinal("ubuntu-24.04-unversioned"), 0);
  });

  it("gives packages versions that follow the base revision, and only the base revision", () => {
    assert.equal(packageVersion("openssl", "24.04", "r1"), packageVersion("openssl", "24.04", "r1"));
    const moved = ["openssl", "bash", "systemd", "coreutils", "curl", "nginx"].filter(
      (p) => packageVersion(p, "24.04", "r1") !== packageVersion(p, "24.04", "r2"),
    );
    assert.ok(moved.length > 0, "a new base revision moves some packages");
    for (const p of ["openssl", "nginx"]) {
      const [a, b] = [packageVersion(p, "24.04", "r1"), packageVersion(p, "24.04", "r2")];
      assert.equal(
        a.split(".").slice(0, 2).join("."),
        b.split(".").slice(0, 2).join("."),
        "major.minor stay",
      );
    }
  });

  it("starts a layered image from its parent's manifest", () => {
    const parent = content(web).manifest;
    const child = imageSpec({
      customizations: { packages: ["postgresql"], services: { disabled: ["nginx"] } },
    });
    const inputs = content(child).inputs;
    const m = contentManifest(inputs, child, parent);
    const names = m.packages?.map((p) => p.name) ?? [];
    assert.ok(names.includes("nginx") && names.includes("postgresql"));
    assert.deepEqual(m.servicesEnabled, ["ssh"]);
    assert.deepEqual(m.servicesDisabled, ["cups", "nginx"]);
    assert.deepEqual(
      m.users?.map((u) => u.name),
      ["deploy"],
    );
  });
});

describe("changelog", () => {
  it("names exactly the packages added and removed by a customization change", () => {
    const a = content(imageSpec({ customizations: { packages: ["curl", "vim"] } }));
    const b = content(imageSpec({ customizations: { packages: ["curl", "nginx", "jq"] } }));
    const log = changelog(a, b);
    assert.deepEqual(
      log.packagesAdded?.map((p) => p.name),
      ["jq", "nginx"],
    );
    assert.deepEqual(
      log.packagesRemoved?.map((p) => p.name),
      ["vim"],
    );
    assert.equal(log.packagesUpgraded, undefined);
    assert.equal(log.baseRevision, undefined);
    assert.equal(log.summary, "packages +2 -1");
  });

  it("sorts version changes into upgrades and downgrades and names the base revision", () => {
    const a = content(web, "r1");
    const b = content(web, "r2");
    const log = changelog(a, b);
    assert.deepEqual(log.baseRevision, { from: "r1", to: "r2" });
    const changed = [...(log.packagesUpgraded ?? []), ...(log.packagesDowngraded ?? [])];
    assert.ok(changed.length > 0);
    for (const c of log.packagesUpgraded ?? []) assert.ok(comparePackageVersions(c.to, c.from) > 0, c.name);
    for (const c of log.packagesDowngraded ?? []) assert.ok(comparePackageVersions(c.to, c.from) < 0, c.name);
    const back = changelog(b, a);
    assert.deepEqual(
      back.packagesUpgraded?.map((p) => p.name),
      log.packagesDowngraded?.map((p) => p.name),
    );
    assert.deepEqual(
      back.packagesDowngraded?.map((p) => p.name),
      log.packagesUpgraded?.map((p) => p.name),
    );
  });

  it("names users, services, files and kernel args added, removed and changed", () => {
    const before = content(web);
    const after = content(
      imageSpec({
        customizations: {
          packages: ["nginx", "curl"],
          users: [{ name: "deploy", groups: ["sudo"] }, { name: "ops" }],
          services: { enabled: ["nginx", "chronyd"] },
          files: [
            { path: "/etc/motd", content: "bye\n" },
            { path: "/etc/issue", content: "x" },
          ],
          kernelArgs: ["console=ttyS0", "quiet"],
        },
      }),
    );
    const log = changelog(before, after);
    assert.deepEqual(log.users, { added: ["ops"], changed: ["deploy"] });
    assert.deepEqual(log.servicesEnabled, { added: ["chronyd"] });
    assert.deepEqual(log.servicesDisabled, { removed: ["cups"] });
    assert.deepEqual(log.files, { added: ["/etc/issue"], changed: ["/etc/motd"] });
    assert.deepEqual(log.kernelArgs, { added: ["quiet"] });
    assert.equal(log.packagesAdded, undefined);
    assert.equal(log.summary, "users +1 ~1, services +1 -1, files +1 ~1, kernel args +1");
  });

  it("of identical content says no changes; against nothing, everything is added", () => {
    const log = changelog(content(web), content(web));
    assert.deepEqual(log, { summary: "no changes" });
    assert.deepEqual(renderChangelog(log), ["no changes"]);
    const first = changelog(undefined, content(web));
    assert.equal(first.packagesAdded?.length, content(web).manifest.packages?.length);
    assert.deepEqual(first.baseRevision, { to: "r1" });
    assert.equal(first.summary, `first version: ${content(web).manifest.packages?.length} packages`);
  });

  it("names a parent version change and renders one line per change", () => {
    const log = changelog(content(web, "r1", "1.0.0"), content(web, "r1", "1.1.0"));
    assert.deepEqual(log.parentVersion, { from: "1.0.0", to: "1.1.0" });
    assert.deepEqual(renderChangelog(log), ["parent version: 1.0.0 → 1.1.0"]);
    assert.equal(summarize(log), "parent 1.1.0");
  });
});
