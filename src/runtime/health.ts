import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { type Logger, nopLogger } from "./logger.js";
import type { MetricsAuth } from "./metrics-auth.js";

/** A probe: true/{ok:true} passes; false, {ok:false, reason}, or a throw fails with that reason. */
export type Check = () => boolean | CheckResult | Promise<boolean | CheckResult>;
export interface CheckResult {
  ok: boolean;
  reason?: string;
}

export interface HealthServerOptions {
  port: number;
  host?: string;
  metricsRegistry?: Registry;
  /** When set, /metrics answers only callers it lets through (401/403 otherwise); probes stay open. */
  metricsAuth?: MetricsAuth;
  checks: { healthz: Check; readyz: Check };
  /** A check slower than this fails (default 5 s), so a hung check cannot hang the kubelet probe. */
  checkTimeoutMs?: number;
  logger?: Logger;
}

export interface HealthServer {
  /** Actual port (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/** Serves /healthz, /readyz (200 "ok" or 500 with the reason) and /metrics on node:http. */
export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const log = (opts.logger ?? nopLogger).child({ component: "health" });
  const timeoutMs = opts.checkTimeoutMs ?? 5_000;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "method not allowed\n");
      return;
    }
    switch (path) {
      case "/healthz":
      case "/livez":
        await probe(res, opts.checks.healthz, timeoutMs);
        return;
      case "/readyz":
        await probe(res, opts.checks.readyz, timeoutMs);
        return;
      case "/metrics":
        if (!opts.metricsRegistry) break;
        if (opts.metricsAuth) {
          const verdict = await opts.metricsAuth(req.headers.authorization);
          if (!verdict.ok) {
            send(res, verdict.status, `${verdict.message}\n`);
            return;
          }
        }
        try {
          const body = await opts.metricsRegistry.metrics();
          send(res, 200, body, opts.metricsRegistry.contentType);
        } catch (err) {
          log.error("collecting metrics failed", { err });
          send(res, 500, "metrics collection failed\n");
        }
        return;
    }
    send(res, 404, "not found\n");
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error("health request failed", { err });
      if (!res.headersSent) send(res, 500, "internal error\n");
      else res.destroy();
    });
  });
  // Probes are short; don't let idle keep-alive sockets delay close().
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info("health server listening", { port, host: opts.host });

  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function probe(res: ServerResponse, check: Check, timeoutMs: number): Promise<void> {
  const result = await runCheck(check, timeoutMs);
  if (result.ok) send(res, 200, "ok\n");
  else send(res, 500, `${result.reason ?? "check failed"}\n`);
}

export async function runCheck(check: Check, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, reason: `check timed out after ${timeoutMs} ms` }),
        timeoutMs,
      );
    });
    const outcome = await Promise.race([Promise.resolve().then(check), timeout]);
    if (typeof outcome === "boolean") return outcome ? { ok: true } : { ok: false };
    return outcome;
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = "text/plain; charset=utf-8",
): void {
  res.writeHead(status, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(body) });
  res.end(res.req.method === "HEAD" ? undefined : body);
}
