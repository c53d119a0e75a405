// A PendingQueueSource the tests control: entries in the order given, positions as given.
import type { PendingEntry, PendingQueueSource } from "../../../src/scheduler/pending.js";

export function entry(e: Partial<PendingEntry> & { name: string }): PendingEntry {
  return {
    namespace: "team-a",
    imageName: "web",
    uid: `uid-${e.name}`,
    priority: 0,
    waitingSince: "2026-12-01T00:00:00Z",
    clusterPosition: 1,
    namespacePosition: 1,
    blockedBy: "cluster",
    reason: "cluster limit 1 reached; 0 builds ahead",
    ...e,
  };
}

export class FakeQueue implements PendingQueueSource {
  items: PendingEntry[] = [];
  resourceVersion = "1";
  synced = true;

  snapshot() {
    return {
      resourceVersion: this.resourceVersion,
      items: this.items.map((e) => ({ namespace: e.namespace, name: e.name, entry: () => e })),
    };
  }

  ready(): boolean {
    return this.synced;
  }

  /** n builds, spread over namespaces round-robin, positions 1..n. */
  fill(n: number, namespaces = ["team-a", "team-b"]): void {
    const perNs = new Map<string, number>();
    this.items = Array.from({ length: n }, (_, i) => {
      const namespace = namespaces[i % namespaces.length] ?? "team-a";
      const namespacePosition = (perNs.get(namespace) ?? 0) + 1;
      perNs.set(namespace, namespacePosition);
      return entry({ name: `build-${i + 1}`, namespace, clusterPosition: i + 1, namespacePosition });
    });
  }
}
