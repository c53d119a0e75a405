export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. {controller, image, generation}). */
  child(fields: LogFields): Logger;
  isEnabled(level: LogLevel): boolean;
}

export interface LogStream {
  write(line: string): unknown;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Goes into the "logger" field. */
  name?: string;
  /** Defaults to process.stdout. */
  stream?: LogStream;
  /** For tests: fixed timestamps. */
  now?: () => Date;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function isLogLevel(v: unknown): v is LogLevel {
  return typeof v === "string" && v in LEVELS;
}

/** Structured JSON-lines logger: one object per line, {"ts","level","logger","msg",...fields}. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = LEVELS[opts.level ?? "info"];
  const stream = opts.stream ?? process.stdout;
  const now = opts.now ?? (() => new Date());
  const base: LogFields = {};
  return makeLogger({ min, stream, now, name: opts.name, base });
}

interface Sink {
  min: number;
  stream: LogStream;
  now: () => Date;
  name: string | undefined;
  base: LogFields;
}

function makeLogger(sink: Sink): Logger {
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (LEVELS[level] < sink.min) return;
    const record: LogFields = { ts: sink.now().toISOString(), level };
    if (sink.name !== undefined) record.logger = sink.name;
    record.msg = msg;
    Object.assign(record, sink.base, fields);
    try {
      sink.stream.write(`${stringify(record)}\n`);
    } catch {
      // Logging must never take the process down (e.g. EPIPE on a closed stdout).
    }
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    child: (fields) => makeLogger({ ...sink, base: { ...sink.base, ...fields } }),
    isEnabled: (level) => LEVELS[level] >= sink.min,
  };
}

/** JSON.stringify that keeps Errors (message, stack, cause, code), BigInts, and survives cycles. */
export function stringify(value: unknown): string {
  const seen = new WeakSet<object>();
  const replacer = (_key: string, v: unknown): unknown => {
    if (typeof v === "bigint") return v.toString();
    if (v instanceof Error) return serializeError(v);
    if (typeof v === "object" && v !== null) {
      if (seen.has(v)) return "[Circular]";
      seen.add(v);
    }
    return v;
  };
  try {
    return JSON.stringify(value, replacer);
  } catch (err) {
    return JSON.stringify({ msg: "unserializable log record", error: String(err) });
  }
}

export function serializeError(err: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { name: err.name, message: err.message };
  const extra = err as Error & { code?: unknown; statusCode?: unknown; body?: unknown };
  if (extra.code !== undefined) out.code = extra.code;
  if (extra.statusCode !== undefined) out.statusCode = extra.statusCode;
  // ApiException bodies carry the apiserver's Status message; keep it short.
  if (typeof extra.body === "string") out.body = extra.body.slice(0, 1000);
  if (err.stack) out.stack = err.stack;
  if (err.cause !== undefined) out.cause = err.cause instanceof Error ? serializeError(err.cause) : err.cause;
  return out;
}

/** A logger that discards everything (default for components constructed without one). */
export const nopLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => nopLogger,
  isEnabled: () => false,
};
