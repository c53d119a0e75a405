// Which builds run at each moment of a watch log of golden's Jobs and build pods, by the rule the
// concurrency limits promise: a build runs from its Job's creation until that Job's pod has ended
// (or, with no pod seen ended, until its Job has finished or gone), and any build pod that has not
// ended runs, with or without its Job. Tests check the limits over the whole event stream.

export interface RunEvent {
  kind: "job" | "pod";
  type: string;
  namespace: string;
  /** The build's name: the Job's name, or the pod's golden.dev/build label. */
  build: string;
  /** Pods only: the pod's name (a build may have a pod deleted and another). */
  pod?: string;
  /**
   * Job: its uid. Pod: its controlling Job's uid (none when orphaned). A Job deleted and created
   * again under the build's name is another Job: the old one's pod ending does not end the new one.
   */
  jobUid?: string;
  /** Job: Complete/Failed. Pod: Succeeded/Failed. */
  ended: boolean;
  at: number;
  /**
   * The object's resourceVersion in the event: etcd's revision, one order across Jobs and pods,
   * so that two watches' deliveries cannot swap a pod's end and the next build's Job.
   */
  rv?: number;
}

export interface MaxRunning {
  max: number;
  /** When the maximum was first reached (epoch ms). */
  at: number;
  /** The builds running then, as namespace/name. */
  running: string[];
}

interface BuildState {
  jobActive: boolean;
  jobUid: string | undefined;
  /** The current Job's pod has ended. */
  podEnded: boolean;
  pods: Set<string>;
}

/** Replays the events, calling `onChange` with the running set after each one. */
function replay(
  events: Iterable<RunEvent>,
  namespaces: Set<string> | undefined,
  onChange: (running: Set<string>, at: number) => void,
): void {
  const states = new Map<string, BuildState>();
  const running = new Set<string>();
  // An event without a resourceVersion keeps its place after the one before it (sort is stable).
  let last = 0;
  const ordered = [...events]
    .map((e) => {
      last = e.rv ?? last;
      return { e, rv: last };
    })
    .sort((a, b) => a.rv - b.rv)
    .map(({ e }) => e);
  for (const e of ordered) {
    if (namespaces && !namespaces.has(e.namespace)) continue;
    const key = `${e.namespace}/${e.build}`;
    const s = states.get(key) ?? {
      jobActive: false,
      jobUid: undefined,
      podEnded: false,
      pods: new Set<string>(),
    };
    states.set(key, s);
    if (e.kind === "job") {
      s.jobActive = e.type !== "DELETED" && !e.ended;
      const uid = e.type === "DELETED" ? undefined : e.jobUid;
      if (e.type === "DELETED" || uid !== s.jobUid) s.podEnded = false;
      s.jobUid = uid;
    } else if (e.type === "DELETED" || e.ended) {
      s.pods.delete(e.pod ?? "");
      if (e.type !== "DELETED" && e.jobUid === s.jobUid) s.podEnded = true;
    } else s.pods.add(e.pod ?? "");
    if (s.pods.size > 0 || (s.jobActive && !s.podEnded)) running.add(key);
    else running.delete(key);
    onChange(running, e.at);
  }
}

/** The most builds running at once, and when. */
export function maxRunning(events: Iterable<RunEvent>, namespaces?: Set<string>): MaxRunning {
  let best: MaxRunning = { max: 0, at: 0, running: [] };
  replay(events, namespaces, (running, at) => {
    if (running.size > best.max) best = { max: running.size, at, running: [...running] };
  });
  return best;
}

/** How many builds run after the last event. */
export function runningAtEnd(events: Iterable<RunEvent>, namespaces?: Set<string>): number {
  let now = 0;
  replay(events, namespaces, (running) => {
    now = running.size;
  });
  return now;
}

/** A build pod's watch event, as replay() reads it. */
export function podRunEvent(
  type: string,
  pod: {
    metadata?: {
      namespace?: string;
      name?: string;
      resourceVersion?: string;
      labels?: Record<string, string>;
      ownerReferences?: Array<{ kind: string; uid: string; controller?: boolean }>;
    };
    status?: { phase?: string };
  },
): RunEvent {
  const jobUid = pod.metadata?.ownerReferences?.find((o) => o.controller === true && o.kind === "Job")?.uid;
  return {
    kind: "pod",
    type,
    namespace: pod.metadata?.namespace ?? "",
    build: pod.metadata?.labels?.[BUILD_LABEL] ?? "",
    pod: pod.metadata?.name ?? "",
    ...(jobUid !== undefined ? { jobUid } : {}),
    ended: podEnded(pod.status?.phase),
    at: Date.now(),
    rv: revision(pod),
  };
}

export function revision(obj: { metadata?: { resourceVersion?: string } }): number | undefined {
  const rv = Number(obj.metadata?.resourceVersion);
  return Number.isFinite(rv) ? rv : undefined;
}

export function podEnded(phase: string | undefined): boolean {
  return phase === "Succeeded" || phase === "Failed";
}

/** The label build pods carry (the Job template's), naming their build. */
export const BUILD_LABEL = "golden.dev/build";
export const BUILD_POD_SELECTOR = "app.kubernetes.io/managed-by=golden,app.kubernetes.io/component=worker";
