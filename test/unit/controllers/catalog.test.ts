import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ImageBase, OperatingSystem } from "../../../src/api/v1alpha1/index.js";
import {
  catalogSelector,
  pastEndOfLife,
  resolveCatalogBase,
  type SpecProblem,
} from "../../../src/controllers/catalog.js";
import { baseImage, lookupOf, shippedCatalog } from "../../support/catalog.js";

type Os = OperatingSystem;
const NOW = new Date("2026-12-01T12:00:00Z");
const shipped = lookupOf(shippedCatalog());

/** The problem golden reports for a base in the shipped catalog, or undefined when it builds. */
function checkSupported(base: ImageBase): SpecProblem | undefined {
  return resolveCatalogBase(base, shipped, NOW).problem;
}

function spec(os: Os, release: string): ImageBase {
  return { os, release };
}

const SUPPORTED: Record<Os, string[]> = {
  ubuntu: ["20.04", "22.04", "24.04", "25.04", "25.10", "26.04"],
  debian: ["11", "12", "13", "bullseye", "bookworm", "trixie"],
  rhel: ["8", "9", "10", "8.10", "9.4", "10.0"],
  rocky: ["8", "9", "10", "8.9", "9.5"],
  almalinux: ["8", "9", "10", "9.4", "10.1"],
  fedora: ["41", "42", "43", "44"],
  sles: ["15-SP5", "15-SP6", "15-SP7", "16.0"],
};

const UNSUPPORTED: [Os, string][] = [
  ["ubuntu", "14.04"],
  ["ubuntu", "18.04"],
  ["ubuntu", "23.10"],
  ["ubuntu", "2404"],
  ["ubuntu", ""],
  ["debian", "10"],
  ["debian", "buster"],
  ["debian", "Bookworm"],
  ["rhel", "7"],
  ["rhel", "7.9"],
  ["rhel", "9."],
  ["rocky", "11"],
  ["almalinux", "9.x"],
  ["fedora", "30"],
  ["fedora", "40"],
  ["fedora", "41.1"],
  ["sles", "12"],
  ["sles", "12-SP5"],
  ["sles", "15-SP4"],
  ["sles", "15-sp6"],
  ["sles", "15"],
];

describe("resolveCatalogBase over the shipped catalog (config/catalog)", () => {
  for (const [os, releases] of Object.entries(SUPPORTED) as [Os, string[]][]) {
    it(`accepts supported ${os} releases, on every arch the OS is built for`, () => {
      for (const release of releases) {
        assert.equal(checkSupported(spec(os, release)), undefined, `${os} ${release}`);
        if (os !== "sles")
          assert.equal(checkSupported({ os, release, arch: "arm64" }), undefined, `${os} ${release} arm64`);
      }
    });
  }

  it("resolves a release and its aliases to the same BaseImage, amd64 when arch is omitted", () => {
    const a = resolveCatalogBase({ os: "ubuntu", release: "24.04" }, shipped, NOW);
    const b = resolveCatalogBase({ os: "ubuntu", release: "noble", arch: "amd64" }, shipped, NOW);
    assert.equal(a.base?.metadata?.name, "ubuntu-24.04-amd64");
    assert.equal(b.base?.metadata?.name, "ubuntu-24.04-amd64");
    const rocky = resolveCatalogBase({ os: "rocky", release: "9.4", arch: "arm64" }, shipped, NOW);
    assert.equal(rocky.base?.metadata?.name, "rocky-9-arm64");
  });

  it("rejects old or unknown releases with reason UnsupportedRelease naming spec.base.release", () => {
    for (const [os, release] of UNSUPPORTED) {
      const problem = checkSupported(spec(os, release));
      assert.ok(problem, `${os} ${release} should be rejected`);
      assert.equal(problem.reason, "UnsupportedRelease");
      assert.equal(problem.field, "spec.base.release");
      assert.ok(problem.message.startsWith("spec.base.release: "), problem.message);
      assert.ok(problem.message.includes(`${os} ${release} `), problem.message);
      assert.match(problem.message, /kubectl get baseimages/);
    }
  });

  it("ships sles for amd64 only", () => {
    assert.equal(
      checkSupported({ os: "sles", release: "15-SP6", arch: "arm64" })?.reason,
      "UnsupportedRelease",
    );
  });

  it("every shipped entry is named <os>-<release>-<arch> and carries a revision", () => {
    for (const base of shippedCatalog()) {
      const { os, release, arch, revision } = base.spec;
      assert.equal(base.metadata?.name, `${os}-${release}-${arch}`.toLowerCase());
      assert.ok(revision.length > 0);
      if (base.spec.endOfLife)
        assert.ok(!pastEndOfLife(base.spec.endOfLife, NOW), `${base.metadata?.name} is past its end of life`);
    }
  });
});

describe("resolveCatalogBase: end of life and deprecation", () => {
  const eol = baseImage("debian", "12", "r1", { endOfLife: "2026-11-30" });
  const lastDay = baseImage("debian", "13", "r1", { endOfLife: "2026-12-01" });
  const old = baseImage("ubuntu", "22.04", "r1", { deprecated: true, endOfLife: "2032-04-21" });
  const lookup = lookupOf([eol, lastDay, old]);

  it("refuses a base past its end of life with reason BaseEndOfLife", () => {
    const r = resolveCatalogBase({ os: "debian", release: "12" }, lookup, NOW);
    assert.equal(r.problem?.reason, "BaseEndOfLife");
    assert.equal(r.problem?.field, "spec.base.release");
    assert.match(r.problem?.message ?? "", /end of life on 2026-11-30/);
  });

  it("still builds on the last day of support", () => {
    assert.equal(resolveCatalogBase({ os: "debian", release: "13" }, lookup, NOW).problem, undefined);
  });

  it("builds on a deprecated base, saying so", () => {
    const r = resolveCatalogBase({ os: "ubuntu", release: "22.04" }, lookup, NOW);
    assert.equal(r.problem, undefined);
    assert.match(r.deprecated ?? "", /ubuntu-22\.04-amd64.*deprecated; end of life on 2032-04-21/);
  });
});

describe("catalogSelector", () => {
  const labelled = (labels: Record<string, string>) => ({
    ...baseImage("ubuntu", "24.04", "r"),
    metadata: { labels },
  });
  it("selects everything when empty", () => {
    assert.ok(catalogSelector("")(labelled({})));
  });
  it("matches equality, inequality and existence terms, all of them", () => {
    const s = catalogSelector("team=os, tier!=test,owner");
    assert.ok(s(labelled({ team: "os", owner: "x" })));
    assert.ok(!s(labelled({ team: "os", tier: "test", owner: "x" })));
    assert.ok(!s(labelled({ team: "os" })));
    assert.ok(!s(labelled({ team: "apps", owner: "x" })));
  });
  it("refuses set-based terms it does not implement", () => {
    assert.throws(() => catalogSelector("team in (a,b)"), /--catalog-selector: cannot parse/);
  });
});
