// A golden-operator that `make up` deployed (config/local) watches every namespace and would
// reconcile a test's or chaos run's Images beside the operators they start themselves.
import { execFileSync } from "node:child_process";

/** Why the cluster behind `kubeconfig` already runs golden, or undefined when it does not. */
export function foreignOperator(kubeconfig: string): string | undefined {
  let replicas = "";
  try {
    replicas = execFileSync(
      "kubectl",
      [
        "--kubeconfig",
        kubeconfig,
        "-n",
        "golden-system",
        "get",
        "deployment",
        "golden-operator",
        "--ignore-not-found",
        "-o",
        "jsonpath={.spec.replicas}",
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    ).trim();
  } catch {
    return undefined; // No cluster to ask: the run fails on its own, with a clearer message.
  }
  return replicas !== "" && replicas !== "0"
    ? `golden-system/golden-operator (${replicas} replicas, from make up) watches every namespace; ` +
        "remove it first: kubectl delete deployment -n golden-system golden-operator (or make down)"
    : undefined;
}
