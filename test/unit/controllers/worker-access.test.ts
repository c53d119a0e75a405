// WorkerAccess as a unit: fake Core and RBAC APIs count the creates it sends.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CoreV1Api, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { WorkerAccess } from "../../../src/controllers/worker-access.js";
import { apiError } from "../../support/recording-api.js";

function harness() {
  const sent: string[] = [];
  const existing = new Set<string>();
  const create = (kind: string) => async (req: { namespace: string }) => {
    sent.push(`${kind} ${req.namespace}`);
    await new Promise((r) => setImmediate(r)); // Answers come later, as the apiserver's do.
    const key = `${kind}/${req.namespace}`;
    if (existing.has(key)) throw apiError(409, "AlreadyExists", `${kind} exists`);
    existing.add(key);
    return {};
  };
  const core = { createNamespacedServiceAccount: create("ServiceAccount") } as unknown as CoreV1Api;
  const rbac = {
    createNamespacedRole: create("Role"),
    createNamespacedRoleBinding: create("RoleBinding"),
  } as unknown as RbacAuthorizationV1Api;
  return { sent, access: new WorkerAccess(core, rbac, "golden-worker") };
}

describe("WorkerAccess", () => {
  it("creates a namespace's access once for builds reconciled at the same time", async () => {
    const h = harness();
    await Promise.all(Array.from({ length: 16 }, () => h.access.ensure("team-a")));
    assert.deepEqual(h.sent, ["ServiceAccount team-a", "Role team-a", "RoleBinding team-a"]);
    await h.access.ensure("team-a");
    assert.equal(h.sent.length, 3, "ensured: no request until the re-check is due");
    await h.access.ensure("team-b");
    assert.equal(h.sent.length, 6, "another namespace gets its own");
  });

  it("lets a later call try again after a failed creation", async () => {
    let fail = true;
    let creates = 0;
    const core = {
      createNamespacedServiceAccount: async () => {
        creates++;
        if (fail) throw apiError(500, "InternalError", "etcd unavailable");
        return {};
      },
    } as unknown as CoreV1Api;
    const rbac = { createNamespacedRole: async () => ({}), createNamespacedRoleBinding: async () => ({}) };
    const access = new WorkerAccess(core, rbac as unknown as RbacAuthorizationV1Api, "golden-worker");
    await assert.rejects(Promise.all([access.ensure("team-a"), access.ensure("team-a")]), /etcd unavailable/);
    fail = false;
    await access.ensure("team-a");
    assert.equal(creates, 2, "the two concurrent calls shared one attempt; the later call made its own");
  });
});
