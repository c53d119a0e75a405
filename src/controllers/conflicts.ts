// A 409 Conflict means our cached view was stale: requeue at once, quietly, instead of counting
// an error and backing off — the informer is about to deliver the newer object anyway.
import { isConflict } from "../api/client.js";
import type { Result } from "../runtime/workqueue.js";

export async function requeueOnConflict(reconcile: () => Promise<Result>): Promise<Result> {
  try {
    return await reconcile();
  } catch (err) {
    if (isConflict(err)) return { requeueAfterMs: 100 };
    throw err;
  }
}
