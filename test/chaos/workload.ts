// The Images a chaos run builds while faults fly: valid, short builds (a few steps of 1–3 s),
// a mix of formats, arches, priorities, some with a simulated failure and some with retries.
// Some of those that always succeed ask for a rebuild (annotation) and a scheduled one (30 to 90 s
// after creation, once in the run), and keep a history of one build: each trigger (a generation,
// a rebuild token, a schedule slot) may succeed once, even once its builds are pruned.
import type { Image, ImageSpec } from "../../src/api/v1alpha1/index.js";
import { ANNOTATIONS } from "../../src/build/names.js";

/** On a workload Image whose schedule fires once in the run. */
export const SCHEDULED_LABEL = "chaos.golden.dev/scheduled";

import type { Rng } from "./prng.js";

const BASES: { os: ImageSpec["base"]["os"]; releases: string[] }[] = [
  { os: "ubuntu", releases: ["22.04", "24.04", "noble"] },
  { os: "debian", releases: ["12", "bookworm"] },
  { os: "rhel", releases: ["9.4", "10"] },
  { os: "rocky", releases: ["9", "8.10"] },
  { os: "almalinux", releases: ["9"] },
  { os: "fedora", releases: ["42"] },
  { os: "sles", releases: ["15-SP6"] },
];
const FORMATS: ImageSpec["formats"] = ["qcow2", "raw", "vmdk", "vhd", "ami", "iso"];
const PACKAGES = ["nginx", "curl", "vim", "htop", "git", "jq", "openssh-server", "chrony", "tmux", "rsync"];

export function chaosSpec(rng: Rng): ImageSpec {
  const base = rng.pick(BASES);
  const os = base.os;
  const arch = os !== "sles" && rng.chance(0.3) ? "arm64" : "amd64";
  const formats = rng.sample(FORMATS, rng.int(1, 3));
  const spec: ImageSpec = {
    base: { os, release: rng.pick(base.releases), arch },
    formats,
    build: {
      timeoutSeconds: 180,
      priority: rng.int(-3, 3),
      retries: rng.chance(0.3) ? rng.int(1, 2) : 0,
      simulate: { stepSeconds: rng.int(1, 3) },
    },
    // Keep every build, so the history the invariants read is complete.
    historyLimits: { successful: 50, failed: 50 },
  };
  if (rng.chance(0.6)) spec.customizations = { packages: rng.sample(PACKAGES, rng.int(1, 4)) };
  if (rng.chance(0.1) && spec.build?.simulate) spec.build.simulate.failAt = "configure";
  return spec;
}

/**
 * Turns an Image that builds fine into one with more triggers than its generations: a rebuild
 * token, perhaps a schedule firing 30 to 90 s after creation (hourly, so once in a run), and a
 * history of one successful and one failed build, so the builds of earlier triggers are pruned.
 */
function addTriggers(rng: Rng, image: Image, now: Date): void {
  const spec = image.spec;
  if (spec.build?.simulate?.failAt) return;
  spec.historyLimits = { successful: 1, failed: 1 };
  image.metadata = {
    ...image.metadata,
    annotations: { [ANNOTATIONS.rebuild]: `chaos-${rng.int(0, 1_000_000)}` },
  };
  if (rng.chance(0.5)) {
    // The first minute boundary at least 30 s away: after the Image exists, whatever the create
    // took (an earlier slot would not fire for an hour), and 30-90 s in, while the faults still
    // run (the subset's take about 65 s), rather than after them, which convergence would wait on.
    const slot = new Date(now.getTime() + 30_000);
    spec.rebuild = { schedule: `${(slot.getUTCMinutes() + 1) % 60} * * * *` };
    // Convergence waits for the slot's build (invariants.ts, unsettled).
    image.metadata.labels = { ...image.metadata.labels, [SCHEDULED_LABEL]: "true" };
  }
}

export function chaosImage(rng: Rng, namespace: string, index: number, now = new Date()): Image {
  const image: Image = {
    apiVersion: "golden.dev/v1alpha1",
    kind: "Image",
    metadata: {
      name: `img-${String(index).padStart(3, "0")}`,
      namespace,
      labels: { "chaos.golden.dev/run": "true" },
    },
    spec: chaosSpec(rng),
  };
  if (rng.chance(0.3)) addTriggers(rng, image, now);
  return image;
}

/** A valid change of spec for the conflict storm: always a new generation. */
export function bumpSpec(rng: Rng, spec: ImageSpec): void {
  const build = spec.build ?? {};
  spec.build = build;
  switch (rng.int(0, 3)) {
    case 0:
      build.priority = ((build.priority ?? 0) + rng.int(1, 5)) % 10;
      break;
    case 1: {
      const packages = new Set(spec.customizations?.packages ?? []);
      const p = rng.pick(PACKAGES);
      if (packages.has(p) && packages.size > 1) packages.delete(p);
      else packages.add(p);
      spec.customizations = { ...spec.customizations, packages: [...packages] };
      break;
    }
    case 2: {
      const args = spec.customizations?.kernelArgs ?? [];
      spec.customizations = {
        ...spec.customizations,
        kernelArgs: [...args.slice(-3), `chaos.bump=${rng.int(0, 1_000_000)}`],
      };
      break;
    }
    default: {
      const failAt = build.simulate?.failAt;
      const formats = rng.sample(FORMATS, rng.int(1, 3));
      // failAt convert-<format> needs its format; the workload only uses configure.
      spec.formats = formats;
      build.simulate = { stepSeconds: rng.int(1, 2), ...(failAt ? { failAt } : {}) };
      break;
    }
  }
}
