import { flushAsync } from "../../support/fake-clock.js";

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (err: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  const d = Promise.withResolvers<T>();
  return { promise: d.promise, resolve: d.resolve, reject: d.reject };
}

/** Lets several rounds of promise callbacks run. */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await flushAsync();
}

/** Polls `cond` with real timers until true or `timeoutMs` passes. */
export async function eventually(cond: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A log sink capturing parsed JSON lines. */
export function captureLogs(): { lines: Record<string, unknown>[]; stream: { write(s: string): boolean } } {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    stream: {
      write(s: string) {
        for (const l of s.split("\n")) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        return true;
      },
    },
  };
}
