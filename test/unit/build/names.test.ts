import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type BuildIdentity,
  buildName,
  imageLabelValue,
  MAX_BUILD_NAME,
  MAX_NAME,
} from "../../../src/build/names.js";

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
/** Kubernetes label value syntax (apimachinery IsValidLabelValue), length checked separately. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function longName(length: number, seed = "a"): string {
  // A valid DNS subdomain: labels of lower-case letters and digits separated by dots.
  let out = "";
  let i = 0;
  while (out.length < length) {
    const ch = i % 10 === 9 ? "." : String.fromCharCode(seed.charCodeAt(0) + (i % 7));
    out += ch;
    i++;
  }
  out = out.slice(0, length);
  return out.replace(/\.$/, "x");
}

function assertDnsLabel(name: string): void {
  assert.match(name, DNS_LABEL, `${JSON.stringify(name)} is not a DNS label`);
  assert.ok(name.length <= MAX_BUILD_NAME, `${name} has ${name.length} > ${MAX_BUILD_NAME} characters`);
}

const base: BuildIdentity = { imageName: "web", imageUid: "uid-1", generation: 3, attempt: 1 };

describe("buildName", () => {
  it("is deterministic", () => {
    assert.equal(buildName(base), buildName({ ...base }));
    assert.equal(buildName({ ...base, triggerId: "t" }), buildName({ ...base, triggerId: "t" }));
  });

  it("reads <image>-g<generation>-<hash> for a short name", () => {
    const name = buildName(base);
    assert.match(name, /^web-g3-[0-9a-f]{6}$/);
    assertDnsLabel(name);
  });

  it("limits constants are the documented ones", () => {
    assert.equal(MAX_BUILD_NAME, 57);
    assert.equal(MAX_NAME, 63);
  });

  it("stays within 57 characters and DNS-label safe for a 253-character name", () => {
    const imageName = longName(253);
    assert.equal(imageName.length, 253);
    for (const generation of [1, 42, 123456789]) {
      const name = buildName({ ...base, imageName, generation });
      assertDnsLabel(name);
      assert.ok(name.endsWith(`-g${generation}-${name.slice(-6)}`));
      assert.ok(name.startsWith(imageName.slice(0, 9)), "keeps a readable prefix of the image name");
    }
  });

  it("maps dots and upper case to a DNS label", () => {
    for (const imageName of ["My.Web.Server", "A.B.C", "x".repeat(40) + ".Y".repeat(60), "UPPER"]) {
      const name = buildName({ ...base, imageName });
      assertDnsLabel(name);
    }
    assert.match(buildName({ ...base, imageName: "My.Web" }), /^my-web-g3-[0-9a-f]{6}$/);
  });

  it("never ends the name part in a dash when cut at a separator", () => {
    // Place a dot exactly where the prefix is cut, so the cut leaves a trailing separator.
    const suffixLength = `-g${base.generation}-xxxxxx`.length;
    const cut = MAX_BUILD_NAME - suffixLength;
    const imageName = `${"a".repeat(cut - 1)}.${"b".repeat(100)}`;
    const name = buildName({ ...base, imageName });
    assertDnsLabel(name);
    assert.ok(!name.includes("--"), name);
    assert.ok(name.startsWith(`${"a".repeat(cut - 1)}-g3-`), name);
  });

  it("falls back to a fixed prefix when nothing of the name survives", () => {
    const name = buildName({ ...base, imageName: "..." });
    assertDnsLabel(name);
    assert.match(name, /^image-g3-[0-9a-f]{6}$/);
  });

  it("differs when uid, generation, attempt or trigger differ", () => {
    const variants: BuildIdentity[] = [
      base,
      { ...base, imageUid: "uid-2" },
      { ...base, generation: 4 },
      { ...base, attempt: 2 },
      { ...base, triggerId: "rebuild-1" },
      { ...base, triggerId: "rebuild-2" },
      { ...base, attempt: 2, triggerId: "rebuild-1" },
    ];
    const names = variants.map(buildName);
    assert.equal(new Set(names).size, names.length, names.join(" "));
  });

  it("differs for long names whose readable prefix is the same", () => {
    const imageName = longName(253);
    const a = buildName({ ...base, imageName, attempt: 1 });
    const b = buildName({ ...base, imageName, attempt: 2 });
    const c = buildName({ ...base, imageName, imageUid: "other" });
    assert.equal(new Set([a, b, c]).size, 3);
    for (const n of [a, b, c]) assertDnsLabel(n);
  });

  it("does not collide across many identities", () => {
    const seen = new Set<string>();
    for (let g = 1; g <= 20; g++) {
      for (let attempt = 1; attempt <= 5; attempt++) {
        for (const triggerId of [undefined, "a", "b"]) {
          const name = buildName({ imageName: "img", imageUid: "u", generation: g, attempt, triggerId });
          assertDnsLabel(name);
          seen.add(name);
        }
      }
    }
    assert.equal(seen.size, 20 * 5 * 3);
  });
});

describe("imageLabelValue", () => {
  it("returns a valid short name unchanged", () => {
    for (const name of ["web", "web-1", "a", "my.image.v2", "x".repeat(63)]) {
      assert.equal(imageLabelValue(name), name);
    }
  });

  it("hashes a name longer than 63 characters into a valid value of at most 63", () => {
    const name = longName(253);
    const value = imageLabelValue(name);
    assert.ok(value.length <= MAX_NAME, `${value.length}`);
    assert.match(value, LABEL_VALUE);
    assert.match(value, /-[0-9a-f]{6}$/);
    assert.equal(imageLabelValue(name), value, "deterministic");
  });

  it("handles exactly 64 characters", () => {
    const name = "x".repeat(64);
    const value = imageLabelValue(name);
    assert.notEqual(value, name);
    assert.ok(value.length <= MAX_NAME);
    assert.match(value, LABEL_VALUE);
    assert.match(value, /-[0-9a-f]{6}$/);
  });

  it("hashes names that are not valid label values", () => {
    for (const name of ["Web", "UPPER.case", "web_"]) {
      const value = imageLabelValue(name);
      assert.ok(value.length <= MAX_NAME);
      assert.match(value, LABEL_VALUE, `${name} -> ${value}`);
      assert.match(value, /-[0-9a-f]{6}$/);
    }
  });

  it("is distinct for two long names sharing a long prefix", () => {
    const prefix = "p".repeat(100);
    const a = imageLabelValue(`${prefix}-alpha`);
    const b = imageLabelValue(`${prefix}-beta`);
    assert.notEqual(a, b);
    for (const v of [a, b]) {
      assert.ok(v.length <= MAX_NAME);
      assert.match(v, LABEL_VALUE);
    }
  });

  it("a hashed value differs from a short name equal to its prefix", () => {
    const long = "q".repeat(80);
    assert.notEqual(imageLabelValue(long), imageLabelValue("q".repeat(56)));
  });
});
