// fieldSelector and labelSelector of list requests. A PendingBuild supports the two fields every
// resource supports, metadata.name and metadata.namespace (=, ==, !=), as the apiserver does for
// resources without selectable fields of their own; it carries no labels.
import { badRequest } from "./status.js";

export const SELECTABLE_FIELDS = ["metadata.name", "metadata.namespace"] as const;
type Field = (typeof SELECTABLE_FIELDS)[number];

export interface FieldRequirement {
  field: Field;
  op: "=" | "!=";
  value: string;
}

/** What a field selector can look at. */
export interface FieldSubject {
  name: string;
  namespace: string;
}

/** Splits on `sep` outside backslash escapes (fields.ParseSelector's escaping: \, \= \! \\). */
function splitUnescaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\" && i + 1 < s.length) {
      current += s.slice(i, i + 2);
      i++;
    } else if (c === sep) {
      parts.push(current);
      current = "";
    } else current += c;
  }
  parts.push(current);
  return parts;
}

const unescapeSelector = (s: string) => s.replace(/\\(.)/g, "$1");

function parseRequirement(term: string): FieldRequirement {
  // The operator is the first unescaped `!=`, `==` or `=`.
  const m = /^((?:[^\\!=]|\\.)*)(!=|==|=)(.*)$/.exec(term);
  if (!m)
    throw badRequest(
      `invalid field selector: ${JSON.stringify(term)}: want field=value, field==value or field!=value`,
    );
  const [, rawField = "", op = "=", rawValue = ""] = m;
  const field = unescapeSelector(rawField.trim());
  if (!(SELECTABLE_FIELDS as readonly string[]).includes(field))
    throw badRequest(
      `field label not supported: ${field} (pendingbuilds support ${SELECTABLE_FIELDS.join(", ")})`,
    );
  return { field: field as Field, op: op === "!=" ? "!=" : "=", value: unescapeSelector(rawValue.trim()) };
}

/** Parses a fieldSelector; empty or absent selects everything. Unknown fields are a 400. */
export function parseFieldSelector(selector: string | null | undefined): FieldRequirement[] {
  if (!selector?.trim()) return [];
  return splitUnescaped(selector, ",")
    .filter((t) => t.trim() !== "")
    .map(parseRequirement);
}

export function matchesFields(requirements: readonly FieldRequirement[], subject: FieldSubject): boolean {
  return requirements.every((r) => {
    const actual = r.field === "metadata.name" ? subject.name : subject.namespace;
    return r.op === "=" ? actual === r.value : actual !== r.value;
  });
}

/** PendingBuilds carry no labels, so any label selector is refused rather than silently ignored. */
export function checkLabelSelector(selector: string | null | undefined): void {
  if (selector?.trim())
    throw badRequest(
      "labelSelector is not supported: pendingbuilds carry no labels; use fieldSelector on metadata.name or metadata.namespace",
    );
}
