import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ImageSpec } from "../../../src/api/v1alpha1/index.js";
import { checkSupported } from "../../../src/controllers/catalog.js";

type Os = ImageSpec["base"]["os"];

function spec(os: Os, release: string): ImageSpec {
  return { base: { os, release }, formats: ["qcow2"] };
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

describe("checkSupported", () => {
  for (const [os, releases] of Object.entries(SUPPORTED) as [Os, string[]][]) {
    it(`accepts supported ${os} releases`, () => {
      for (const release of releases) {
        assert.equal(checkSupported(spec(os, release)), undefined, `${os} ${release}`);
      }
    });
  }

  it("accepts an arch and customizations alongside a supported release", () => {
    const s: ImageSpec = {
      base: { os: "rocky", release: "9.4", arch: "arm64" },
      customizations: { packages: ["vim"] },
      formats: ["raw", "iso"],
    };
    assert.equal(checkSupported(s), undefined);
  });

  it("rejects old or unknown releases with reason UnsupportedRelease naming spec.base.release", () => {
    for (const [os, release] of UNSUPPORTED) {
      const problem = checkSupported(spec(os, release));
      assert.ok(problem, `${os} ${release} should be rejected`);
      assert.equal(problem.reason, "UnsupportedRelease");
      assert.equal(problem.field, "spec.base.release");
      assert.ok(problem.message.startsWith("spec.base.release: "), problem.message);
      assert.ok(problem.message.includes(`${os} ${release} `), problem.message);
    }
  });

  it("lists the supported releases of the OS in the message", () => {
    const ubuntu = checkSupported(spec("ubuntu", "14.04"));
    assert.match(ubuntu?.message ?? "", /supported: .*24\.04/);
    const fedora = checkSupported(spec("fedora", "30"));
    assert.match(fedora?.message ?? "", /supported: .*41/);
    const sles = checkSupported(spec("sles", "12"));
    assert.match(sles?.message ?? "", /supported: .*15-SP6/);
    assert.equal(
      sles?.message,
      "spec.base.release: sles 12 is not a release golden can build; supported: 15-SP5, 15-SP6, 15-SP7, 16.0",
    );
  });

  it("supports one OS's release format only for that OS", () => {
    assert.ok(checkSupported(spec("ubuntu", "bookworm")));
    assert.ok(checkSupported(spec("fedora", "24.04")));
    assert.ok(checkSupported(spec("debian", "9.4")));
    assert.ok(checkSupported(spec("sles", "42")));
  });

  it("accepts every release the API documentation gives as an example", () => {
    // ImageSpec.base.release (api/spec/golden.dev_v1alpha1.yaml, the CRDs, types.ts) reads:
    // "Release of the distribution, such as 24.04 or noble (ubuntu), 12 or bookworm (debian),
    //  9.4 (rhel, rocky, almalinux), 41 (fedora) or 15-SP6 (sles)."
    const documented: [Os, string][] = [
      ["ubuntu", "24.04"],
      ["ubuntu", "noble"],
      ["debian", "12"],
      ["debian", "bookworm"],
      ["rhel", "9.4"],
      ["rocky", "9.4"],
      ["almalinux", "9.4"],
      ["fedora", "41"],
      ["sles", "15-SP6"],
    ];
    for (const [os, release] of documented) {
      assert.equal(checkSupported(spec(os, release))?.message, undefined, `${os} ${release}`);
    }
  });
});
