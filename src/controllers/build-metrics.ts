// golden's own Prometheus metrics: builds and Images by phase (read from the informer caches at
// scrape time, so they are always consistent), time builds wait in the queue, and build duration.
import { Gauge, Histogram, type Registry } from "prom-client";
import type { Image, ImageBuild } from "../api/v1alpha1/index.js";
import type { SharedInformer } from "../runtime/multi-informer.js";

// Builds take seconds (mocked) to hours (real): 1 s … ~4.5 h.
const DURATION_BUCKETS = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 16384];

export class BuildMetrics {
  readonly queueWait: Histogram<"namespace">;
  readonly duration: Histogram<"result">;

  constructor(registry: Registry, images: SharedInformer<Image>, builds: SharedInformer<ImageBuild>) {
    const registers = [registry];
    new Gauge({
      name: "golden_builds",
      help: "ImageBuilds by phase",
      labelNames: ["phase"],
      registers,
      collect() {
        this.reset();
        for (const b of builds.list()) this.inc({ phase: b.status?.phase ?? "Pending" });
      },
    });
    new Gauge({
      name: "golden_images",
      help: "Images by phase",
      labelNames: ["phase"],
      registers,
      collect() {
        this.reset();
        for (const i of images.list()) this.inc({ phase: i.status?.phase ?? "Pending" });
      },
    });
    this.queueWait = new Histogram({
      name: "golden_build_queue_wait_seconds",
      help: "Time from a build's request to its admission by the scheduler",
      labelNames: ["namespace"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    });
    this.duration = new Histogram({
      name: "golden_build_duration_seconds",
      help: "Time from a build's admission to its end, by result (Succeeded, Failed, Cancelled)",
      labelNames: ["result"],
      buckets: DURATION_BUCKETS,
      registers,
    });
  }
}
