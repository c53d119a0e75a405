// What reconcilers need from an event recorder: fire-and-forget, never throws.
import type { KubernetesObject } from "@kubernetes/client-node";

export interface EventInput {
  type: "Normal" | "Warning";
  reason: string;
  action: string;
  note: string;
}

export interface EventSink {
  record(regarding: KubernetesObject, event: EventInput): void;
}
