// One collection watched in a set of namespaces, as one informer: an Informer per namespace (a
// list and watch each, as controller-runtime's multi-namespace cache does), with their caches read
// together and their events merged. For operators that watch several namespaces but not all.
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import {
  type AddHandler,
  type DeleteHandler,
  Informer,
  type InformerOptions,
  type UpdateHandler,
} from "./informer.js";

/** What golden's controllers use of an informer, whether it watches one namespace or several. */
export interface SharedInformer<T extends KubernetesObject> {
  readonly name: string;
  on(event: "add", fn: AddHandler<T>): () => void;
  on(event: "update", fn: UpdateHandler<T>): () => void;
  on(event: "delete", fn: DeleteHandler<T>): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
  hasSynced(): boolean;
  relist(): Promise<void>;
  waitForSync(signal?: AbortSignal): Promise<void>;
  get(key: string): T | undefined;
  list(): T[];
  keys(): string[];
  byIndex(indexName: string, value: string): T[];
  /** The oldest of the namespaces' last seen resourceVersions: every cache is at least this new. */
  readonly resourceVersion: string;
}

export class MultiNamespaceInformer<T extends KubernetesObject> implements SharedInformer<T> {
  readonly name: string;
  readonly #byNamespace: Map<string, Informer<T>>;

  /** `path(namespace)` gives the collection's path in a namespace. */
  constructor(
    kc: KubeConfig,
    namespaces: readonly string[],
    path: (namespace: string) => string,
    opts: Omit<InformerOptions<T>, "path">,
  ) {
    if (namespaces.length === 0) throw new Error("MultiNamespaceInformer: no namespaces");
    this.name = opts.name ?? path("*");
    this.#byNamespace = new Map(
      namespaces.map((ns) => [
        ns,
        new Informer<T>(kc, { ...opts, name: `${this.name}/${ns}`, path: path(ns) }),
      ]),
    );
  }

  on(event: "add", fn: AddHandler<T>): () => void;
  on(event: "update", fn: UpdateHandler<T>): () => void;
  on(event: "delete", fn: DeleteHandler<T>): () => void;
  on(event: "add" | "update" | "delete", fn: AddHandler<T> | UpdateHandler<T>): () => void {
    const offs = this.#all().map((i) =>
      event === "update"
        ? i.on("update", fn as UpdateHandler<T>)
        : event === "add"
          ? i.on("add", fn as AddHandler<T>)
          : i.on("delete", fn as DeleteHandler<T>),
    );
    return () => {
      for (const off of offs) off();
    };
  }

  async start(): Promise<void> {
    await Promise.all(this.#all().map((i) => i.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.#all().map((i) => i.stop()));
  }

  hasSynced(): boolean {
    return this.#all().every((i) => i.hasSynced());
  }

  async relist(): Promise<void> {
    await Promise.all(this.#all().map((i) => i.relist()));
  }

  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all(this.#all().map((i) => i.waitForSync(signal)));
  }

  get(key: string): T | undefined {
    const namespace = key.includes("/") ? key.slice(0, key.indexOf("/")) : "";
    return this.#byNamespace.get(namespace)?.get(key);
  }

  list(): T[] {
    return this.#all().flatMap((i) => i.list());
  }

  keys(): string[] {
    return this.#all().flatMap((i) => i.keys());
  }

  byIndex(indexName: string, value: string): T[] {
    return this.#all().flatMap((i) => i.byIndex(indexName, value));
  }

  get resourceVersion(): string {
    const versions = this.#all().map((i) => i.resourceVersion);
    // resourceVersions are opaque, but those of one apiserver are etcd revisions: compare them as
    // numbers when they are, and say nothing otherwise.
    if (versions.some((v) => !/^\d+$/.test(v))) return "";
    return versions.reduce((a, b) => (BigInt(a) <= BigInt(b) ? a : b));
  }

  #all(): Informer<T>[] {
    return [...this.#byNamespace.values()];
  }
}
