import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  bumpVersion,
  comparePackageVersions,
  compareVersions,
  parseVersion,
} from "../../../src/versions/semver.js";

describe("version numbers", () => {
  it("parses MAJOR.MINOR.PATCH and refuses anything else", () => {
    assert.deepEqual(parseVersion("1.20.3"), { major: 1, minor: 20, patch: 3 });
    for (const bad of ["1.2", "01.2.3", "1.2.3-rc1", "v1.2.3", "", "1..2"])
      assert.equal(parseVersion(bad), undefined, bad);
  });

  it("compares numerically, not as text", () => {
    assert.ok(compareVersions("1.10.0", "1.9.0") > 0);
    assert.ok(compareVersions("2.0.0", "1.99.99") > 0);
    assert.equal(compareVersions("1.2.3", "1.2.3"), 0);
    assert.deepEqual(["1.10.0", "1.2.0", "1.9.1", "1.9.0"].sort(compareVersions), [
      "1.2.0",
      "1.9.0",
      "1.9.1",
      "1.10.0",
    ]);
  });

  it("bumps: the first is 1.0.0, major and minor reset what follows them", () => {
    assert.equal(bumpVersion(undefined, "Patch"), "1.0.0");
    assert.equal(bumpVersion("1.4.2", "Initial"), "1.0.0");
    assert.equal(bumpVersion("1.4.2", "Major"), "2.0.0");
    assert.equal(bumpVersion("1.4.2", "Minor"), "1.5.0");
    assert.equal(bumpVersion("1.4.2", "Patch"), "1.4.3");
  });

  it("compares package versions segment by segment", () => {
    assert.ok(comparePackageVersions("3.0.10-1", "3.0.9-1") > 0);
    assert.ok(comparePackageVersions("3.0.9-1", "3.0.9-2") < 0);
    assert.ok(comparePackageVersions("1.2", "1.2.1") < 0);
    assert.equal(comparePackageVersions("2.4.1-3", "2.4.1-3"), 0);
  });
});
