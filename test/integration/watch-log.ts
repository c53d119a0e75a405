// Records every watch event of golden's Jobs, so tests can check invariants over the whole run
// (e.g. never more than N Jobs active at once) from the event stream rather than by sampling.
import { type V1Job, Watch } from "@kubernetes/client-node";
import { isJobFinished } from "../../src/build/job.js";
import { kc } from "./cluster.js";

export interface JobEvent {
  type: string;
  namespace: string;
  name: string;
  finished: boolean;
  at: number;
}

export class JobWatchLog {
  readonly events: JobEvent[] = [];
  private abort?: AbortController;

  async start(): Promise<void> {
    this.abort = await new Watch(kc).watch(
      "/apis/batch/v1/jobs",
      { labelSelector: "app.kubernetes.io/managed-by=golden" },
      (type, job: V1Job) => {
        this.events.push({
          type,
          namespace: job.metadata?.namespace ?? "",
          name: job.metadata?.name ?? "",
          finished: isJobFinished(job),
          at: Date.now(),
        });
      },
      () => undefined,
    );
  }

  stop(): void {
    this.abort?.abort();
  }

  /** Jobs active now (created, not yet Complete/Failed, not deleted), as far as the watch has seen. */
  activeNow(namespaces?: Set<string>): number {
    const active = new Set<string>();
    for (const e of this.events) {
      if (namespaces && !namespaces.has(e.namespace)) continue;
      const key = `${e.namespace}/${e.name}`;
      if (e.type === "DELETED" || e.finished) active.delete(key);
      else active.add(key);
    }
    return active.size;
  }

  /** The most Jobs active (created, not yet Complete/Failed, not deleted) at any point. */
  maxActive(namespaces?: Set<string>): number {
    const active = new Set<string>();
    let max = 0;
    for (const e of this.events) {
      if (namespaces && !namespaces.has(e.namespace)) continue;
      const key = `${e.namespace}/${e.name}`;
      if (e.type === "DELETED" || e.finished) active.delete(key);
      else active.add(key);
      max = Math.max(max, active.size);
    }
    return max;
  }
}
