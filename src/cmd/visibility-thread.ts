// golden-operator's visibility API thread (src/visibility/thread.ts): started by the operator
// (src/visibility/thread-host.ts) as a worker thread, never run on its own.
import { parentPort, workerData } from "node:worker_threads";
import { runVisibilityThread, type VisibilityThreadData } from "../visibility/thread.js";

if (!parentPort) throw new Error("visibility-thread runs inside golden-operator, as its worker thread");
runVisibilityThread(parentPort, workerData as VisibilityThreadData);
