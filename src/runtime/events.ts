import type { ConfigurationOptions, EventsV1Event, V1ObjectReference } from "@kubernetes/client-node";
import { V1MicroTime } from "@kubernetes/client-node";
import { apiErrorCode, isNotFound } from "./api-errors.js";
import { type Clock, realClock, type TimerHandle } from "./clock.js";
import { mergePatchOptions } from "./kube.js";
import { type Logger, nopLogger } from "./logger.js";
import { TokenBucket } from "./ratelimit.js";

/** The slice of EventsV1Api the recorder uses (tests pass an in-memory fake). */
export interface EventsClient {
  createNamespacedEvent(param: { namespace: string; body: EventsV1Event }): Promise<EventsV1Event>;
  patchNamespacedEvent(
    param: { name: string; namespace: string; body: unknown },
    options?: ConfigurationOptions,
  ): Promise<EventsV1Event>;
}

export interface ObjectRef {
  apiVersion?: string;
  kind?: string;
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface EventSpec {
  type: "Normal" | "Warning";
  /** CamelCase machine-readable cause, e.g. 'BuildFailed'. */
  reason: string;
  /** What was done/failed, e.g. 'CreateJob'. */
  action: string;
  /** Human-readable text (truncated to 1 kB, the API's limit). */
  note?: string;
  related?: ObjectRef;
}

export interface EventRecorderOptions {
  /** The controller reporting, e.g. "example.com/my-operator" (events.k8s.io reportingController). */
  reportingController: string;
  /** Unique per replica, e.g. the pod name. */
  reportingInstance: string;
  clock?: Clock;
  logger?: Logger;
  /** An identical event within this long of the last one extends its series (default 10 min). */
  windowMs?: number;
  /** After the first repeat, series count patches are coalesced to one per this period (default 30 s). */
  seriesFlushMs?: number;
  /** Per-object spam filter for new events: burst, then one per refillMs (client-go: 25, 5 min). */
  spamBurst?: number;
  spamRefillMs?: number;
  /** Bound on remembered events/objects (oldest forgotten first). */
  maxEntries?: number;
}

interface SeriesEntry {
  namespace: string;
  /** Set once the event exists in the API. */
  name?: string;
  count: number;
  writtenCount: number;
  lastObservedAt: number;
  /** Serialises API writes for this event. */
  chain: Promise<void>;
  flushTimer?: TimerHandle;
  flushQueued: boolean;
  seriesWritten: boolean;
  template: EventsV1Event;
}

const NOTE_MAX = 1024;
const FIELD_MAX = 128;

/**
 * events.k8s.io/v1 recorder in the spirit of client-go's tools/events: fire-and-forget (never
 * throws), repeats of the same event (object, type, reason, action, note) become one Event whose
 * `series.count` is patched instead of new objects, and a per-object token bucket drops floods
 * of distinct events so a hot loop cannot spam the API.
 */
export class EventRecorder {
  readonly #api: EventsClient;
  readonly #controller: string;
  readonly #instance: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #windowMs: number;
  readonly #flushMs: number;
  readonly #spamBurst: number;
  readonly #spamRefillMs: number;
  readonly #maxEntries: number;
  readonly #series = new Map<string, SeriesEntry>();
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #inFlight = new Set<Promise<void>>();
  #seq = 0;
  #closed = false;

  constructor(api: EventsClient, opts: EventRecorderOptions) {
    this.#api = api;
    this.#controller = opts.reportingController.slice(0, FIELD_MAX);
    this.#instance = opts.reportingInstance.slice(0, FIELD_MAX);
    this.#clock = opts.clock ?? realClock;
    this.#log = (opts.logger ?? nopLogger).child({ component: "events" });
    this.#windowMs = opts.windowMs ?? 10 * 60_000;
    this.#flushMs = opts.seriesFlushMs ?? 30_000;
    this.#spamBurst = opts.spamBurst ?? 25;
    this.#spamRefillMs = opts.spamRefillMs ?? 5 * 60_000;
    this.#maxEntries = opts.maxEntries ?? 4096;
  }

  /** Records an event about `regarding`. Never throws; API errors are logged. */
  record(regarding: ObjectRef, spec: EventSpec): void {
    try {
      this.#record(regarding, spec);
    } catch (err) {
      this.#log.error("failed to record event", { err, reason: spec.reason });
    }
  }

  /** Resolves when all writes started so far (and due series patches) are done. */
  async flush(): Promise<void> {
    for (const entry of this.#series.values()) {
      if (entry.flushTimer) {
        this.#clock.clearTimeout(entry.flushTimer);
        entry.flushTimer = undefined;
        this.#queueSeriesPatch(entry);
      }
    }
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Flushes pending series counts and ignores later records (call on shutdown). */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  #record(regarding: ObjectRef, spec: EventSpec): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    const note = (spec.note ?? "").slice(0, NOTE_MAX);
    const objectId =
      regarding.uid || `${regarding.namespace ?? ""}/${regarding.kind ?? ""}/${regarding.name}`;
    const key = JSON.stringify([
      objectId,
      spec.type,
      spec.reason,
      spec.action,
      note,
      spec.related?.uid ?? spec.related?.name ?? "",
    ]);

    const existing = this.#series.get(key);
    if (existing && now - existing.lastObservedAt <= this.#windowMs) {
      existing.count++;
      existing.lastObservedAt = now;
      this.#touch(key, existing);
      this.#scheduleSeries(existing);
      return;
    }
    if (existing) this.#forget(key, existing);

    if (!this.#bucketFor(objectId).tryTake()) {
      this.#log.debug("dropping event: too many events for this object", {
        object: objectId,
        reason: spec.reason,
      });
      return;
    }

    const namespace = regarding.namespace || "default";
    const entry: SeriesEntry = {
      namespace,
      count: 1,
      writtenCount: 0,
      lastObservedAt: now,
      chain: Promise.resolve(),
      flushQueued: false,
      seriesWritten: false,
      template: {
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        metadata: { namespace },
        eventTime: new V1MicroTime(now),
        reportingController: this.#controller,
        reportingInstance: this.#instance,
        type: spec.type,
        reason: spec.reason.slice(0, FIELD_MAX),
        action: spec.action.slice(0, FIELD_MAX),
        note,
        regarding: toReference(regarding),
        related: spec.related ? toReference(spec.related) : undefined,
      },
    };
    this.#series.set(key, entry);
    this.#evictOverflow();
    this.#enqueue(entry, () => this.#create(entry, regarding.name));
  }

  async #create(entry: SeriesEntry, objectName: string): Promise<void> {
    const body: EventsV1Event = {
      ...entry.template,
      metadata: { namespace: entry.namespace, name: this.#eventName(objectName) },
    };
    // A repeat of an event that vanished (TTL) starts a new Event that carries the series so far.
    if (entry.count > 1) {
      body.series = { count: entry.count, lastObservedTime: new V1MicroTime(entry.lastObservedAt) };
    }
    const count = entry.count;
    try {
      const created = await this.#api.createNamespacedEvent({ namespace: entry.namespace, body });
      entry.name = created.metadata?.name ?? body.metadata?.name;
      entry.writtenCount = count;
      if (count > 1) entry.seriesWritten = true;
    } catch (err) {
      this.#log.warn("failed to create event", { err, code: apiErrorCode(err), reason: body.reason });
    }
  }

  #scheduleSeries(entry: SeriesEntry): void {
    if (entry.flushTimer || entry.flushQueued) return;
    // The first repeat is written at once (like client-go); later ones are coalesced.
    if (!entry.seriesWritten) {
      this.#queueSeriesPatch(entry);
      return;
    }
    entry.flushTimer = this.#clock.setTimeout(() => {
      entry.flushTimer = undefined;
      this.#queueSeriesPatch(entry);
    }, this.#flushMs);
  }

  #queueSeriesPatch(entry: SeriesEntry): void {
    entry.flushQueued = true;
    this.#enqueue(entry, () => this.#patchSeries(entry));
  }

  async #patchSeries(entry: SeriesEntry): Promise<void> {
    entry.flushQueued = false;
    if (entry.count === entry.writtenCount) return;
    if (!entry.name) {
      // The create failed; try again as a new Event with the series so far.
      await this.#create(entry, entry.template.regarding?.name ?? "object");
      return;
    }
    const count = entry.count;
    const series = { count, lastObservedTime: new V1MicroTime(entry.lastObservedAt) };
    try {
      await this.#api.patchNamespacedEvent(
        { name: entry.name, namespace: entry.namespace, body: { series } },
        mergePatchOptions(),
      );
      entry.writtenCount = count;
      entry.seriesWritten = true;
    } catch (err) {
      if (isNotFound(err)) {
        entry.name = undefined;
        await this.#create(entry, entry.template.regarding?.name ?? "object");
        return;
      }
      this.#log.warn("failed to update event series", { err, code: apiErrorCode(err), event: entry.name });
    }
  }

  #enqueue(entry: SeriesEntry, write: () => Promise<void>): void {
    const p = entry.chain.then(write).catch((err: unknown) => {
      this.#log.error("event write failed", { err });
    });
    entry.chain = p;
    this.#inFlight.add(p);
    p.finally(() => this.#inFlight.delete(p));
  }

  #bucketFor(objectId: string): TokenBucket {
    let bucket = this.#buckets.get(objectId);
    if (!bucket) {
      bucket = new TokenBucket(1000 / this.#spamRefillMs, this.#spamBurst, this.#clock);
      this.#buckets.set(objectId, bucket);
      if (this.#buckets.size > this.#maxEntries) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
    } else {
      // Re-insert to keep Map order ≈ least recently used first.
      this.#buckets.delete(objectId);
      this.#buckets.set(objectId, bucket);
    }
    return bucket;
  }

  #touch(key: string, entry: SeriesEntry): void {
    this.#series.delete(key);
    this.#series.set(key, entry);
  }

  #forget(key: string, entry: SeriesEntry): void {
    if (entry.flushTimer) this.#clock.clearTimeout(entry.flushTimer);
    this.#series.delete(key);
  }

  #evictOverflow(): void {
    while (this.#series.size > this.#maxEntries) {
      const first = this.#series.entries().next().value;
      if (!first) return;
      const [key, entry] = first;
      // Write its final count before forgetting it.
      if (entry.flushTimer) {
        this.#clock.clearTimeout(entry.flushTimer);
        entry.flushTimer = undefined;
        this.#queueSeriesPatch(entry);
      }
      this.#series.delete(key);
    }
  }

  /** client-go style '<object>.<hex unix nanos>'; a sequence number keeps same-ms names unique. */
  #eventName(objectName: string): string {
    const nanos = BigInt(this.#clock.now()) * 1_000_000n + BigInt(this.#seq++ % 1_000_000);
    return `${objectName.slice(0, 253 - 17)}.${nanos.toString(16)}`;
  }
}

function toReference(ref: ObjectRef): V1ObjectReference {
  return {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    name: ref.name,
    namespace: ref.namespace,
    uid: ref.uid,
    resourceVersion: ref.resourceVersion,
  };
}
