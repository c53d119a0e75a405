import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CoordinationV1Api, EventsV1Api, KubeConfig, type V1ConfigMap } from "@kubernetes/client-node";
import {
  type EventsClient,
  Informer,
  type LeaseClient,
  type ManagedInformer,
  RestClient,
  WorkQueue,
} from "../../../src/runtime/index.js";

// Compile-time checks that the real client-node classes fit the runtime's narrow interfaces.
describe("type compatibility", () => {
  it("generated APIs and Informer satisfy the interfaces the runtime consumes", () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "c", server: "http://127.0.0.1:1", skipTLSVerify: true }],
      users: [{ name: "u" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    const rc = new RestClient(kc, { qps: 0 });
    const leases: LeaseClient = rc.api(CoordinationV1Api);
    const events: EventsClient = rc.api(EventsV1Api);
    const inf: ManagedInformer = new Informer<V1ConfigMap>(kc, { path: "/api/v1/configmaps" });
    // A handler returning nothing is accepted.
    const q = new WorkQueue({ name: "t" });
    q.start(async () => {});
    assert.ok(leases && events && inf);
  });
});
