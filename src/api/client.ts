// A small typed client for golden's custom resources, shared by the operator, the worker and tests.
//
// It wraps a CustomObjectsApi, which the caller builds from a KubeConfig, with its own middleware
// (throttling, timeouts) if it likes. Objects travel as plain JSON: timestamps (for example
// metadata.creationTimestamp) are ISO strings at runtime, whatever V1ObjectMeta's Date type says.

import type { V1DeleteOptions, V1ObjectMeta } from "@kubernetes/client-node";
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { isConflict, isNotFound, unlessNotFound } from "../runtime/api-errors.js";
import { applyPatchOptions, mergePatchOptions } from "../runtime/kube.js";
import {
  BASE_IMAGE_RESOURCE,
  type BaseImage,
  IMAGE_BUILD_RESOURCE,
  IMAGE_RESOURCE,
  IMAGE_VERSION_RESOURCE,
  type Image,
  type ImageBuild,
  type ImageVersion,
  REBUILD_CAMPAIGN_RESOURCE,
  type RebuildCampaign,
  type ResourceInfo,
} from "./v1alpha1/index.js";

/** An object of a golden kind: apiVersion, kind, metadata, spec and status. */
export interface GoldenResource {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
}

/** The type of T's status field. */
export type StatusOf<T> = T extends { status?: infer S } ? S : never;

/**
 * A JSON merge patch (RFC 7386) of T: every field optional, `null` deletes a field, and arrays
 * replace the whole list.
 */
export type MergePatch<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: MergePatch<T[K]> | null }
    : T;

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size. When set, pass the returned `continue` back to fetch the next page. */
  limit?: number;
  continue?: string;
}

export interface ListResult<T> {
  items: T[];
  /** resourceVersion of the list: start a watch from here to see every later change. */
  resourceVersion: string;
  /** Token for the next page, when `limit` cut the list short. */
  continue?: string;
}

export interface DeleteOptions {
  /** Foreground waits for owned objects (ImageBuilds of an Image) to go first. */
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
  /** Delete only if the object still has this uid (it was not deleted and re-created meanwhile). */
  preconditionsUid?: string;
  /** Delete only if the object still has this resourceVersion. */
  preconditionsResourceVersion?: string;
  gracePeriodSeconds?: number;
}

export interface WriteOptions {
  /** Field manager recorded in managedFields. */
  fieldManager?: string;
  /** Validate and default, but do not persist ("All"). */
  dryRun?: "All";
}

/** Typed access to one namespaced golden resource (Image, ImageBuild or ImageVersion). */
export class ResourceClient<T extends GoldenResource> {
  readonly resource: ResourceInfo;
  readonly #api: CustomObjectsApi;

  constructor(api: CustomObjectsApi, resource: ResourceInfo) {
    this.#api = api;
    this.resource = resource;
  }

  get #coords() {
    return { group: this.resource.group, version: this.resource.version, plural: this.resource.plural };
  }

  /**
   * REST path of the collection, for watches and informers: /apis/<group>/<version>/<plural> for
   * every namespace, or /apis/<group>/<version>/namespaces/<ns>/<plural> for one.
   */
  path(namespace?: string): string {
    const { group, version, plural } = this.resource;
    return namespace
      ? `/apis/${group}/${version}/namespaces/${encodeURIComponent(namespace)}/${plural}`
      : `/apis/${group}/${version}/${plural}`;
  }

  /** The object, or undefined when it does not exist. */
  async get(namespace: string, name: string): Promise<T | undefined> {
    const found = await unlessNotFound(
      this.#api.getNamespacedCustomObject({ ...this.#coords, namespace, name }),
    );
    return found === undefined ? undefined : this.#typed(found);
  }

  /** Objects in `namespace`, or in every namespace when it is omitted. */
  async list(namespace?: string, opts: ListOptions = {}): Promise<ListResult<T>> {
    const query = {
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      limit: opts.limit,
      _continue: opts.continue,
    };
    const { group, version, plural } = this.resource;
    const list = (
      namespace
        ? await this.#api.listNamespacedCustomObject({ group, version, plural, namespace, ...query })
        : await this.#api.listCustomObjectForAllNamespaces({
            group,
            version,
            resourcePlural: plural,
            ...query,
          })
    ) as { items?: T[]; metadata?: { resourceVersion?: string; continue?: string } };
    const result: ListResult<T> = {
      items: (list.items ?? []).map((item) => this.#typed(item)),
      resourceVersion: list.metadata?.resourceVersion ?? "",
    };
    if (list.metadata?.continue) result.continue = list.metadata.continue;
    return result;
  }

  /** Creates `obj` in metadata.namespace. apiVersion and kind are filled in when missing. */
  async create(obj: T, opts: WriteOptions = {}): Promise<T> {
    const namespace = requireNamespace(obj);
    const body = { ...obj, apiVersion: this.resource.apiVersion, kind: this.resource.kind };
    return this.#typed(
      await this.#api.createNamespacedCustomObject({ ...this.#coords, namespace, body, ...opts }),
    );
  }

  /**
   * Replaces the whole object (PUT). metadata.resourceVersion makes it conditional: a stale one
   * fails with 409 Conflict (see isConflict). Status changes are ignored; use replaceStatus.
   */
  async replace(obj: T, opts: WriteOptions = {}): Promise<T> {
    const namespace = requireNamespace(obj);
    const name = requireName(obj);
    const body = { ...obj, apiVersion: this.resource.apiVersion, kind: this.resource.kind };
    return this.#typed(
      await this.#api.replaceNamespacedCustomObject({ ...this.#coords, namespace, name, body, ...opts }),
    );
  }

  /** Deletes the object. Returns false when it did not exist. */
  async delete(namespace: string, name: string, opts: DeleteOptions = {}): Promise<boolean> {
    const body: V1DeleteOptions = {};
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.preconditionsUid || opts.preconditionsResourceVersion) {
      body.preconditions = {};
      if (opts.preconditionsUid) body.preconditions.uid = opts.preconditionsUid;
      if (opts.preconditionsResourceVersion)
        body.preconditions.resourceVersion = opts.preconditionsResourceVersion;
    }
    try {
      await this.#api.deleteNamespacedCustomObject({ ...this.#coords, namespace, name, body });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * JSON merge patch of the object (spec, metadata). Put metadata.resourceVersion in the patch to
   * make it conditional.
   */
  async patch(namespace: string, name: string, patch: MergePatch<T>, opts: WriteOptions = {}): Promise<T> {
    return this.#mergePatch("object", namespace, name, patch, opts);
  }

  /** JSON merge patch of the status subresource, for example `{status: {phase: "Building"}}`. */
  async patchStatus(
    namespace: string,
    name: string,
    patch: MergePatch<T>,
    opts: WriteOptions = {},
  ): Promise<T> {
    return this.#mergePatch("status", namespace, name, patch, opts);
  }

  async #mergePatch(
    target: "object" | "status",
    namespace: string,
    name: string,
    body: MergePatch<T>,
    opts: WriteOptions,
  ): Promise<T> {
    const params = { ...this.#coords, namespace, name, body, ...opts };
    return this.#typed(
      target === "status"
        ? await this.#api.patchNamespacedCustomObjectStatus(params, mergePatchOptions())
        : await this.#api.patchNamespacedCustomObject(params, mergePatchOptions()),
    );
  }

  /**
   * The guarded status write: merge-patches `status` into `obj` only if the object is still the
   * version that was read (its metadata.resourceVersion). Returns the object written, or undefined
   * when someone else moved on first: it is gone (404) or has changed (409), and the event that
   * brings the newer version decides again. Other errors throw.
   */
  async patchStatusIfCurrent(
    obj: T,
    status: MergePatch<StatusOf<T>>,
    opts: WriteOptions = {},
  ): Promise<T | undefined> {
    const patch = {
      metadata: { resourceVersion: obj.metadata?.resourceVersion },
      status,
    } as unknown as MergePatch<T>;
    try {
      return await this.patchStatus(requireNamespace(obj), requireName(obj), patch, opts);
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return undefined;
      throw err;
    }
  }

  /**
   * Replaces the status subresource (PUT /status). The object's metadata.resourceVersion makes it
   * an optimistic-concurrency write: a stale one fails with 409 Conflict.
   */
  async replaceStatus(obj: T, opts: WriteOptions = {}): Promise<T> {
    const namespace = requireNamespace(obj);
    const name = requireName(obj);
    const body = { ...obj, apiVersion: this.resource.apiVersion, kind: this.resource.kind };
    return this.#typed(
      await this.#api.replaceNamespacedCustomObjectStatus({
        ...this.#coords,
        namespace,
        name,
        body,
        ...opts,
      }),
    );
  }

  /**
   * Server-side apply of the status subresource, forcing ownership of the fields sent. Only
   * metadata.name/namespace and status of `obj` are sent: the fields `fieldManager` owns are the
   * status fields present in `obj`, and status fields it owned but left out are removed.
   */
  async applyStatus(
    obj: { metadata?: V1ObjectMeta; status?: StatusOf<T> },
    fieldManager: string,
  ): Promise<T> {
    const namespace = requireNamespace(obj);
    const name = requireName(obj);
    const body = {
      apiVersion: this.resource.apiVersion,
      kind: this.resource.kind,
      metadata: { name, namespace },
      status: obj.status ?? {},
    };
    return this.#typed(
      await this.#api.patchNamespacedCustomObjectStatus(
        { ...this.#coords, namespace, name, body, fieldManager, force: true },
        applyPatchOptions(),
      ),
    );
  }

  /**
   * Server-side apply of the object (metadata, spec), forcing ownership of the fields sent. The
   * status in `obj`, if any, is ignored by the server.
   */
  async apply(obj: T, fieldManager: string): Promise<T> {
    const namespace = requireNamespace(obj);
    const name = requireName(obj);
    const body = { ...obj, apiVersion: this.resource.apiVersion, kind: this.resource.kind };
    return this.#typed(
      await this.#api.patchNamespacedCustomObject(
        { ...this.#coords, namespace, name, body, fieldManager, force: true },
        applyPatchOptions(),
      ),
    );
  }

  /** Fills in apiVersion and kind, which list items and some responses may omit. */
  #typed(obj: unknown): T {
    const o = obj as T;
    if (o && typeof o === "object") {
      o.apiVersion ??= this.resource.apiVersion;
      o.kind ??= this.resource.kind;
    }
    return o;
  }
}

function requireNamespace(obj: GoldenResource): string {
  const ns = obj.metadata?.namespace;
  if (!ns)
    throw new Error(`${obj.kind ?? "object"} ${obj.metadata?.name ?? ""}: metadata.namespace is required`);
  return ns;
}

function requireName(obj: GoldenResource): string {
  const name = obj.metadata?.name;
  if (!name) throw new Error(`${obj.kind ?? "object"}: metadata.name is required`);
  return name;
}

/** Typed access to one cluster-scoped golden resource (BaseImage or RebuildCampaign). */
export class ClusterResourceClient<T extends GoldenResource> {
  readonly resource: ResourceInfo;
  readonly #api: CustomObjectsApi;

  constructor(api: CustomObjectsApi, resource: ResourceInfo) {
    this.#api = api;
    this.resource = resource;
  }

  get #coords() {
    return { group: this.resource.group, version: this.resource.version, plural: this.resource.plural };
  }

  /** REST path of the collection, for watches and informers. */
  path(): string {
    const { group, version, plural } = this.resource;
    return `/apis/${group}/${version}/${plural}`;
  }

  async get(name: string): Promise<T | undefined> {
    const found = await unlessNotFound(this.#api.getClusterCustomObject({ ...this.#coords, name }));
    return found === undefined ? undefined : this.#typed(found);
  }

  async list(opts: ListOptions = {}): Promise<ListResult<T>> {
    const list = (await this.#api.listClusterCustomObject({
      ...this.#coords,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      limit: opts.limit,
      _continue: opts.continue,
    })) as { items?: T[]; metadata?: { resourceVersion?: string; continue?: string } };
    const result: ListResult<T> = {
      items: (list.items ?? []).map((item) => this.#typed(item)),
      resourceVersion: list.metadata?.resourceVersion ?? "",
    };
    if (list.metadata?.continue) result.continue = list.metadata.continue;
    return result;
  }

  async create(obj: T, opts: WriteOptions = {}): Promise<T> {
    const body = { ...obj, apiVersion: this.resource.apiVersion, kind: this.resource.kind };
    return this.#typed(await this.#api.createClusterCustomObject({ ...this.#coords, body, ...opts }));
  }

  /** Deletes the object; false when it did not exist. */
  async delete(name: string, opts: DeleteOptions = {}): Promise<boolean> {
    const body: V1DeleteOptions = {};
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.preconditionsUid) body.preconditions = { uid: opts.preconditionsUid };
    try {
      await this.#api.deleteClusterCustomObject({ ...this.#coords, name, body });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** JSON merge patch of the object (spec, metadata). */
  async patch(name: string, patch: MergePatch<T>, opts: WriteOptions = {}): Promise<T> {
    return this.#typed(
      await this.#api.patchClusterCustomObject(
        { ...this.#coords, name, body: patch, ...opts },
        mergePatchOptions(),
      ),
    );
  }

  /** JSON merge patch of the status subresource. */
  async patchStatus(name: string, patch: MergePatch<T>, opts: WriteOptions = {}): Promise<T> {
    return this.#typed(
      await this.#api.patchClusterCustomObjectStatus(
        { ...this.#coords, name, body: patch, ...opts },
        mergePatchOptions(),
      ),
    );
  }

  /** As ResourceClient.patchStatusIfCurrent: undefined when the object is gone or has moved on. */
  async patchStatusIfCurrent(
    obj: T,
    status: MergePatch<StatusOf<T>>,
    opts: WriteOptions = {},
  ): Promise<T | undefined> {
    const patch = {
      metadata: { resourceVersion: obj.metadata?.resourceVersion },
      status,
    } as unknown as MergePatch<T>;
    try {
      return await this.patchStatus(requireName(obj), patch, opts);
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return undefined;
      throw err;
    }
  }

  #typed(obj: unknown): T {
    const o = obj as T;
    if (o && typeof o === "object") {
      o.apiVersion ??= this.resource.apiVersion;
      o.kind ??= this.resource.kind;
    }
    return o;
  }
}

/** Typed clients for every golden resource. */
export class GoldenClient {
  readonly api: CustomObjectsApi;
  readonly images: ResourceClient<Image>;
  readonly imageBuilds: ResourceClient<ImageBuild>;
  readonly imageVersions: ResourceClient<ImageVersion>;
  readonly baseImages: ClusterResourceClient<BaseImage>;
  readonly rebuildCampaigns: ClusterResourceClient<RebuildCampaign>;

  constructor(api: CustomObjectsApi) {
    this.api = api;
    this.images = new ResourceClient<Image>(api, IMAGE_RESOURCE);
    this.imageBuilds = new ResourceClient<ImageBuild>(api, IMAGE_BUILD_RESOURCE);
    this.imageVersions = new ResourceClient<ImageVersion>(api, IMAGE_VERSION_RESOURCE);
    this.baseImages = new ClusterResourceClient<BaseImage>(api, BASE_IMAGE_RESOURCE);
    this.rebuildCampaigns = new ClusterResourceClient<RebuildCampaign>(api, REBUILD_CAMPAIGN_RESOURCE);
  }

  /** A client over `kc.makeApiClient(CustomObjectsApi)`, without extra middleware. */
  static fromKubeConfig(kc: KubeConfig): GoldenClient {
    return new GoldenClient(kc.makeApiClient(CustomObjectsApi));
  }
}
