// The Image spec's limits keep every object golden stores well under etcd's request limit: the
// worst-case spec, computed from the generated CRDs (every list at maxItems, every string at
// maxLength in its costliest characters), fits a budget that leaves room for the ImageBuild's
// snapshot of it, managedFields, metadata and status. See api/spec/golden.dev_v1alpha1.yaml.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { crdSchema, maximalSpec, type SpecLimits, specLimits } from "../../support/spec-limits.js";
import {
  fieldsWorst,
  goEscape,
  jsonWorst,
  keyCost,
  patternProfile,
  type Schema,
  storedSize,
  subschema,
  valueCost,
  worstChars,
} from "../../support/worst-case-size.js";

const KiB = 1024;
/** etcd's default --max-request-bytes: one write (the whole object) may not be larger. */
const ETCD_REQUEST_LIMIT = 1.5 * 1024 * KiB;
/** The Image spec may take at most half of it, in the worst case. */
const SPEC_BUDGET = ETCD_REQUEST_LIMIT / 2;
/** Each stored object, with the allowances below, must stay under this share of etcd's limit. */
const OBJECT_BUDGET = 0.8 * ETCD_REQUEST_LIMIT;
/** The apiserver's limit on all annotations of an object (kubectl's last-applied lives there). */
const ANNOTATIONS = 256 * KiB;
/** name, namespace, uid, labels, finalizers, ownerReferences, the managedFields entries' own fields. */
const OTHER_METADATA = 16 * KiB;
/**
 * What golden writes into a status: a few conditions (Ready, Succeeded, Scheduled) and messages of
 * one line, up to 6 artifacts, times, progress. The schema's own bounds (16 conditions with
 * 32 KiB messages, as metav1.Condition) are far above what golden writes.
 */
const STATUS = 64 * KiB;

const image = crdSchema("images");
const build = crdSchema("imagebuilds");
const imageSpec = subschema(image, ["spec"]);
const buildSpec = subschema(build, ["spec"]);
const kib = (n: number) => `${(n / KiB).toFixed(1)} KiB`;
const pct = (n: number) => `${((100 * n) / ETCD_REQUEST_LIMIT).toFixed(0)}% of etcd's limit`;

describe("Go's JSON as the apiserver stores it", () => {
  it("escapes control, HTML and line-separator characters in 6 bytes, keys twice", () => {
    // Seen in etcd for an Image with this path and content (kube-apiserver 1.37).
    assert.equal(goEscape('<&>\u0001\u2028é🚀"\\\t'), '\\u003c\\u0026\\u003e\\u0001\\u2028é🚀\\"\\\\\\t');
    assert.equal(valueCost("<"), 6);
    assert.equal(valueCost("\u0000"), 6);
    assert.equal(valueCost("\n"), 2);
    assert.equal(valueCost("🚀"), 4);
    assert.equal(valueCost("a"), 1);
    assert.equal(keyCost("<"), 7); // "k:{\"path\":\"/a\\u003c\"}"
    assert.equal(keyCost('"'), 4);
    assert.equal(storedSize({ a: "<é" }), '{"a":"\\u003cé"}'.length + 1, "é takes 2 bytes");
  });

  it("bounds a pattern's costly characters by its structure", () => {
    const any = (p: string, n: number) => worstChars(n, patternProfile(p, valueCost));
    assert.equal(any("^[a-z_][a-z0-9_-]{0,31}$", 32), 32, "ASCII only: 1 byte each");
    assert.equal(any("^\\S+$", 10), 60, "\\S admits control characters");
    assert.equal(any("^[0-7]{3,4}$", 4), 4);
    assert.equal(any("^a( [^\\n]{0,5})?$", 100), 1 + 1 + 5 * 6, "only the bounded part is costly");
    assert.equal(any("^(x|[^y])$", 1), 6);
    assert.throws(() => patternProfile("^\\p{L}$", valueCost), /unsupported escape/);
  });

  it("counts a small schema exactly", () => {
    const s: Schema = {
      type: "object",
      properties: {
        n: { type: "integer", format: "int32", minimum: -5, maximum: 100 },
        l: { type: "array", maxItems: 2, items: { type: "string", maxLength: 3 } },
      },
    };
    const worst = { n: 100, l: ["<<<", "<<<"] };
    assert.equal(jsonWorst(s), storedSize(worst));
    assert.throws(() => jsonWorst({ type: "string" }), /without maxLength/);
    assert.throws(() => jsonWorst({ type: "array", items: { type: "boolean" } }), /without maxItems/);
  });
});

/** Checks `value` against the schema's bounds and patterns (a subset of the apiserver's checks). */
function conforms(value: unknown, s: Schema, at = "spec"): string[] {
  if (s.type === "string") {
    const str = value as string;
    const out: string[] = [];
    if (typeof s.maxLength === "number" && [...str].length > s.maxLength) out.push(`${at}: too long`);
    if (typeof s.pattern === "string" && !new RegExp(s.pattern, "u").test(str)) out.push(`${at}: pattern`);
    if (Array.isArray(s.enum) && !s.enum.includes(str)) out.push(`${at}: enum`);
    return out;
  }
  if (s.type === "array") {
    const list = value as unknown[];
    const out = list.length > (s.maxItems as number) ? [`${at}: too many items`] : [];
    return [...out, ...list.flatMap((v, i) => conforms(v, s.items as Schema, `${at}[${i}]`))];
  }
  if (s.type === "object") {
    const properties = (s.properties ?? {}) as Record<string, Schema>;
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
      properties[k] ? conforms(v, properties[k], `${at}.${k}`) : [`${at}.${k}: unknown`],
    );
  }
  return [];
}

describe("the Image spec's size budget", () => {
  const spec = jsonWorst(imageSpec);
  const specFields = fieldsWorst(imageSpec);

  it(`keeps the worst-case spec within ${kib(SPEC_BUDGET)}`, (t) => {
    const custom = subschema(imageSpec, ["customizations"]);
    for (const k of Object.keys(custom.properties as object))
      t.diagnostic(`spec.customizations.${k}: ${kib(jsonWorst(subschema(custom, [k])))}`);
    t.diagnostic(`spec: ${kib(spec)} (${pct(spec)}); its managedFields: ${kib(specFields)}`);
    assert.ok(spec <= SPEC_BUDGET, `worst-case spec ${kib(spec)} exceeds ${kib(SPEC_BUDGET)}`);
  });

  it("leaves room in the Image for managedFields, annotations, metadata and status", (t) => {
    const total = spec + specFields + ANNOTATIONS + OTHER_METADATA + STATUS;
    t.diagnostic(`Image: ${kib(total)} (${pct(total)})`);
    assert.ok(total <= OBJECT_BUDGET, `Image ${kib(total)} exceeds ${kib(OBJECT_BUDGET)}`);
  });

  it("leaves room in the ImageBuild for the spec snapshot, managedFields and status", (t) => {
    assert.equal(jsonWorst(subschema(buildSpec, ["image"])), spec, "spec.image is the Image spec");
    const total = jsonWorst(buildSpec) + fieldsWorst(buildSpec) + OTHER_METADATA + STATUS;
    t.diagnostic(`ImageBuild: ${kib(total)} (${pct(total)})`);
    assert.ok(total <= OBJECT_BUDGET, `ImageBuild ${kib(total)} exceeds ${kib(OBJECT_BUDGET)}`);
  });

  it("is reached by the fuzzer's maximal spec, which is valid", () => {
    const limits: SpecLimits = specLimits(image);
    const max = maximalSpec(limits);
    assert.deepEqual(conforms(max, imageSpec), []);
    const size = storedSize(max);
    assert.ok(size <= spec, `maximal spec ${size} bytes exceeds the computed worst case ${spec}`);
    // The computed worst case counts 32 kernel arguments of 256 characters; the rule that they fit
    // the kernel's 2048-character command line keeps ~6 KiB of that out of reach.
    const unreachable = 32 * 256 - 2048;
    assert.ok(
      size >= 0.99 * (spec - unreachable),
      `maximal spec ${size} bytes is far below the worst case ${spec}`,
    );
  });
});
