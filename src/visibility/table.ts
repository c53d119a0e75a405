// meta.k8s.io/v1 Table rendering, so `kubectl get pendingbuilds` prints columns as it does for any
// resource. Columns come from the generated printer columns; a date column is rendered as an age,
// as the apiserver does for a CRD's date columns.
import type { PrinterColumn } from "../api/visibility/v1alpha1/index.js";
import { badRequest } from "./status.js";

export type IncludeObject = "None" | "Metadata" | "Object";

export interface ListMetadata {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

interface Row {
  metadata: { name?: string };
}

const NAME_COLUMN = {
  name: "Name",
  type: "string",
  format: "name",
  description: "Name must be unique within a namespace.",
  priority: 0,
};

export function parseIncludeObject(value: string | null): IncludeObject {
  if (value === null || value === "") return "Metadata";
  if (value === "None" || value === "Metadata" || value === "Object") return value;
  throw badRequest(`includeObject: want None, Metadata or Object, got ${JSON.stringify(value)}`);
}

/** Value at a plain .a.b path (the generator only admits those). */
export function valueAt(obj: unknown, jsonPath: string): unknown {
  let v: unknown = obj;
  for (const part of jsonPath.split(".").slice(1)) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** k8s.io/apimachinery's duration.HumanDuration: what kubectl shows in AGE columns. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

function cell(column: PrinterColumn, obj: unknown, nowMs: number): unknown {
  const v = valueAt(obj, column.jsonPath);
  if (v === undefined || v === null) return null;
  if (column.type === "date") {
    const t = typeof v === "string" ? Date.parse(v) : Number.NaN;
    return Number.isFinite(t) ? humanDuration(nowMs - t) : null;
  }
  return v;
}

export function renderTable<T extends Row>(
  columns: readonly PrinterColumn[],
  objects: readonly T[],
  opts: { metadata: ListMetadata; includeObject: IncludeObject; nowMs: number },
) {
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: opts.metadata,
    columnDefinitions: [
      NAME_COLUMN,
      ...columns.map((c) => ({
        name: c.name,
        type: c.type,
        format: "",
        description: c.description,
        priority: c.priority,
      })),
    ],
    rows: objects.map((o) => ({
      cells: [o.metadata.name ?? "", ...columns.map((c) => cell(c, o, opts.nowMs))],
      ...(opts.includeObject === "None"
        ? {}
        : {
            object:
              opts.includeObject === "Object"
                ? o
                : { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
          }),
    })),
  };
}
