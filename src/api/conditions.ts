// metav1.Condition helpers: lastTransitionTime moves only when the status flips.
import type { Condition } from "./v1alpha1/index.js";

export type ConditionInput = Omit<Condition, "lastTransitionTime">;

/** maxLength of every status and condition `message` in api/spec (a unit test holds them equal). */
export const MESSAGE_MAX_LENGTH = 32768;

/**
 * A message that fits the schema: golden composes messages from others (a build's, the apiserver's),
 * and one character too many would get the whole status write refused, again on every retry.
 */
export function boundedMessage(message: string, max = MESSAGE_MAX_LENGTH): string {
  if (message.length <= max) return message;
  const cut = "… (truncated)";
  return message.slice(0, max - cut.length) + cut;
}

export function setCondition(
  existing: Condition[] | undefined,
  next: ConditionInput,
  now: Date,
): Condition[] {
  const list = existing ?? [];
  const previous = list.find((c) => c.type === next.type);
  const lastTransitionTime =
    previous && previous.status === next.status ? previous.lastTransitionTime : now.toISOString();
  const updated: Condition = { ...next, message: boundedMessage(next.message), lastTransitionTime };
  return previous ? list.map((c) => (c.type === next.type ? updated : c)) : [...list, updated];
}

export function findCondition(list: Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((c) => c.type === type);
}
