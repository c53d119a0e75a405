import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig, type KubernetesObject } from "@kubernetes/client-node";

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: string;
}

/** Returns false to pass the request on; anything else means handled (or deliberately left hanging). */
type Route = (req: RecordedRequest, res: ServerResponse) => unknown;

/** A tiny HTTP stand-in for the apiserver: recorded requests plus pluggable routes. */
export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  readonly #routes: Route[] = [];
  readonly #server: Server;
  port = 0;

  constructor() {
    this.#server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        const url = new URL(req.url ?? "/", "http://x");
        const rec: RecordedRequest = {
          method: req.method ?? "GET",
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body,
        };
        this.requests.push(rec);
        void this.#dispatch(rec, res);
      });
    });
  }

  async #dispatch(rec: RecordedRequest, res: ServerResponse): Promise<void> {
    for (const route of this.#routes) {
      if ((await route(rec, res)) !== false) return;
    }
    json(res, 404, { kind: "Status", code: 404, reason: "NotFound" });
  }

  /** Routes are tried in order; return false to pass. */
  route(fn: Route): void {
    this.#routes.push(fn);
  }

  /** Adds a route tried before all others (fault injection). */
  routeFirst(fn: Route): void {
    this.#routes.unshift(fn);
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.#server.listen(0, "127.0.0.1", r));
    this.port = (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: `http://127.0.0.1:${this.port}`, skipTLSVerify: true }],
      users: [{ name: "u", token: "secret-token" }],
      contexts: [{ name: "c", cluster: "fake", user: "u" }],
      currentContext: "c",
    });
    return kc;
  }
}

export function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

export function status(res: ServerResponse, code: number, reason: string, message = reason): void {
  json(res, code, { kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message });
}

/** In-memory ConfigMap collection with list (paginated) and watch, plus fault injection. */
export class FakeCollection {
  readonly objects = new Map<string, KubernetesObject>();
  rv = 100;
  readonly watchers = new Set<ServerResponse>();
  /** Next watch request gets this HTTP status instead. */
  failNextWatch: number | undefined;
  /** Next list request gets this HTTP status. */
  failNextList: number | undefined;

  constructor(
    readonly server: FakeApiServer,
    readonly path = "/api/v1/namespaces/ns/configmaps",
  ) {
    server.route((req, res) => {
      if (req.path !== this.path || req.method !== "GET") return false;
      if (req.query.get("watch") === "true") this.#watch(req, res);
      else this.#list(req, res);
    });
  }

  put(name: string, data: Record<string, string> = {}, emit = true): KubernetesObject {
    const existing = this.objects.has(name);
    const obj: KubernetesObject & { data: Record<string, string> } = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name,
        namespace: /\/namespaces\/([^/]+)\//.exec(this.path)?.[1] ?? "ns",
        resourceVersion: String(++this.rv),
      },
      data,
    };
    this.objects.set(name, obj);
    if (emit) this.emit(existing ? "MODIFIED" : "ADDED", obj);
    return obj;
  }

  delete(name: string, emit = true): void {
    const obj = this.objects.get(name);
    if (!obj) return;
    this.objects.delete(name);
    const gone = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    if (emit) this.emit("DELETED", gone);
  }

  emit(type: string, object: unknown): void {
    for (const w of this.watchers) w.write(`${JSON.stringify({ type, object })}\n`);
  }

  bookmark(): void {
    this.emit("BOOKMARK", {
      kind: "ConfigMap",
      apiVersion: "v1",
      metadata: { resourceVersion: String(++this.rv) },
    });
  }

  expireInStream(): void {
    this.emit("ERROR", {
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      code: 410,
      reason: "Expired",
      message: "too old",
    });
  }

  closeWatches(): void {
    for (const w of this.watchers) w.end();
    this.watchers.clear();
  }

  #list(req: RecordedRequest, res: ServerResponse): void {
    if (this.failNextList !== undefined) {
      const code = this.failNextList;
      this.failNextList = undefined;
      status(res, code, "Injected");
      return;
    }
    const all = [...this.objects.values()].sort((a, b) =>
      String(a.metadata?.name).localeCompare(String(b.metadata?.name)),
    );
    const limit = Number(req.query.get("limit") ?? 0);
    const start = Number(req.query.get("continue") ?? 0);
    const page = limit > 0 ? all.slice(start, start + limit) : all.slice(start);
    const next = limit > 0 && start + limit < all.length ? String(start + limit) : undefined;
    // Real list items carry no apiVersion/kind.
    const items = page.map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
    json(res, 200, {
      apiVersion: "v1",
      kind: "ConfigMapList",
      metadata: { resourceVersion: String(this.rv), continue: next },
      items,
    });
  }

  #watch(_req: RecordedRequest, res: ServerResponse): void {
    if (this.failNextWatch !== undefined) {
      const code = this.failNextWatch;
      this.failNextWatch = undefined;
      status(res, code, code === 410 ? "Expired" : "Injected");
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    res.flushHeaders();
    this.watchers.add(res);
    res.on("close", () => this.watchers.delete(res));
  }

  watchRequests(): RecordedRequest[] {
    return this.server.requests.filter((r) => r.path === this.path && r.query.get("watch") === "true");
  }

  listRequests(): RecordedRequest[] {
    return this.server.requests.filter((r) => r.path === this.path && r.query.get("watch") !== "true");
  }
}
