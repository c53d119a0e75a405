// metav1.Condition helpers: lastTransitionTime moves only when the status flips.
import type { Condition } from "./v1alpha1/index.js";

export type ConditionInput = Omit<Condition, "lastTransitionTime">;

export function setCondition(
  existing: Condition[] | undefined,
  next: ConditionInput,
  now: Date,
): Condition[] {
  const list = existing ?? [];
  const previous = list.find((c) => c.type === next.type);
  const lastTransitionTime =
    previous && previous.status === next.status ? previous.lastTransitionTime : now.toISOString();
  const updated: Condition = { ...next, lastTransitionTime };
  return previous ? list.map((c) => (c.type === next.type ? updated : c)) : [...list, updated];
}

export function findCondition(list: Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((c) => c.type === type);
}
