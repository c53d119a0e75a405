// The bounded chaos subset that `make test` runs (about 2 minutes): 10 Images built by
// two leader-elected operators while the leader is SIGKILLed, the apiserver and etcd restart, the
// kubelet restarts, Jobs and pods are deleted and five clients storm the Images with 409s; then
// every generation settled with a reason, one success per generation, no orphans, the build limit
// held throughout (Job watch log). The Image API's fuzzing is fuzz.test.ts, beside the other files.
// The full run is `make chaos` (test/chaos/). Replay a run with CHAOS_SEED=<seed printed>.
import { subsetConfig } from "../chaos/config.js";
import { chaosSeed } from "../chaos/prng.js";
import { chaosSuite } from "../chaos/suite.js";

chaosSuite(subsetConfig(chaosSeed()), { onForeignOperator: "skip" });
