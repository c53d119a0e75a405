// The scheduler: capacity, priority, fair share, why builds wait and namespace limits. Its
// operator watches the three namespaces fair share needs (--namespace takes a list), so the file
// runs beside the others. Build policy: build-policy.test.ts; lost workers: workers.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ImageBuild } from "../../src/api/v1alpha1/index.js";
import { buildsOf, image, type Ns, waitPhase } from "./build-helpers.js";
import { eventually, golden, kubectl, scratchNamespace } from "./cluster.js";
import { type OperatorProcess, startOperator } from "./operator.js";
import { JobWatchLog } from "./watch-log.js";

describe("scheduling with capacity 2 across three namespaces", () => {
  const namespaces: Ns[] = [];
  let operator: OperatorProcess;
  const jobs = new JobWatchLog();
  before(async () => {
    for (const prefix of ["team-a", "team-b", "team-c"]) namespaces.push(await scratchNamespace(prefix));
    // team-c's own limit, for the second test. Set before the operator starts so its first list
    // has it: annotated later, the namespace watch could lag behind the builds it must limit.
    // team-c runs one build at a time in the first test anyway.
    await kubectl("annotate", "namespace", namespaces[2]?.name ?? "", "golden.dev/max-concurrent-builds=1");
    await jobs.start();
    operator = await startOperator(
      namespaces.map((n) => n.name).join(","),
      ["--max-concurrent-builds", "2"],
      {
        name: "sched",
      },
    );
  });
  after(async () => {
    jobs.stop();
    for (const ns of namespaces) await ns.remove();
    await operator.stop();
  });

  it("never runs more than 2 builds, honours priority, starves no namespace and tells each build why it waits", async () => {
    const [a, b, c] = namespaces.map((n) => n.name) as [string, string, string];
    // Two slow builds fill both slots while the rest queue up behind them.
    await golden.images.create(image(a, "a1", {}, 3));
    await golden.images.create(image(a, "a2", {}, 3));
    await eventually("a1 and a2 to be admitted", async () => {
      const [[x], [y]] = await Promise.all([buildsOf(a, "a1"), buildsOf(a, "a2")]);
      return x?.status?.startTime !== undefined && y?.status?.startTime !== undefined;
    });
    for (const name of ["a3", "a4", "a5", "a6"]) await golden.images.create(image(a, name));
    await golden.images.create(image(b, "b1"));
    await golden.images.create(image(b, "b2"));
    await golden.images.create(image(b, "b3", {}, 0, 10)); // submitted late, but higher priority
    await golden.images.create(image(c, "c1"));

    // Everyone waiting says why, in plain words, in a status written once: positions are the
    // visibility API's (kubectl get pendingbuilds), so the queue moving rewrites no waiting build.
    const queued = await eventually("8 queued builds", async () => {
      const all = (await golden.imageBuilds.list()).items.filter((x) =>
        [a, b, c].includes(x.metadata?.namespace ?? ""),
      );
      const waiting = all.filter((x) => x.status?.phase === "Queued");
      return waiting.length === 8 ? waiting : undefined;
    });
    for (const build of queued) {
      const scheduled = build.status?.conditions?.find((x) => x.type === "Scheduled");
      assert.equal(scheduled?.status, "False", build.spec.imageName);
      assert.equal(scheduled?.reason, "ClusterLimitReached", build.spec.imageName);
      assert.equal(scheduled?.message, "cluster limit 2 reached", build.spec.imageName);
    }
    const queuedA6 = queued.find((x) => x.spec.imageName === "a6");
    // The Image says its build is in progress, queued or not, in the one write it got when the build
    // was created: the queue costs an Image no write.
    const imageA6 = await eventually("Image a6 to name its build", async () => {
      const img = await golden.images.get(a, "a6");
      return img?.status?.latestBuild === queuedA6?.metadata?.name ? img : undefined;
    });
    assert.equal(imageA6.status?.phase, "Building");
    assert.match(imageA6.status?.message ?? "", /in progress \(kubectl get imagebuild \S+ shows whether/);

    // b3 goes first (priority) once a slot frees; a6, last in line, is not written meanwhile.
    await eventually("b3 to be admitted", async () => {
      const [build] = await buildsOf(b, "b3");
      return build?.status?.startTime !== undefined;
    });
    const [a6] = await buildsOf(a, "a6");
    assert.equal(a6?.status?.phase, "Queued");
    assert.equal(
      a6?.metadata?.resourceVersion,
      queuedA6?.metadata?.resourceVersion,
      "another build's admission does not rewrite a waiting build",
    );
    assert.equal(
      (await golden.images.get(a, "a6"))?.metadata?.resourceVersion,
      imageA6.metadata?.resourceVersion,
      "nor its Image",
    );

    for (const [ns, names] of [
      [a, ["a1", "a2", "a3", "a4", "a5", "a6"]],
      [b, ["b1", "b2", "b3"]],
      [c, ["c1"]],
    ] as const) {
      for (const name of names) await waitPhase(ns, name, "Succeeded");
    }
    assert.ok(
      jobs.maxActive(new Set([a, b, c])) <= 2,
      `at most 2 builds running (Jobs or pods at work), saw ${jobs.maxActive(new Set([a, b, c]))}`,
    );
    // Admission order from the scheduler's own record: startTime, one instant per pass. Job
    // creation order would not do: builds admitted in one pass get their Jobs in either order.
    const builds = (await golden.imageBuilds.list()).items.filter((x) =>
      [a, b, c].includes(x.metadata?.namespace ?? ""),
    );
    const started = (x: ImageBuild) => Date.parse(x.status?.startTime ?? "");
    assert.ok(
      builds.every((x) => !Number.isNaN(started(x))),
      "every build has a startTime",
    );
    const order = builds.sort((x, y) => started(x) - started(y)).map((x) => x.spec.imageName);
    const startedAt = (img: string) => started(builds.find((x) => x.spec.imageName === img) as ImageBuild);
    assert.deepEqual(order.slice(0, 2).sort(), ["a1", "a2"], `admission order ${order.join(",")}`);
    assert.deepEqual(order.slice(2, 4).sort(), ["b3", "c1"], `admission order ${order.join(",")}`);
    assert.ok(startedAt("b3") <= startedAt("c1"), `admission order ${order.join(",")}`);
  });

  it("applies a namespace's own limit, given as an annotation", async () => {
    const ns = namespaces[2]?.name ?? ""; // annotated golden.dev/max-concurrent-builds=1 in before()
    // The previous test's builds hold cluster slots until their pods have ended; a build that
    // starts waiting on the cluster limit keeps that reason (written once), so start with the
    // cluster's slots free.
    const mine = new Set(namespaces.map((n) => n.name));
    await eventually("the previous test's builds to end", async () => jobs.runningNow(mine) === 0);
    for (const name of ["n1", "n2", "n3"]) await golden.images.create(image(ns, name, {}, 1));
    const waiting = await eventually("a build waiting on the namespace limit", async () => {
      const builds = (await golden.imageBuilds.list(ns)).items;
      return builds.find((x) =>
        x.status?.conditions?.some((cond) => cond.reason === "NamespaceLimitReached"),
      );
    });
    const cond = waiting.status?.conditions?.find((x) => x.type === "Scheduled");
    assert.equal(cond?.message, `namespace limit 1 reached in ${ns}`);
    for (const name of ["n1", "n2", "n3"]) await waitPhase(ns, name, "Succeeded");
    assert.equal(jobs.maxActive(new Set([ns])), 1, "one at a time in this namespace");
  });
});
