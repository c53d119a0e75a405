/**
 * Helpers to classify errors from the Kubernetes API. client-node 1.x+/2.x throws ApiException
 * with `.code` (HTTP status) and `.body` (usually the Status as a JSON *string*); Watch errors
 * carry `.statusCode` instead. Neither shape has the old `err.response.statusCode`.
 */

/** The parts of a metav1.Status that callers look at. */
export interface ApiStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    kind?: string;
    causes?: { field?: string; message?: string; reason?: string }[];
  };
}

/** HTTP status of an API error, or undefined for network/timeout/other errors. */
export function apiErrorCode(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  // DOMException (AbortError/TimeoutError) has a numeric legacy `.code` that is not HTTP.
  if (typeof DOMException !== "undefined" && err instanceof DOMException) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (isHttpStatus(e.code)) return e.code;
  if (isHttpStatus(e.statusCode)) return e.statusCode;
  return undefined;
}

function isHttpStatus(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 100 && v <= 599;
}

/** The apiserver's Status (reason, message, code) from an error body, if it has one. */
export function apiErrorStatus(err: unknown): ApiStatus | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const body = (err as { body?: unknown }).body;
  if (typeof body === "string") {
    try {
      const parsed: unknown = JSON.parse(body);
      return typeof parsed === "object" && parsed !== null ? (parsed as ApiStatus) : undefined;
    } catch {
      return undefined;
    }
  }
  if (typeof body === "object" && body !== null) return body as ApiStatus;
  return undefined;
}

/** Status.reason, e.g. 'Conflict', 'AlreadyExists', 'NotFound', 'Expired'. */
export function apiErrorReason(err: unknown): string | undefined {
  const reason = apiErrorStatus(err)?.reason;
  return typeof reason === "string" ? reason : undefined;
}

/**
 * A one-line description of an error: the apiserver's Status message when there is one (for
 * example `ImageBuild.golden.dev "x" is invalid: spec: Invalid value: ...`), else the HTTP status
 * and body, else the error's own message.
 */
export function apiErrorMessage(err: unknown): string {
  const message = apiErrorStatus(err)?.message;
  if (typeof message === "string" && message !== "") return message;
  const code = apiErrorCode(err);
  const body = typeof err === "object" && err !== null ? (err as { body?: unknown }).body : undefined;
  if (code !== undefined && typeof body === "string" && body.trim() !== "")
    return `HTTP ${code}: ${body.trim()}`;
  if (code !== undefined && (body === undefined || body === "")) return `HTTP ${code}`;
  return err instanceof Error ? err.message : String(err);
}

export function isNotFound(err: unknown): boolean {
  return apiErrorCode(err) === 404;
}

/** A read's result, or undefined when the object does not exist (404); other errors throw. */
export async function unlessNotFound<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** 409 because the object already exists (create). */
export function isAlreadyExists(err: unknown): boolean {
  return apiErrorCode(err) === 409 && apiErrorReason(err) === "AlreadyExists";
}

/** 409 optimistic-concurrency conflict (stale resourceVersion on update). */
export function isConflict(err: unknown): boolean {
  return apiErrorCode(err) === 409 && apiErrorReason(err) !== "AlreadyExists";
}

/** 410: the resourceVersion (watch) or continue token (list) is too old. */
export function isGone(err: unknown): boolean {
  return apiErrorCode(err) === 410;
}

export function isInvalid(err: unknown): boolean {
  return apiErrorCode(err) === 422;
}

/**
 * Worth retrying as-is: throttling, server errors, timeouts and network failures.
 * 4xx other than 408/429 mean the request itself must change.
 */
export function isTransient(err: unknown): boolean {
  const code = apiErrorCode(err);
  if (code === undefined) return true;
  return code === 408 || code === 429 || code >= 500;
}
