// Maps a pod's container to a local process: the pure part of the local runner, unit-tested.
import path from "node:path";
import type { V1Container, V1Pod } from "@kubernetes/client-node";

/** Entry points of golden's image, as its Dockerfile installs them on PATH. */
const ENTRY_POINTS: Record<string, string> = {
  "golden-worker": "dist/src/cmd/worker.js",
  "golden-operator": "dist/src/cmd/operator.js",
};

/** Matches golden's image by repository name, whatever the registry and tag (e.g. golden:dev). */
export const DEFAULT_WORKER_IMAGE_PATTERN = /(^|\/)golden(:[\w.-]+)?(@sha256:[a-f0-9]{64})?$/;

export interface LocalCommand {
  file: string;
  args: string[];
}

export function isGoldenImage(image: string | undefined, pattern = DEFAULT_WORKER_IMAGE_PATTERN): boolean {
  return image !== undefined && pattern.test(image);
}

/**
 * The container's command and args, as a kubelet would run them, with golden's entry points
 * resolved to this repository's build. Returns an error string when the runner cannot run it.
 */
export function localCommand(
  container: V1Container,
  repo: string,
  nodeBinary: string,
): LocalCommand | string {
  const argv = [...(container.command ?? []), ...(container.args ?? [])];
  const [entry, ...rest] = argv;
  if (entry === undefined) {
    return "container has no command: the local runner cannot read an image's ENTRYPOINT";
  }
  const script = ENTRY_POINTS[path.basename(entry)];
  if (script !== undefined) {
    return { file: nodeBinary, args: [path.join(repo, script), ...rest] };
  }
  if (path.basename(entry) === "node") {
    return { file: nodeBinary, args: rest.map((a) => (a.startsWith("dist/") ? path.join(repo, a) : a)) };
  }
  return `command ${entry} is not one of golden's entry points (${Object.keys(ENTRY_POINTS).join(", ")})`;
}

/** Resolves the container's env: literal values and the downward-API fields a worker needs. */
export function containerEnv(pod: V1Pod, container: V1Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) {
      env[e.name] = expandVars(e.value, env);
      continue;
    }
    const fieldPath = e.valueFrom?.fieldRef?.fieldPath;
    if (fieldPath !== undefined) {
      const value = downwardField(pod, fieldPath);
      if (value !== undefined) env[e.name] = value;
    }
  }
  return env;
}

function downwardField(pod: V1Pod, fieldPath: string): string | undefined {
  switch (fieldPath) {
    case "metadata.name":
      return pod.metadata?.name;
    case "metadata.namespace":
      return pod.metadata?.namespace;
    case "metadata.uid":
      return pod.metadata?.uid;
    case "spec.nodeName":
      return pod.spec?.nodeName;
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "default";
    case "status.hostIP":
    case "status.podIP":
      return "127.0.0.1";
  }
  const label = /^metadata\.labels\['(.+)'\]$/.exec(fieldPath);
  if (label?.[1] !== undefined) return pod.metadata?.labels?.[label[1]];
  const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(fieldPath);
  if (annotation?.[1] !== undefined) return pod.metadata?.annotations?.[annotation[1]];
  return undefined;
}

/** $(VAR) references to earlier variables, as the kubelet expands them. */
function expandVars(value: string, env: Record<string, string>): string {
  return value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);
}
