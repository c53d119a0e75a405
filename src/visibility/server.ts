// golden's aggregated API server: HTTPS in the operator process, reached through kube-aggregator.
// Each request: health checks answer anyone; everything else needs a user asserted by the front
// proxy (authn.ts); resource requests are authorized by SubjectAccessReview (authz.ts). Views are
// computed on demand from the PendingQueueSource; nothing is stored.

import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { GROUP, PENDING_BUILD_RESOURCE, RESOURCES, VERSION } from "../api/visibility/v1alpha1/index.js";
import { OPENAPI_V2_DOCUMENT, OPENAPI_V3_DOCUMENT } from "../api/visibility/v1alpha1/openapi.js";
import type { Logger } from "../runtime/logger.js";
import type { PendingQueueSource } from "../scheduler/pending.js";
import { authenticateRequestHeader, type RequestHeaderConfig, type UserInfo } from "./authn.js";
import type { DelegatingAuthorizer } from "./authz.js";
import { aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList } from "./discovery.js";
import { AGGREGATED_DISCOVERY_TYPE, wantsAggregatedDiscovery, wantsTable } from "./media.js";
import { type OpenApiDocument, openApiDocument, openApiIndex } from "./openapi.js";
import type { PaginationOptions } from "./pagination.js";
import { listMetadata, listObject, PendingBuilds } from "./pending-builds.js";
import { type Route, route } from "./router.js";
import type { ServingCertificate, ServingCertificateSource } from "./serving-cert.js";
import { methodNotAllowed, notFound, StatusError, unauthorized } from "./status.js";
import { parseIncludeObject, renderTable } from "./table.js";

export interface VisibilityServerOptions {
  port: number;
  bindAddress: string;
  source: PendingQueueSource;
  certificates: ServingCertificateSource;
  /** Reads kube-system/extension-apiserver-authentication; undefined: no front proxy configured. */
  requestHeaderConfig: () => Promise<RequestHeaderConfig | undefined>;
  authorizer: Pick<DelegatingAuthorizer, "authorize">;
  /**
   * Called with each answered request: what it asked (verb: list, get, discovery…), its HTTP code
   * and how long golden took, from its arrival to the last byte handed to the socket.
   */
  onRequest?: (verb: string, code: number, seconds: number, newConnection: boolean) => void;
  /**
   * Called with each TLS connection accepted: with onRequest, tells whether the aggregator reuses
   * its connections (a new one costs a handshake with a client certificate, outside request times).
   */
  onConnection?: () => void;
  /** Called with each certificate the server (re)loads, e.g. to keep the APIService's caBundle. */
  onCertificate?: (cert: ServingCertificate) => Promise<void>;
  log: Logger;
  /** How often certificates and the requestheader CA are re-read. Default 60 s. */
  refreshMs?: number;
  pagination?: PaginationOptions;
  now?: () => number;
}

const GROUP_VERSION = { group: GROUP, version: VERSION, resources: RESOURCES };
const OPENAPI = openApiDocument(GROUP, VERSION, OPENAPI_V3_DOCUMENT);
const OPENAPI_V2 = openApiDocument(GROUP, VERSION, OPENAPI_V2_DOCUMENT);
const TABLE_TYPE = "application/json;as=Table;v=v1;g=meta.k8s.io";
/** A request at least this slow is logged with where its time went. */
const SLOW_REQUEST_MS = 200;
/** Longer than the aggregator's idle connection timeout (90 s), so the client is the one to close. */
const KEEP_ALIVE_MS = 120_000;

interface Reply {
  code: number;
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

/** The document with its hash as ETag; addressed by that hash, it never changes: cache it for good. */
function openApiReply(doc: OpenApiDocument, url: URL): Reply {
  return {
    code: 200,
    body: doc.body,
    contentType: "application/json",
    headers: {
      ETag: `"${doc.hash}"`,
      ...(url.searchParams.get("hash") === doc.hash
        ? { "Cache-Control": "public, immutable, max-age=31536000" }
        : {}),
    },
  };
}

const json = (body: unknown, contentType = "application/json"): Reply => ({ code: 200, body, contentType });

export class VisibilityServer {
  readonly #opts: VisibilityServerOptions;
  readonly #builds: PendingBuilds;
  readonly #now: () => number;
  #server: Server | undefined;
  #requestHeader: RequestHeaderConfig | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** What the secure context was built from, to skip no-op reloads. */
  #contextKey = "";
  /** Connections that have carried a request: a request on any other paid for a TLS handshake. */
  readonly #usedConnections = new WeakSet<object>();

  constructor(opts: VisibilityServerOptions) {
    this.#opts = opts;
    this.#builds = new PendingBuilds(opts.source, opts.pagination);
    this.#now = opts.now ?? Date.now;
  }

  /** Loads certificates and the requestheader CA, listens, then publishes the CA bundle. */
  async start(): Promise<AddressInfo> {
    const { context, cert } = await this.#load();
    const server = createServer(
      // Ask for the client certificate, but let requests without one through to answer them 401
      // (and health checks).
      { ...context, requestCert: true, rejectUnauthorized: false },
      (req, res) => void this.#handle(req, res),
    );
    // The aggregator keeps its connections to us idle for up to 90 s (Go's http.Transport): Node's
    // default of closing them after 5 s would cost a page a new TLS handshake with a client
    // certificate to verify, and risk a request sent on a connection being closed.
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.headersTimeout = KEEP_ALIVE_MS + 5_000;
    const onConnection = this.#opts.onConnection;
    if (onConnection) server.on("secureConnection", () => onConnection());
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#opts.port, this.#opts.bindAddress, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.#timer = setInterval(() => void this.refresh(), this.#opts.refreshMs ?? 60_000);
    this.#timer.unref();
    const address = server.address() as AddressInfo;
    this.#opts.log.info("visibility server listening", { address: address.address, port: address.port });
    // Only now: the aggregator checks the APIService again when its caBundle changes, and that
    // check must find the server listening (a refused check backs off for minutes).
    await this.#announce(cert);
    return address;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Re-reads certificates and the requestheader CA; swaps the TLS context when they changed. */
  async refresh(): Promise<void> {
    try {
      const { context, cert } = await this.#load();
      const key = JSON.stringify(context);
      if (key !== this.#contextKey) {
        this.#server?.setSecureContext(context);
        this.#contextKey = key;
      }
      await this.#announce(cert);
    } catch (err) {
      // Keep serving with what we have; the next refresh tries again.
      this.#opts.log.warn("visibility server: refresh failed", { err });
    }
  }

  async #load() {
    const [cert, requestHeader] = await Promise.all([
      this.#opts.certificates.current(),
      this.#opts.requestHeaderConfig(),
    ]);
    this.#requestHeader = requestHeader;
    const context = {
      cert: cert.cert,
      key: cert.key,
      ...(requestHeader ? { ca: requestHeader.clientCA } : {}),
    };
    this.#contextKey ||= JSON.stringify(context);
    return { context, cert };
  }

  /** Publishes the served certificate's CA (the APIService's caBundle); a failure is not fatal. */
  async #announce(cert: ServingCertificate): Promise<void> {
    try {
      await this.#opts.onCertificate?.(cert);
    } catch (err) {
      this.#opts.log.warn("visibility server: could not publish the CA bundle", { err });
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    // Where a slow request's time went (as the apiserver's traces of slow requests say).
    const steps: [string, number][] = [];
    const step = (name: string) => steps.push([name, Math.round(performance.now() - started)]);
    let verb = "unknown";
    let reply: Reply;
    try {
      reply = await this.#reply(
        req,
        (v) => {
          verb = v;
        },
        step,
      );
    } catch (err) {
      const status =
        err instanceof StatusError
          ? err
          : new StatusError(
              500,
              "InternalError",
              `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`,
            );
      if (!(err instanceof StatusError))
        this.#opts.log.error("visibility request failed", { err, url: req.url });
      reply = { code: status.code, body: status.toStatus() };
    }
    const text = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.code, {
      "Content-Type":
        reply.contentType ??
        (typeof reply.body === "string" ? "text/plain; charset=utf-8" : "application/json"),
      "Cache-Control": "no-cache, private",
      ...reply.headers,
    });
    res.end(text);
    const newConnection = !this.#usedConnections.has(req.socket);
    this.#usedConnections.add(req.socket);
    const ms = performance.now() - started;
    this.#opts.onRequest?.(verb, reply.code, ms / 1000, newConnection);
    if (ms >= SLOW_REQUEST_MS) {
      step("written");
      this.#opts.log.info("slow visibility request", {
        verb,
        code: reply.code,
        ms: Math.round(ms),
        bytes: text.length,
        newConnection,
        steps: Object.fromEntries(steps),
      });
    }
  }

  async #reply(
    req: IncomingMessage,
    routed: (verb: string) => void,
    step: (name: string) => void,
  ): Promise<Reply> {
    const url = new URL(req.url ?? "/", "https://visibility");
    const r = route(url.pathname, GROUP, VERSION);
    routed(r.kind);
    if (r.kind === "health") {
      const ok = r.check !== "readyz" || this.#opts.source.ready();
      return { code: ok ? 200 : 503, body: ok ? "ok" : "the build queue's caches are not synced" };
    }
    const user = this.#authenticate(req);
    if (req.method !== "GET")
      throw methodNotAllowed(
        `the server does not allow this method on the requested resource: ${req.method} ${url.pathname} (${GROUP} is read-only)`,
      );
    step("authenticated");
    return this.#serve(r, url, req.headersDistinct.accept?.join(","), user, step);
  }

  #authenticate(req: IncomingMessage): UserInfo {
    const socket = req.socket as TLSSocket;
    const cn = socket.getPeerCertificate?.()?.subject?.CN;
    const user = authenticateRequestHeader(
      this.#requestHeader,
      { authorized: socket.authorized === true, commonName: Array.isArray(cn) ? cn[0] : cn },
      req.headersDistinct,
    );
    if (!user) throw unauthorized();
    return user;
  }

  async #serve(
    r: Route,
    url: URL,
    accept: string | undefined,
    user: UserInfo,
    step: (name: string) => void,
  ): Promise<Reply> {
    switch (r.kind) {
      case "apis":
        return wantsAggregatedDiscovery(accept)
          ? json(aggregatedDiscovery(GROUP_VERSION), AGGREGATED_DISCOVERY_TYPE)
          : json(apiGroupList(GROUP_VERSION));
      case "group":
        return json(apiGroup(GROUP_VERSION));
      case "version":
        return json(apiResourceList(GROUP_VERSION));
      case "openapiIndex":
        return json(openApiIndex([OPENAPI]));
      case "openapiDocument":
        if (r.path !== OPENAPI.path) break;
        return openApiReply(OPENAPI, url);
      case "openapiV2":
        return openApiReply(OPENAPI_V2, url);
      case "list":
      case "get":
        if (r.resource !== PENDING_BUILD_RESOURCE.plural) break;
        return this.#resource(r, url, accept, user, step);
      case "health":
      case "unknown":
        break;
    }
    throw notFound("the server could not find the requested resource");
  }

  async #resource(
    r: Extract<Route, { kind: "list" | "get" }>,
    url: URL,
    accept: string | undefined,
    user: UserInfo,
    step: (name: string) => void,
  ): Promise<Reply> {
    const q = url.searchParams;
    const watch = q.get("watch");
    if (watch === "true" || watch === "1")
      throw methodNotAllowed(
        `watch is not supported on ${PENDING_BUILD_RESOURCE.plural}: it is a view computed on each request`,
      );
    const attrs = {
      group: GROUP,
      version: VERSION,
      resource: PENDING_BUILD_RESOURCE.plural,
      verb: r.kind,
      ...(r.namespace ? { namespace: r.namespace } : {}),
      ...(r.kind === "get" ? { name: r.name } : {}),
    } as const;
    await this.#opts.authorizer.authorize(user, attrs);
    step("authorized");
    const table = wantsTable(accept);
    const includeObject = parseIncludeObject(q.get("includeObject"));
    const columns = PENDING_BUILD_RESOURCE.printerColumns;
    if (r.kind === "get") {
      const build = this.#builds.get(r.namespace, r.name);
      if (!table) return json(build);
      return json(
        renderTable(columns, [build], { metadata: {}, includeObject, nowMs: this.#now() }),
        TABLE_TYPE,
      );
    }
    const page = this.#builds.list({ ...(r.namespace ? { namespace: r.namespace } : {}), query: q });
    step("listed");
    if (!table) return json(listObject(page));
    const rendered = renderTable(columns, page.items, {
      metadata: listMetadata(page),
      includeObject,
      nowMs: this.#now(),
    });
    step("rendered");
    return json(rendered, TABLE_TYPE);
  }
}
