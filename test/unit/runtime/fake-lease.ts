import type { V1Lease } from "@kubernetes/client-node";
import type { LeaseClient } from "../../../src/runtime/index.js";

function apiError(code: number, reason: string): Error {
  return Object.assign(new Error(reason), { code, body: JSON.stringify({ reason, code }) });
}

/** In-memory Lease API with resourceVersion checks; objects round-trip through JSON like the wire. */
export class FakeLeaseApi implements LeaseClient {
  lease: V1Lease | undefined;
  rv = 0;
  down = false;
  writes = 0;

  async readNamespacedLease(): Promise<V1Lease> {
    if (this.down) throw apiError(503, "ServiceUnavailable");
    if (!this.lease) throw apiError(404, "NotFound");
    return clone(this.lease);
  }

  async createNamespacedLease(p: { namespace: string; body: V1Lease }): Promise<V1Lease> {
    if (this.down) throw apiError(503, "ServiceUnavailable");
    if (this.lease) throw apiError(409, "AlreadyExists");
    return this.#store(p.body);
  }

  async replaceNamespacedLease(p: { name: string; namespace: string; body: V1Lease }): Promise<V1Lease> {
    if (this.down) throw apiError(503, "ServiceUnavailable");
    if (!this.lease) throw apiError(404, "NotFound");
    if (p.body.metadata?.resourceVersion !== this.lease.metadata?.resourceVersion)
      throw apiError(409, "Conflict");
    return this.#store(p.body);
  }

  #store(body: V1Lease): V1Lease {
    this.writes++;
    const stored = clone(body);
    stored.metadata = { ...stored.metadata, resourceVersion: String(++this.rv) };
    this.lease = stored;
    return clone(stored);
  }

  get holder(): string | undefined {
    return this.lease?.spec?.holderIdentity;
  }
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
