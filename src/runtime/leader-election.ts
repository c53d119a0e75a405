import {
  CoordinationV1Api,
  KubeConfig,
  type V1Lease,
  type V1LeaseSpec,
  V1MicroTime,
} from "@kubernetes/client-node";
import { apiErrorCode, isNotFound } from "./api-errors.js";
import { type Clock, realClock, sleep } from "./clock.js";
import { RestClient } from "./kube.js";
import { type Logger, nopLogger } from "./logger.js";
import type { Metrics } from "./metrics.js";

/** The slice of CoordinationV1Api the elector uses (so tests can pass an in-memory fake). */
export interface LeaseClient {
  readNamespacedLease(param: { name: string; namespace: string }): Promise<V1Lease>;
  createNamespacedLease(param: { namespace: string; body: V1Lease }): Promise<V1Lease>;
  replaceNamespacedLease(param: { name: string; namespace: string; body: V1Lease }): Promise<V1Lease>;
}

export interface LeaderElectorOptions {
  namespace: string;
  name: string;
  /** Unique per replica, e.g. the pod name (plus a random suffix). */
  identity: string;
  /** How long a standby waits after the last observed renewal before taking over. */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying a failing renewal before it gives up leadership. */
  renewDeadlineMs?: number;
  /** Interval between acquire attempts / renewals. */
  retryPeriodMs?: number;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
  /** User-Agent of the elector's own client, when it makes one from a KubeConfig. */
  userAgent?: string;
}

export type StoppedReason = "lost" | "released";

export interface LeaderCallbacks {
  /** Called once leadership is acquired; `signal` aborts when it ends. Errors are logged. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** 'lost': renewal failed for renewDeadline (stop work now). 'released': release() was called. */
  onStoppedLeading?(info: { reason: StoppedReason }): void;
  /** Called when a different holder is observed (for logging). */
  onNewLeader?(identity: string): void;
}

/** Snapshot of the lease fields that decide expiry; compared to detect renewals. */
interface ObservedRecord {
  holder: string;
  renewTime: string;
  durationSeconds: number;
  transitions: number;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, following client-go's leaderelection:
 * expiry is judged by when *this* replica last saw the record change (local clock, so clock
 * skew between nodes does not matter), updates are guarded by resourceVersion (409 = lost race),
 * renewals retry every retryPeriod until renewDeadline, and release() hands the lease over at
 * once (empty holder, 1 s duration) like ReleaseOnCancel.
 */
export class LeaderElector {
  readonly identity: string;
  readonly #api: LeaseClient;
  readonly #ns: string;
  readonly #name: string;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: Metrics | undefined;

  #observed: ObservedRecord | undefined;
  #observedAt = 0;
  /** Our own last successfully written lease: lets renewals skip the GET (client-go fast path). */
  #mine: V1Lease | undefined;
  #leading = false;
  #lastRenewAt = 0;
  #stop: AbortController | undefined;
  #running: Promise<void> | undefined;

  constructor(kcOrApi: KubeConfig | LeaseClient, opts: LeaderElectorOptions) {
    this.#leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (this.#leaseDurationMs <= this.#renewDeadlineMs)
      throw new Error("leaseDuration must be greater than renewDeadline");
    if (this.#renewDeadlineMs <= this.#retryPeriodMs * 1.2)
      throw new Error("renewDeadline must be greater than 1.2 * retryPeriod");
    if (!opts.identity) throw new Error("leader election identity must not be empty");
    this.identity = opts.identity;
    this.#ns = opts.namespace;
    this.#name = opts.name;
    this.#clock = opts.clock ?? realClock;
    this.#log = (opts.logger ?? nopLogger).child({
      lease: `${opts.namespace}/${opts.name}`,
      identity: opts.identity,
    });
    this.#metrics = opts.metrics;
    // Its own unthrottled client: renewals must not queue behind reconcile traffic.
    this.#api =
      kcOrApi instanceof KubeConfig
        ? new RestClient(kcOrApi, {
            qps: 0,
            timeoutMs: this.#renewDeadlineMs,
            metrics: opts.metrics,
            userAgent: opts.userAgent,
          }).api(CoordinationV1Api)
        : kcOrApi;
    this.#metrics?.setLeader(this.#name, false);
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** Clock time of the last successful acquire/renew (0 if never). */
  get lastRenewAt(): number {
    return this.#lastRenewAt;
  }

  /** Holder we last saw in the lease ('' if none or unknown). */
  get observedLeader(): string {
    return this.#observed?.holder ?? "";
  }

  /**
   * Campaigns until leadership is acquired, then renews until it is lost or released.
   * Resolves when leadership ended (after onStoppedLeading) or release() was called first.
   */
  run(callbacks: LeaderCallbacks): Promise<void> {
    if (this.#running) throw new Error("leader elector already running");
    const stop = new AbortController();
    this.#stop = stop;
    this.#running = this.#run(callbacks, stop.signal).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /**
   * Stops campaigning/renewing and, if leading, gives the lease up so a standby takes over
   * immediately. Resolves after run() finished.
   */
  async release(): Promise<void> {
    this.#stop?.abort();
    await this.#running;
  }

  async #run(cb: LeaderCallbacks, stopped: AbortSignal): Promise<void> {
    this.#log.info("attempting to acquire leader lease");
    while (!stopped.aborted) {
      if (await this.#tryAcquireOrRenew(cb)) break;
      await sleep(this.#clock, jittered(this.#retryPeriodMs, 1.2), stopped);
    }
    if (stopped.aborted) return;

    this.#setLeading(true);
    this.#log.info("acquired leader lease");
    const leadership = new AbortController();
    try {
      const started = cb.onStartedLeading(leadership.signal);
      if (started && typeof started.then === "function") {
        started.catch((err: unknown) => this.#log.error("onStartedLeading failed", { err }));
      }
    } catch (err) {
      this.#log.error("onStartedLeading failed", { err });
    }

    const reason = await this.#renewLoop(stopped);
    this.#setLeading(false);
    leadership.abort(new Error(`leadership ${reason}`));
    if (reason === "lost") {
      this.#log.error("leader lease lost: failed to renew within the renew deadline", {
        renewDeadlineMs: this.#renewDeadlineMs,
      });
    } else {
      await this.#releaseLease();
    }
    try {
      cb.onStoppedLeading?.({ reason });
    } catch (err) {
      this.#log.error("onStoppedLeading failed", { err });
    }
  }

  async #renewLoop(stopped: AbortSignal): Promise<StoppedReason> {
    for (;;) {
      await sleep(this.#clock, this.#retryPeriodMs, stopped);
      if (stopped.aborted) return "released";
      const deadline = this.#clock.now() + this.#renewDeadlineMs;
      let renewed = false;
      while (!renewed) {
        const remaining = deadline - this.#clock.now();
        if (remaining <= 0) return "lost";
        renewed = await withTimeout(this.#clock, this.#tryAcquireOrRenew(), remaining, false);
        if (renewed) break;
        if (deadline - this.#clock.now() <= 0) return "lost";
        await sleep(this.#clock, Math.min(this.#retryPeriodMs, deadline - this.#clock.now()), stopped);
        if (stopped.aborted) return "released";
      }
    }
  }

  /** One acquire/renew attempt; true if we hold the lease afterwards. Never throws. */
  async #tryAcquireOrRenew(cb?: LeaderCallbacks): Promise<boolean> {
    const now = this.#clock.now();
    const durationSeconds = Math.ceil(this.#leaseDurationMs / 1000);

    // Fast path: while leading, update our own last write directly; any failure falls back to a GET.
    if (this.#leading && this.#mine) {
      const spec = this.#mine.spec ?? {};
      const body = { ...this.#mine, spec: { ...spec, renewTime: new V1MicroTime(now) } };
      try {
        this.#recordWrite(
          await this.#api.replaceNamespacedLease({ name: this.#name, namespace: this.#ns, body }),
          now,
        );
        return true;
      } catch (err) {
        this.#log.debug("fast-path lease renewal failed; re-reading the lease", { err });
        this.#mine = undefined;
      }
    }

    let lease: V1Lease;
    try {
      lease = await this.#api.readNamespacedLease({ name: this.#name, namespace: this.#ns });
    } catch (err) {
      if (!isNotFound(err)) {
        this.#log.warn("failed to read leader lease", { err });
        return false;
      }
      const body: V1Lease = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: this.#name, namespace: this.#ns },
        spec: {
          holderIdentity: this.identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: new V1MicroTime(now),
          renewTime: new V1MicroTime(now),
          leaseTransitions: 0,
        },
      };
      try {
        this.#recordWrite(await this.#api.createNamespacedLease({ namespace: this.#ns, body }), now);
        return true;
      } catch (createErr) {
        this.#log.debug("failed to create leader lease", { err: createErr, code: apiErrorCode(createErr) });
        return false;
      }
    }

    const spec = lease.spec ?? {};
    const record = observedRecordOf(spec);
    if (!this.#observed || !sameRecord(this.#observed, record)) {
      if (record.holder !== this.#observed?.holder && record.holder && record.holder !== this.identity) {
        this.#log.info("observed new leader", { leader: record.holder });
        cb?.onNewLeader?.(record.holder);
      }
      this.#observed = record;
      this.#observedAt = now;
    }
    const heldByOther = record.holder !== "" && record.holder !== this.identity;
    if (heldByOther && this.#observedAt + record.durationSeconds * 1000 > now) return false;

    const alreadyMine = record.holder === this.identity;
    const newSpec: V1LeaseSpec = {
      ...spec,
      holderIdentity: this.identity,
      leaseDurationSeconds: durationSeconds,
      renewTime: new V1MicroTime(now),
      acquireTime: alreadyMine ? toMicroTime(spec.acquireTime, now) : new V1MicroTime(now),
      leaseTransitions: alreadyMine ? record.transitions : record.transitions + 1,
    };
    try {
      const updated = await this.#api.replaceNamespacedLease({
        name: this.#name,
        namespace: this.#ns,
        body: { ...lease, spec: newSpec },
      });
      this.#recordWrite(updated, now);
      if (!alreadyMine) this.#log.info("took over leader lease", { previous: record.holder || undefined });
      return true;
    } catch (err) {
      // 409: someone else updated the lease first.
      this.#log.debug("failed to update leader lease", { err, code: apiErrorCode(err) });
      return false;
    }
  }

  #recordWrite(lease: V1Lease, now: number): void {
    this.#mine = lease;
    this.#observed = observedRecordOf(lease.spec ?? {});
    this.#observedAt = now;
    this.#lastRenewAt = now;
  }

  /** Gives the lease up: empty holder and a 1 s duration, so standbys take it on their next try. */
  async #releaseLease(): Promise<void> {
    // First try our own last write; if that is stale (409), re-read once.
    let lease = this.#mine;
    this.#mine = undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const now = this.#clock.now();
      try {
        if (!lease) {
          lease = await this.#api.readNamespacedLease({ name: this.#name, namespace: this.#ns });
          if (lease.spec?.holderIdentity !== this.identity) return;
        }
        const spec = lease.spec ?? {};
        await this.#api.replaceNamespacedLease({
          name: this.#name,
          namespace: this.#ns,
          body: {
            ...lease,
            spec: {
              ...spec,
              holderIdentity: "",
              leaseDurationSeconds: 1,
              acquireTime: new V1MicroTime(now),
              renewTime: new V1MicroTime(now),
              leaseTransitions: spec.leaseTransitions ?? 0,
            },
          },
        });
        this.#log.info("released leader lease");
        return;
      } catch (err) {
        lease = undefined;
        if (attempt === 1 || apiErrorCode(err) !== 409) {
          this.#log.warn("failed to release leader lease; standbys take over after it expires", { err });
          return;
        }
      }
    }
  }

  #setLeading(leading: boolean): void {
    this.#leading = leading;
    this.#metrics?.setLeader(this.#name, leading);
  }
}

function observedRecordOf(spec: V1LeaseSpec): ObservedRecord {
  return {
    holder: spec.holderIdentity ?? "",
    renewTime: timeString(spec.renewTime),
    durationSeconds: spec.leaseDurationSeconds ?? 0,
    transitions: spec.leaseTransitions ?? 0,
  };
}

function sameRecord(a: ObservedRecord, b: ObservedRecord): boolean {
  return (
    a.holder === b.holder &&
    a.renewTime === b.renewTime &&
    a.durationSeconds === b.durationSeconds &&
    a.transitions === b.transitions
  );
}

/** Lease times come back as strings despite their Date type; normalise for comparison. */
function timeString(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  return typeof v === "string" ? v : "";
}

/** MicroTime must be sent as V1MicroTime (6 fractional digits) or the API rejects it (#828). */
export function toMicroTime(v: unknown, fallback: number): V1MicroTime {
  if (v instanceof Date && !Number.isNaN(v.getTime())) return new V1MicroTime(v.getTime());
  if (typeof v === "string") {
    const ms = Date.parse(v);
    if (!Number.isNaN(ms)) return new V1MicroTime(ms);
  }
  return new V1MicroTime(fallback);
}

/** base * [1, 1 + factor), like wait.Jitter. */
function jittered(base: number, factor: number): number {
  return base * (1 + Math.random() * factor);
}

/** Resolves to `onTimeout` if `p` takes longer than `ms` (the call itself keeps running). */
function withTimeout<T>(clock: Clock, p: Promise<T>, ms: number, onTimeout: T): Promise<T> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(() => resolve(onTimeout), ms);
    p.then(
      (v) => {
        clock.clearTimeout(timer);
        resolve(v);
      },
      () => {
        clock.clearTimeout(timer);
        resolve(onTimeout);
      },
    );
  });
}
