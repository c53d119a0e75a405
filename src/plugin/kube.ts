// The plugin's connection: kubeconfig, context and namespace chosen the way kubectl chooses them.
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { GoldenClient } from "../api/client.js";
import type { Args } from "./args.js";
import { PluginError } from "./errors.js";

export interface Session {
  golden: GoldenClient;
  custom: CustomObjectsApi;
  namespace: string;
}

export function connect(args: Args): Session {
  const kc = new KubeConfig();
  try {
    if (args.kubeconfig) kc.loadFromFile(args.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new PluginError(`cannot load kubeconfig ${args.kubeconfig ?? ""}: ${(err as Error).message}`);
  }
  if (args.context) {
    if (!kc.getContextObject(args.context))
      throw new PluginError(`context "${args.context}" does not exist in the kubeconfig`);
    kc.setCurrentContext(args.context);
  }
  if (!kc.getCurrentCluster())
    throw new PluginError("no cluster in the kubeconfig: pass --kubeconfig or set KUBECONFIG");
  const namespace = args.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
  const custom = kc.makeApiClient(CustomObjectsApi);
  return { golden: new GoldenClient(custom), custom, namespace };
}
