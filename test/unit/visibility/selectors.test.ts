import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkLabelSelector, matchesFields, parseFieldSelector } from "../../../src/visibility/selectors.js";
import { StatusError } from "../../../src/visibility/status.js";

const subject = { name: "web-g1-abc", namespace: "team-a" };

describe("field selectors", () => {
  it("selects by metadata.name and metadata.namespace with =, == and !=", () => {
    const cases: [string, boolean][] = [
      ["", true],
      ["metadata.name=web-g1-abc", true],
      ["metadata.name==web-g1-abc", true],
      ["metadata.name!=web-g1-abc", false],
      ["metadata.namespace=team-b", false],
      ["metadata.namespace=team-a,metadata.name!=other", true],
      ["metadata.namespace = team-a", true],
    ];
    for (const [selector, want] of cases)
      assert.equal(matchesFields(parseFieldSelector(selector), subject), want, selector);
  });

  it("keeps escaped commas and equals signs in values", () => {
    assert.deepEqual(parseFieldSelector("metadata.name=a\\,b\\=c"), [
      { field: "metadata.name", op: "=", value: "a,b=c" },
    ]);
  });

  it("refuses other fields and malformed terms with 400 naming them", () => {
    for (const [selector, message] of [
      ["spec.imageName=web", /field label not supported: spec\.imageName/],
      ["metadata.name", /invalid field selector: "metadata\.name"/],
    ] as const) {
      assert.throws(
        () => parseFieldSelector(selector),
        (err: unknown) => err instanceof StatusError && err.code === 400 && message.test(err.message),
        selector,
      );
    }
  });

  it("refuses label selectors: PendingBuilds have no labels", () => {
    checkLabelSelector(null);
    checkLabelSelector("");
    assert.throws(
      () => checkLabelSelector("app=web"),
      (err: unknown) => err instanceof StatusError && err.code === 400 && /labelSelector/.test(err.message),
    );
  });
});
