// Events get a client and a QPS budget of their own, as controller-runtime's recorder does, so
// telling users what happened never slows down making it happen.
import { EventsV1Api } from "@kubernetes/client-node";
import { EVENT_REPORTER } from "../../build/names.js";
import type { EventSink } from "../../controllers/events.js";
import { EventRecorder } from "../../runtime/events.js";
import type { RestClient } from "../../runtime/kube.js";
import type { Logger } from "../../runtime/logger.js";
import type { Runnable } from "../../runtime/manager.js";

/** The recorder, what reconcilers record through, and the runnable that flushes it on shutdown. */
export function eventRecorder(
  rest: RestClient,
  identity: string,
  log: Logger,
): { sink: EventSink; runnable: Runnable } {
  const recorder = new EventRecorder(rest.api(EventsV1Api), {
    reportingController: EVENT_REPORTER,
    reportingInstance: identity,
    logger: log,
  });
  const sink: EventSink = {
    record: (obj, event) =>
      recorder.record(
        {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.metadata?.name ?? "",
          namespace: obj.metadata?.namespace,
          uid: obj.metadata?.uid,
          resourceVersion: obj.metadata?.resourceVersion,
        },
        event,
      ),
  };
  const runnable: Runnable = {
    name: "event-recorder",
    start: (signal) =>
      new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(recorder.close()))),
  };
  return { sink, runnable };
}
