import {
  type ApiConstructor,
  ApiException,
  type ApiType,
  type Configuration,
  type ConfigurationOptions,
  createConfiguration,
  type HttpLibrary,
  type HttpMethod,
  IsomorphicFetchHttpLibrary,
  type KubeConfig,
  Observable,
  PatchStrategy,
  RequestContext,
  type ResponseContext,
  ServerConfiguration,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { type Clock, realClock } from "./clock.js";
import { type PooledAuth, pooledAuth } from "./connection-pool.js";
import type { Metrics } from "./metrics.js";
import { type Throttle, TokenBucket } from "./ratelimit.js";

/**
 * Default client budget (client-node itself has no limiter): Kueue's 300 qps / 500 burst. The
 * apiserver's Priority and Fairness is what protects it (controller-runtime now sets no client-side
 * limit at all); this bucket only keeps one runaway process from flooding its priority level.
 */
export const DEFAULT_QPS = 300;
export const DEFAULT_BURST = 500;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface ThrottleOptions {
  /** Sustained requests per second; <= 0 disables client-side throttling. */
  qps?: number;
  burst?: number;
  clock?: Clock;
}

/** A token bucket to share between all API clients of a process (client-go's per-config limiter). */
export function createThrottle(opts: ThrottleOptions = {}): TokenBucket {
  return new TokenBucket(opts.qps ?? DEFAULT_QPS, opts.burst ?? DEFAULT_BURST, opts.clock ?? realClock);
}

export interface RestClientOptions extends ThrottleOptions {
  /** Shared limiter; when absent, one is created from qps/burst for this client. */
  throttle?: Throttle;
  /** Per-request timeout (headers and body); 0 disables. Default 30 s. */
  timeoutMs?: number;
  metrics?: Metrics;
  /** The caller's User-Agent, e.g. "my-operator"; default client-node's. */
  userAgent?: string;
}

export interface SendOptions {
  /** Overrides the client's per-request timeout; 0 = none (watches). */
  timeoutMs?: number;
  /** Label for the requests metric (e.g. 'WATCH'); defaults to the HTTP method. */
  metricMethod?: string;
}

export interface RawRequest extends SendOptions {
  method: HttpMethod;
  /** Path below the server URL, e.g. '/api/v1/namespaces/ns/configmaps'. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * The process's connection to the API server: client-side rate limiting, a per-request timeout,
 * request metrics and keep-alive connection reuse for every generated API client made with
 * api(), and for raw requests (informer list/watch). It plugs in as the generated clients'
 * `httpApi`, not as middleware, so per-call options (setHeaderOptions etc.) can never drop it
 * and the generated code's in-place middleware.reverse() cannot reorder it.
 */
export class RestClient {
  readonly kc: KubeConfig;
  readonly throttle: Throttle;
  readonly timeoutMs: number;
  readonly auth: PooledAuth;
  readonly httpApi: HttpLibrary;
  readonly #inner = new IsomorphicFetchHttpLibrary();
  readonly #metrics: Metrics | undefined;
  readonly #userAgent: string | undefined;
  readonly #clock: Clock;

  constructor(kc: KubeConfig, opts: RestClientOptions = {}) {
    this.kc = kc;
    this.#clock = opts.clock ?? realClock;
    this.throttle = opts.throttle ?? createThrottle(opts);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.auth = pooledAuth(kc);
    this.#metrics = opts.metrics;
    this.#userAgent = opts.userAgent;
    this.httpApi = { send: (ctx) => new Observable(this.send(ctx)) };
  }

  /** A generated API client (e.g. BatchV1Api) whose requests all go through this client. */
  api<T extends ApiType>(ApiClass: ApiConstructor<T>): T {
    return new ApiClass(this.configuration());
  }

  configuration(): Configuration {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig has no current cluster");
    return createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: this.auth },
      httpApi: this.httpApi,
    });
  }

  /** Sends an authenticated RequestContext: waits on the throttle, applies the timeout, records metrics. */
  async send(ctx: RequestContext, opts: SendOptions = {}): Promise<ResponseContext> {
    const waitStart = this.#clock.now();
    await this.throttle.take(ctx.getSignal());
    this.#metrics?.rateLimiterWaited((this.#clock.now() - waitStart) / 1000);

    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    if (timeoutMs > 0) {
      const timeout = AbortSignal.timeout(timeoutMs);
      const own = ctx.getSignal();
      ctx.setSignal(own ? AbortSignal.any([own, timeout]) : timeout);
    }
    if (this.#userAgent && !ctx.getHeaders()["User-Agent"]) ctx.setHeaderParam("User-Agent", this.#userAgent);

    const method = opts.metricMethod ?? ctx.getHttpMethod();
    const start = this.#clock.now();
    try {
      const res = await this.#inner.send(ctx).toPromise();
      this.#metrics?.restRequest(method, String(res.httpStatusCode), (this.#clock.now() - start) / 1000);
      return res;
    } catch (err) {
      this.#metrics?.restRequest(method, "<error>", (this.#clock.now() - start) / 1000);
      throw err;
    }
  }

  /** Builds, authenticates and sends a request; the caller reads (or streams) the body. */
  async request(req: RawRequest): Promise<ResponseContext> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig has no current cluster");
    const url = new URL(cluster.server.replace(/\/+$/, "") + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) {
      if (v !== undefined && v !== "") url.searchParams.set(k, String(v));
    }
    const ctx = new RequestContext(url.toString(), req.method);
    ctx.setHeaderParam("Accept", "application/json");
    for (const [k, v] of Object.entries(req.headers ?? {})) ctx.setHeaderParam(k, v);
    if (req.body !== undefined) {
      ctx.setBody(typeof req.body === "string" ? req.body : JSON.stringify(req.body));
      if (!req.headers?.["Content-Type"]) ctx.setHeaderParam("Content-Type", "application/json");
    }
    if (req.signal) ctx.setSignal(req.signal);
    await this.auth.applySecurityAuthentication(ctx);
    return this.send(ctx, req);
  }

  /** request() + JSON body; non-2xx becomes an ApiException like the generated clients throw. */
  async requestJson<T>(req: RawRequest): Promise<T> {
    const res = await this.request(req);
    const text = await res.body.text();
    if (res.httpStatusCode < 200 || res.httpStatusCode > 299) {
      throw new ApiException<string>(
        res.httpStatusCode,
        `HTTP ${res.httpStatusCode} ${req.method} ${req.path}`,
        text,
        res.headers,
      );
    }
    return JSON.parse(text) as T;
  }
}

/**
 * A generated API client with throttling, timeout, metrics and connection reuse. Pass the same
 * `throttle` (from createThrottle) to every client of the process so they share one budget;
 * or build one RestClient and call .api() for each API class.
 */
export function makeApiClient<T extends ApiType>(
  kc: KubeConfig,
  ApiClass: ApiConstructor<T>,
  opts: RestClientOptions = {},
): T {
  return new RestClient(kc, opts).api(ApiClass);
}

/**
 * Per-call options for generated patch methods. They default to json-patch (the first media
 * type listed), which rejects object bodies, so always pass one of these.
 * The 'append' merge strategy keeps any client-level middleware.
 */
export function mergePatchOptions(opt?: ConfigurationOptions): ConfigurationOptions {
  return setHeaderOptions("Content-Type", PatchStrategy.MergePatch, opt);
}

/** Server-side apply; also pass `fieldManager` (and usually `force: true`) in the request params. */
export function applyPatchOptions(opt?: ConfigurationOptions): ConfigurationOptions {
  return setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply, opt);
}
