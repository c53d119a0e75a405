// `make chaos`: the full chaos run against the current cluster (several minutes). 60 Images over
// 3 namespaces, two leader-elected operators watching every namespace, faults every few seconds
// for about 3 minutes (leader kills, apiserver and etcd restarts, kubelet restarts, Job and pod
// deletions, 409 storms), then the invariants; then 3000 fuzzed specs. Seed: CHAOS_SEED.
import { fullConfig } from "./config.js";
import { chaosSeed } from "./prng.js";
import { chaosSuite } from "./suite.js";

chaosSuite(fullConfig(chaosSeed()), { onForeignOperator: "fail" });
