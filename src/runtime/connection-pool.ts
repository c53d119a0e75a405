import { createHash } from "node:crypto";
import type { Cluster, KubeConfig, RequestContext, SecurityAuthentication } from "@kubernetes/client-node";

type Dispatcher = NonNullable<ReturnType<RequestContext["getDispatcher"]>>;

/**
 * client-node 2.0.1's KubeConfig.applySecurityAuthentication() builds a new undici Agent for
 * every request (config.js createDispatcher), so every API call and watch opens a fresh TLS
 * connection. This wrapper lets kc authenticate as usual, then swaps in one long-lived agent per
 * TLS identity (cluster + client certificate), so keep-alive connections are reused.
 * It also stands in for KubeConfig where client-node only needs these two methods (Watch).
 */
export class PooledAuth implements SecurityAuthentication {
  readonly kc: KubeConfig;
  readonly #agents = new Map<string, Dispatcher>();

  constructor(kc: KubeConfig) {
    this.kc = kc;
  }

  getName(): string {
    return "pooled kubeconfig authentication";
  }

  getCurrentCluster(): Cluster | null {
    return this.kc.getCurrentCluster();
  }

  async applySecurityAuthentication(ctx: RequestContext): Promise<void> {
    await this.kc.applySecurityAuthentication(ctx);
    const fresh = ctx.getDispatcher();
    if (!fresh) return;
    const key = await this.#tlsIdentity();
    const pooled = this.#agents.get(key);
    if (pooled) {
      // The fresh agent never opened a socket, so dropping it leaks nothing.
      ctx.setDispatcher(pooled);
    } else {
      this.#agents.set(key, fresh);
    }
  }

  /** Closes pooled connections (on shutdown, so idle keep-alive sockets don't hold the process). */
  async close(): Promise<void> {
    const agents = [...this.#agents.values()];
    this.#agents.clear();
    await Promise.allSettled(agents.map((a) => a.close()));
  }

  async #tlsIdentity(): Promise<string> {
    const cluster = this.kc.getCurrentCluster();
    const user = this.kc.getCurrentUser();
    const parts: unknown[] = [
      cluster?.name,
      cluster?.server,
      cluster?.caData,
      cluster?.caFile,
      cluster?.skipTLSVerify,
      cluster?.tlsServerName,
      cluster?.proxyUrl,
      user?.name,
      user?.certData,
      user?.certFile,
      user?.keyData,
      user?.keyFile,
    ];
    // Exec/auth-provider plugins may hand out (rotating) client certificates: key on the
    // certificate actually in use, at the cost of one more (cached) credential lookup.
    if (user?.exec || user?.authProvider) {
      const opts: { cert?: unknown; key?: unknown } = {};
      await this.kc.applyToHTTPSOptions(opts);
      parts.push(String(opts.cert ?? ""), String(opts.key ?? ""));
    }
    return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
  }
}

const pools = new WeakMap<KubeConfig, PooledAuth>();

/** The process-wide PooledAuth for `kc` (one connection pool per KubeConfig). */
export function pooledAuth(kc: KubeConfig): PooledAuth {
  let auth = pools.get(kc);
  if (!auth) {
    auth = new PooledAuth(kc);
    pools.set(kc, auth);
  }
  return auth;
}
