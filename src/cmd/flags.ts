// Command-line flags that can each also be set by an environment variable, with generated --help.
import { parseArgs } from "node:util";
import type { V1Toleration } from "@kubernetes/client-node";
import { isLogLevel, type LogLevel } from "../runtime/logger.js";

export interface FlagSpec {
  /** Flag name without dashes, e.g. "max-concurrent-reconciles". */
  name: string;
  type: "string" | "number" | "boolean";
  default?: string | number | boolean;
  help: string;
}

export type FlagValues = Record<string, string | number | boolean | undefined>;

/** A string flag; `fallback` undefined: unset unless given. */
export const str = (name: string, fallback: string | undefined, help: string): FlagSpec => ({
  name,
  type: "string",
  ...(fallback === undefined ? {} : { default: fallback }),
  help,
});
export const num = (name: string, fallback: number, help: string): FlagSpec => ({
  name,
  type: "number",
  default: fallback,
  help,
});
export const bool = (name: string, fallback: boolean, help: string): FlagSpec => ({
  name,
  type: "boolean",
  default: fallback,
  help,
});

/** --log-level, which both commands take. */
export const LOG_LEVEL_FLAG: FlagSpec = {
  name: "log-level",
  type: "string",
  default: "info",
  help: "debug, info, warn or error",
};

/** The --log-level given, checked. */
export function logLevel(f: FlagValues): LogLevel {
  const level = f[LOG_LEVEL_FLAG.name];
  if (!isLogLevel(level))
    throw new Error(`--log-level: want debug, info, warn or error, got ${JSON.stringify(level)}`);
  return level;
}

/** GOLDEN_MAX_CONCURRENT_RECONCILES for "max-concurrent-reconciles". */
export function envName(flag: string): string {
  return `GOLDEN_${flag.toUpperCase().replace(/-/g, "_")}`;
}

export function helpText(command: string, summary: string, specs: FlagSpec[]): string {
  const lines = [
    `Usage: ${command} [flags]`,
    "",
    summary,
    "",
    "Flags (each also settable by the environment variable shown):",
  ];
  for (const s of specs) {
    const def = s.default === undefined ? "" : ` (default ${JSON.stringify(s.default)})`;
    lines.push(
      `  --${s.name}${s.type === "boolean" ? "" : ` <${s.type}>`}`,
      `      ${s.help}${def} [$${envName(s.name)}]`,
    );
  }
  lines.push("  --help", "      Show this help");
  return `${lines.join("\n")}\n`;
}

/** Precedence: command line, then environment, then default. Throws naming the bad flag. */
export function parseFlags(
  specs: FlagSpec[],
  argv: string[],
  env: NodeJS.ProcessEnv,
): FlagValues & { help: boolean } {
  const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const s of specs) options[s.name] = { type: s.type === "boolean" ? "boolean" : "string" };
  // A boolean also takes `--flag=false` (as Kubernetes' own commands do) and `--no-flag`.
  const booleans = new Set(specs.filter((s) => s.type === "boolean").map((s) => s.name));
  const inline: Record<string, string> = {};
  const args = argv.filter((arg) => {
    const m = /^--([^=]+)=(.*)$/s.exec(arg);
    if (!m?.[1] || !booleans.has(m[1])) return true;
    inline[m[1]] = m[2] ?? "";
    return false;
  });
  const { values } = parseArgs({ args, options, allowPositionals: false, allowNegative: true, strict: true });
  const out: FlagValues & { help: boolean } = { help: values.help === true };
  for (const s of specs) {
    const raw = values[s.name] ?? inline[s.name] ?? env[envName(s.name)];
    out[s.name] = raw === undefined ? s.default : coerce(s, raw);
  }
  return out;
}

function coerce(spec: FlagSpec, raw: string | boolean): string | number | boolean {
  if (spec.type === "boolean") {
    if (typeof raw === "boolean") return raw;
    if (["true", "1", "yes"].includes(raw)) return true;
    if (["false", "0", "no", ""].includes(raw)) return false;
    throw new Error(`--${spec.name}: want true or false, got ${JSON.stringify(raw)}`);
  }
  if (spec.type === "number") {
    const n = Number(raw);
    if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(n)) {
      throw new Error(`--${spec.name}: want a number, got ${JSON.stringify(raw)}`);
    }
    return n;
  }
  return String(raw);
}

/** `key=value,key=value` → a nodeSelector map. */
export function parseSelector(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(",").filter(Boolean)) {
    const [key = "", value = ""] = pair.split("=").map((x) => x.trim());
    if (!key) throw new Error(`--worker-node-selector: bad entry ${JSON.stringify(pair)}`);
    out[key] = value;
  }
  return out;
}

/** `key=value:Effect` or `key:Effect`, comma-separated → tolerations. */
export function parseTolerations(text: string): V1Toleration[] {
  return text
    .split(",")
    .filter(Boolean)
    .map((entry) => {
      const [kv = "", effect] = entry.split(":").map((x) => x.trim());
      const [key, value] = kv.split("=").map((x) => x.trim());
      if (!key) throw new Error(`--worker-tolerations: bad entry ${JSON.stringify(entry)}`);
      return value !== undefined
        ? { key, operator: "Equal", value, ...(effect ? { effect } : {}) }
        : { key, operator: "Exists", ...(effect ? { effect } : {}) };
    });
}
