// Records every watch event of golden's Jobs and build pods, so tests can check invariants over the
// whole run (e.g. never more than N builds running at once) from the event stream rather than by
// sampling.
import { type V1Job, type V1Pod, Watch } from "@kubernetes/client-node";
import { isJobFinished } from "../../src/build/job.js";
import {
  BUILD_POD_SELECTOR,
  maxRunning,
  podRunEvent,
  type RunEvent,
  revision,
  runningAtEnd,
} from "../support/running-builds.js";
import { kc } from "./cluster.js";

export class JobWatchLog {
  readonly events: RunEvent[] = [];
  private aborts: AbortController[] = [];

  async start(): Promise<void> {
    const watch = new Watch(kc);
    this.aborts.push(
      await watch.watch(
        "/apis/batch/v1/jobs",
        { labelSelector: "app.kubernetes.io/managed-by=golden" },
        (type, job: V1Job) =>
          this.events.push({
            kind: "job",
            type,
            namespace: job.metadata?.namespace ?? "",
            build: job.metadata?.name ?? "",
            jobUid: job.metadata?.uid,
            ended: isJobFinished(job),
            at: Date.now(),
            rv: revision(job),
          }),
        () => undefined,
      ),
      await watch.watch(
        "/api/v1/pods",
        { labelSelector: BUILD_POD_SELECTOR },
        (type, pod: V1Pod) => this.events.push(podRunEvent(type, pod)),
        () => undefined,
      ),
    );
  }

  stop(): void {
    for (const abort of this.aborts) abort.abort();
  }

  /** Builds running now, as far as the watches have seen. */
  runningNow(namespaces?: Set<string>): number {
    return runningAtEnd(this.events, namespaces);
  }

  /** The most builds running at once (see running-builds.ts): a Job or pod still at work. */
  maxActive(namespaces?: Set<string>): number {
    return maxRunning(this.events, namespaces).max;
  }
}
