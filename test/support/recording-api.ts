// A recording API server in memory, for unit tests of code that writes through golden's typed
// client (and a Job client): it keeps objects, checks resourceVersion preconditions (409) and
// existence (404) as the apiserver does, and records every write, so a test asserts the writes
// the code sent — as sample-controller's tests check a fake clientset's recorded actions.
import { ApiException, type BatchV1Api, type CustomObjectsApi, type V1Job } from "@kubernetes/client-node";
import { GoldenClient } from "../../src/api/client.js";

export type Verb = "create" | "replace" | "patch" | "patchStatus" | "replaceStatus" | "delete";

export interface Write {
  verb: Verb;
  /** Plural resource: images, imagebuilds or jobs. */
  resource: string;
  namespace: string;
  name: string;
  /** What was sent: the object, the merge patch, or the delete options. */
  body?: unknown;
}

interface Obj {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string };
  status?: unknown;
}

export function apiError(code: number, reason: string, message: string): ApiException<string> {
  return new ApiException(code, message, JSON.stringify({ kind: "Status", code, reason, message }), {});
}

/** RFC 7386: objects merge, null deletes, anything else (arrays too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export class RecordingApi {
  readonly writes: Write[] = [];
  readonly #objects = new Map<string, Obj>();
  #resourceVersion = 100;
  /** Errors to throw instead of the next writes of a verb, in order. */
  readonly #failures: { verb: Verb; error: unknown }[] = [];

  /** The typed client over this server. */
  readonly golden = new GoldenClient(this.#customObjects() as unknown as CustomObjectsApi);
  /** A batch/v1 client over this server (Jobs). */
  readonly batch = this.#batch() as unknown as BatchV1Api;

  /** Stores objects as they are (their resourceVersion is kept; one is given when missing). */
  seed(resource: string, ...objs: Obj[]): void {
    for (const obj of objs) {
      const meta = obj.metadata ?? {};
      meta.resourceVersion ??= String(++this.#resourceVersion);
      this.#objects.set(this.#key(resource, meta.namespace ?? "", meta.name ?? ""), structuredClone(obj));
    }
  }

  get<T>(resource: string, namespace: string, name: string): T | undefined {
    return this.#objects.get(this.#key(resource, namespace, name)) as T | undefined;
  }

  /** Removes an object without recording a write: someone else deleted it. */
  remove(resource: string, namespace: string, name: string): void {
    this.#objects.delete(this.#key(resource, namespace, name));
  }

  /** The next write of `verb` fails with `error` (an ApiException from apiError, say). */
  failNext(verb: Verb, error: unknown): void {
    this.#failures.push({ verb, error });
  }

  /** The writes of one verb (all when omitted), in order. */
  sent(verb?: Verb): Write[] {
    return verb ? this.writes.filter((w) => w.verb === verb) : [...this.writes];
  }

  static error = apiError;

  #key(resource: string, namespace: string, name: string): string {
    return `${resource}/${namespace}/${name}`;
  }

  #write(w: Write, apply: () => Obj | undefined): Obj | undefined {
    this.writes.push(structuredClone(w));
    const i = this.#failures.findIndex((f) => f.verb === w.verb);
    if (i >= 0) {
      const [failure] = this.#failures.splice(i, 1);
      throw failure?.error;
    }
    return apply();
  }

  #update(resource: string, namespace: string, name: string, change: (current: Obj) => Obj): Obj {
    const key = this.#key(resource, namespace, name);
    const current = this.#objects.get(key);
    if (!current) throw apiError(404, "NotFound", `${resource} "${name}" not found`);
    const next = change(current);
    const wanted = next.metadata?.resourceVersion;
    if (wanted !== undefined && wanted !== current.metadata?.resourceVersion)
      throw apiError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified`,
      );
    next.metadata = { ...next.metadata, resourceVersion: String(++this.#resourceVersion) };
    this.#objects.set(key, next);
    return structuredClone(next);
  }

  #customObjects() {
    type P = { plural: string; namespace: string; name: string; body?: unknown };
    return {
      getNamespacedCustomObject: async ({ plural, namespace, name }: P) => {
        const obj = this.#objects.get(this.#key(plural, namespace, name));
        if (!obj) throw apiError(404, "NotFound", `${plural} "${name}" not found`);
        return structuredClone(obj);
      },
      createNamespacedCustomObject: async ({ plural, namespace, body }: Omit<P, "name">) => {
        const obj = body as Obj;
        const name = obj.metadata?.name ?? "";
        return this.#write({ verb: "create", resource: plural, namespace, name, body }, () => {
          const key = this.#key(plural, namespace, name);
          if (this.#objects.has(key))
            throw apiError(409, "AlreadyExists", `${plural} "${name}" already exists`);
          const stored = structuredClone(obj);
          const resourceVersion = String(++this.#resourceVersion);
          stored.metadata = { uid: `uid-${resourceVersion}`, ...stored.metadata, resourceVersion };
          this.#objects.set(key, stored);
          return structuredClone(stored);
        });
      },
      replaceNamespacedCustomObjectStatus: async ({ plural, namespace, name, body }: P) =>
        this.#write({ verb: "replaceStatus", resource: plural, namespace, name, body }, () =>
          this.#update(plural, namespace, name, (current) => ({
            ...current,
            metadata: { ...current.metadata, resourceVersion: (body as Obj).metadata?.resourceVersion },
            status: (body as Obj).status,
          })),
        ),
      patchNamespacedCustomObjectStatus: async ({ plural, namespace, name, body }: P) =>
        this.#write({ verb: "patchStatus", resource: plural, namespace, name, body }, () =>
          this.#update(plural, namespace, name, (current) => {
            const patch = body as Obj;
            return {
              ...current,
              metadata: { ...current.metadata, resourceVersion: patch.metadata?.resourceVersion },
              status: mergePatch(current.status, patch.status),
            };
          }),
        ),
      patchNamespacedCustomObject: async ({ plural, namespace, name, body }: P) =>
        this.#write({ verb: "patch", resource: plural, namespace, name, body }, () =>
          this.#update(plural, namespace, name, (current) => {
            const { status: _ignored, ...patch } = body as Obj;
            return { ...(mergePatch(current, patch) as Obj), status: current.status };
          }),
        ),
      deleteNamespacedCustomObject: async ({ plural, namespace, name, body }: P) =>
        this.#write({ verb: "delete", resource: plural, namespace, name, body }, () => {
          const key = this.#key(plural, namespace, name);
          if (!this.#objects.delete(key)) throw apiError(404, "NotFound", `${plural} "${name}" not found`);
          return undefined;
        }),
    };
  }

  #batch() {
    return {
      createNamespacedJob: async ({ namespace, body }: { namespace: string; body: V1Job }) =>
        this.#write(
          { verb: "create", resource: "jobs", namespace, name: body.metadata?.name ?? "", body },
          () => {
            const key = this.#key("jobs", namespace, body.metadata?.name ?? "");
            if (this.#objects.has(key)) throw apiError(409, "AlreadyExists", "job already exists");
            this.#objects.set(key, structuredClone(body) as Obj);
            return structuredClone(body) as Obj;
          },
        ),
      deleteNamespacedJob: async (p: { namespace: string; name: string; propagationPolicy?: string }) =>
        this.#write(
          {
            verb: "delete",
            resource: "jobs",
            namespace: p.namespace,
            name: p.name,
            body: { propagationPolicy: p.propagationPolicy },
          },
          () => {
            if (!this.#objects.delete(this.#key("jobs", p.namespace, p.name)))
              throw apiError(404, "NotFound", `jobs "${p.name}" not found`);
            return undefined;
          },
        ),
      readNamespacedJob: async ({ namespace, name }: { namespace: string; name: string }) => {
        const obj = this.#objects.get(this.#key("jobs", namespace, name));
        if (!obj) throw apiError(404, "NotFound", `jobs "${name}" not found`);
        return structuredClone(obj);
      },
    };
  }
}
