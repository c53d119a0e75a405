// How reconcilers treat API errors that are not bugs. A 409 Conflict means our cached view was
// stale: requeue at once, quietly, instead of counting an error and backing off — the informer is
// about to deliver the newer object anyway. An object too large for etcd cannot be written however
// often we retry: stop (TerminalError) rather than loop forever.
import { apiErrorCode, apiErrorMessage, isConflict } from "../runtime/api-errors.js";
import { TerminalError } from "../runtime/controller.js";
import type { Result } from "../runtime/workqueue.js";

export async function requeueOnConflict(reconcile: () => Promise<Result>): Promise<Result> {
  try {
    return await reconcile();
  } catch (err) {
    if (isConflict(err)) return { requeueAfterMs: 100 };
    if (isTooLarge(err)) throw new TerminalError(`object too large to write: ${apiErrorMessage(err)}`);
    throw err;
  }
}

/** etcd refuses objects past its request limit (1.5 MiB by default); the apiserver says 413 or 500. */
export function isTooLarge(err: unknown): boolean {
  const code = apiErrorCode(err);
  return (code === 413 || code === 500) && /too large/i.test(apiErrorMessage(err));
}
