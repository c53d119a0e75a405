// kubectl-golden's command line: a command, its positional arguments, kubectl's usual flags.
import { parseArgs } from "node:util";
import { usage } from "./errors.js";

export type Output = "table" | "json" | "yaml";

export interface Args {
  command: string;
  positionals: string[];
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces: boolean;
  output: Output;
  reason?: string;
  at?: string;
  wait: boolean;
  timeoutMs: number;
  help: boolean;
}

export const HELP = `kubectl golden: versions, channels and the build queue of golden Images.

Usage:
  kubectl golden versions IMAGE                      the Image's versions, newest first, with channels and changes
  kubectl golden diff IMAGE VERSION_A VERSION_B      what changed from A to B
  kubectl golden promote IMAGE CHANNEL VERSION       point CHANNEL at VERSION
  kubectl golden rollback IMAGE CHANNEL              move CHANNEL back to the version before
  kubectl golden revoke IMAGE VERSION --reason TEXT [--at TIME]
                                                     revoke VERSION now (or at TIME, RFC 3339)
  kubectl golden rebuild IMAGE                       build the Image again
  kubectl golden queue [-A]                          builds waiting for a slot (visibility API)

Flags:
  -n, --namespace NS        namespace (default: the context's, else "default")
  -A, --all-namespaces      queue: every namespace
      --kubeconfig PATH     kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
      --context NAME        kubeconfig context
  -o, --output FORMAT       json or yaml (default: a table or text)
      --no-wait             promote, rollback: return once the request is recorded
      --timeout SECONDS     promote, rollback: how long to wait for the operator (default 30)
  -h, --help                this help

Exit codes: 0 done, 1 failed or refused, 2 bad usage, 3 no such Image, version or channel.
`;

export function parse(argv: string[]): Args {
  let parsed: ReturnType<typeof parseArgs<{ allowPositionals: true; options: typeof OPTIONS }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw usage(`${(err as Error).message}\nSee 'kubectl golden --help'.`);
  }
  const v = parsed.values;
  const output = v.output ?? "table";
  if (output !== "table" && output !== "json" && output !== "yaml")
    throw usage(`--output ${output}: want json or yaml`);
  const timeout = Number(v.timeout ?? "30");
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw usage(`--timeout ${v.timeout}: want a number of seconds`);
  const [command = "", ...positionals] = parsed.positionals;
  const args: Args = {
    command,
    positionals,
    allNamespaces: v["all-namespaces"] ?? false,
    output,
    wait: !(v["no-wait"] ?? false),
    timeoutMs: timeout * 1000,
    help: v.help ?? false,
  };
  if (v.kubeconfig) args.kubeconfig = v.kubeconfig;
  if (v.context) args.context = v.context;
  if (v.namespace) args.namespace = v.namespace;
  if (v.reason !== undefined) args.reason = v.reason;
  if (v.at !== undefined) args.at = v.at;
  return args;
}

const OPTIONS = {
  kubeconfig: { type: "string" },
  context: { type: "string" },
  namespace: { type: "string", short: "n" },
  "all-namespaces": { type: "boolean", short: "A" },
  output: { type: "string", short: "o" },
  reason: { type: "string" },
  at: { type: "string" },
  "no-wait": { type: "boolean" },
  timeout: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;
