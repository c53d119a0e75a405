// golden-worker's flags: every one is also settable by an environment variable (GOLDEN_<FLAG>);
// the operator's Job template sets some that way.
import { type FlagSpec, LOG_LEVEL_FLAG, num, str } from "../flags.js";

export const WORKER_FLAGS: FlagSpec[] = [
  str("build-name", undefined, "Name of the ImageBuild to build (required)"),
  str("build-namespace", undefined, "Namespace of the ImageBuild (required)"),
  str("artifact-repository", "oci://artifacts.golden.local/images", "Where mocked artifacts are published"),
  num("heartbeat-seconds", 10, "Interval of status heartbeats"),
  str(
    "emulated-on",
    "",
    "Arch of the node when the Image's arch runs emulated there (set by the operator's --arm64-placement=emulated)",
  ),
  LOG_LEVEL_FLAG,
  str(
    "termination-log",
    "/dev/termination-log",
    "File the outcome is written to for the pod's termination message",
  ),
];
