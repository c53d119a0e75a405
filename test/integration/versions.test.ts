// Versions, channels, revocation, distribution and the kubectl plugin, through the real
// apiserver with golden's operator. The test plays the build worker (and, for the layered child,
// the catalog's admission, which records the parent it built on): each build is finished with the
// write a worker makes, plus the status.inputs the build resolved. No build pod runs, so the file
// takes seconds; the worker itself is covered by image-build.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setCondition } from "../../src/api/conditions.js";
import type { BuildInputs, Image, ImageBuild, ImageVersion } from "../../src/api/v1alpha1/index.js";
import { succeededStatus } from "../../src/worker/build.js";
import { buildsOf, image, type Ns } from "./build-helpers.js";
import { eventsApi, eventually, golden, kubectl, scratchNamespace } from "./cluster.js";
import { type OperatorProcess, startOperator } from "./operator.js";
import { kubectlGolden } from "./plugin.js";

describe("versions and channels", () => {
  let ns: Ns;
  let operator: OperatorProcess;
  before(async () => {
    ns = await scratchNamespace("versions");
    operator = await startOperator(ns.name, [
      // No node matches: no build pod runs, this test finishes the builds itself.
      "--worker-node-selector",
      "golden.dev/no-such-node=true",
      "--max-concurrent-builds",
      "100",
      "--retry-base-seconds",
      "1",
    ]);
  });
  after(async () => {
    await ns.remove();
    await operator.stop();
  });

  const plugin = (...args: string[]) => kubectlGolden(...args, "-n", ns.name);

  /** Finishes the Image's newest build as its worker would, once it is admitted, with `inputs`. */
  async function finishBuild(name: string, inputs: BuildInputs, buildCount: number): Promise<ImageBuild> {
    const build = await eventually(`build ${buildCount} of ${name} to be Building`, async () => {
      const builds = await buildsOf(ns.name, name);
      const b = builds[buildCount - 1];
      return builds.length === buildCount && b?.status?.phase === "Building" ? b : undefined;
    });
    const full = (await golden.imageBuilds.get(ns.name, build.metadata?.name ?? "")) as ImageBuild;
    const result = succeededStatus(full.spec.image, "s3://golden-test");
    const written = await golden.imageBuilds.patchStatusIfCurrent(full, {
      ...result,
      inputs,
      conditions: setCondition(
        full.status?.conditions,
        { type: "Succeeded", status: "True", reason: "BuildSucceeded", message: result.message ?? "" },
        new Date(),
      ),
      completionTime: new Date().toISOString(),
    });
    assert.ok(written, "the build was finished");
    return written;
  }

  const version = (img: string, v: string) =>
    eventually(`ImageVersion ${img}-${v}`, async () => {
      const got = await golden.imageVersions.get(ns.name, `${img}-${v}`);
      return got ?? undefined;
    });
  const channel = async (img: string, name: string) =>
    (await golden.images.get(ns.name, img))?.status?.channels?.find((c) => c.name === name);
  const channelAt = (img: string, name: string, v: string | undefined) =>
    eventually(`channel ${name} of ${img} at ${v}`, async () => {
      const c = await channel(img, name);
      return c && c.version === v ? c : undefined;
    });
  const reasons = async (name: string) =>
    (await eventsApi.listNamespacedEvent({ namespace: ns.name })).items
      .filter((e) => e.regarding?.name === name)
      .map((e) => e.reason ?? "");
  const setPackages = (packages: string[]) =>
    golden.images.patch(ns.name, "web", { spec: { customizations: { packages } } } as never);

  const WEB_CHANNELS: Image["spec"]["channels"] = [
    { name: "dev", promotion: "Auto" },
    { name: "prod", promotion: "Manual" },
  ];
  const versionsBuilt: ImageVersion[] = [];

  it("makes three builds with changed packages three versions whose changelogs name those changes; dev follows", async () => {
    await golden.images.create(
      image(ns.name, "web", { channels: WEB_CHANNELS, customizations: { packages: ["curl"] } }),
    );
    await finishBuild("web", { baseRevision: "ubuntu-r1" }, 1);
    const v1 = await version("web", "1.0.0");
    assert.equal(v1.spec.bump, "Initial");
    assert.equal(v1.metadata?.ownerReferences?.[0]?.name, "web");
    assert.equal(v1.spec.inputs.baseRevision, "ubuntu-r1");
    assert.ok(v1.spec.manifest.packages?.some((p) => p.name === "curl"));
    assert.equal(v1.spec.artifacts?.[0]?.format, "raw");
    await channelAt("web", "dev", "1.0.0");
    // The build's success and its version are one Image status write and one Event.
    const built = await eventually("the BuildSucceeded Event naming the version", async () => {
      const events = (await eventsApi.listNamespacedEvent({ namespace: ns.name })).items.filter(
        (e) =>
          e.regarding?.name === "web" && (e.reason === "BuildSucceeded" || e.reason === "VersionCreated"),
      );
      return events.length > 0 ? events : undefined;
    });
    assert.deepEqual(
      built.map((e) => e.reason),
      ["BuildSucceeded"],
    );
    assert.match(built[0]?.note ?? "", /; ImageVersion web-1\.0\.0: 1\.0\.0 \(initial\)$/);

    await setPackages(["curl", "nginx"]);
    await finishBuild("web", { baseRevision: "ubuntu-r1" }, 2);
    const v2 = await version("web", "1.1.0");
    assert.equal(v2.spec.bump, "Minor");
    assert.equal(v2.spec.previousVersion, "1.0.0");
    assert.deepEqual(
      v2.spec.changelog?.packagesAdded?.map((p) => p.name),
      ["nginx"],
    );
    assert.equal(v2.spec.changelog?.packagesRemoved, undefined);
    assert.equal(v2.spec.changelog?.packagesUpgraded, undefined);
    assert.equal(v2.spec.changelog?.baseRevision, undefined);
    await channelAt("web", "dev", "1.1.0");

    await setPackages(["nginx", "jq"]);
    await finishBuild("web", { baseRevision: "ubuntu-r1" }, 3);
    const v3 = await version("web", "1.2.0");
    assert.deepEqual(
      v3.spec.changelog?.packagesAdded?.map((p) => p.name),
      ["jq"],
    );
    assert.deepEqual(
      v3.spec.changelog?.packagesRemoved?.map((p) => p.name),
      ["curl"],
    );
    assert.equal(v3.spec.changelog?.summary, "packages +1 -1");
    const dev = await channelAt("web", "dev", "1.2.0");
    assert.deepEqual(
      dev.history?.map((m) => `${m.action} ${m.version}`),
      ["Followed 1.0.0", "Followed 1.1.0", "Followed 1.2.0"],
    );
    assert.equal((await channel("web", "prod"))?.version, undefined, "prod moves only by hand");
    assert.equal((await golden.images.get(ns.name, "web"))?.status?.latestVersion, "1.2.0");
    versionsBuilt.push(v1, v2, v3);

    // Immutable once written, and a revocation cannot be withdrawn.
    await assert.rejects(
      golden.imageVersions.patch(ns.name, "web-1.0.0", { spec: { build: "other" } } as never),
      /spec is immutable/,
    );
  });

  it("promotes and rolls back prod with the plugin, with Events, and refuses names that do not exist", async () => {
    let r = await plugin("promote", "web", "prod", "1.1.0");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /prod: promoted \(empty\) → 1\.1\.0/);
    r = await plugin("promote", "web", "prod", "1.2.0");
    assert.equal(r.code, 0, r.stderr);
    r = await plugin("rollback", "web", "prod", "-o", "json");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).version, "1.1.0");
    assert.equal((await channel("web", "prod"))?.version, "1.1.0");
    await eventually("ChannelPromoted and ChannelRolledBack Events", async () => {
      const got = await reasons("web");
      return got.includes("ChannelPromoted") && got.includes("ChannelRolledBack");
    });
    r = await plugin("promote", "web", "prod", "1.2.0");
    assert.equal(r.code, 0, r.stderr);

    const refused: [string[], RegExp][] = [
      [["versions", "nope"], /Image "nope" not found/],
      [
        ["promote", "web", "prod", "9.9.9"],
        /has no version "9\.9\.9" \(versions: 1\.0\.0, 1\.1\.0, 1\.2\.0\)/,
      ],
      [["promote", "web", "staging", "1.0.0"], /has no channel "staging" \(channels: dev, prod\)/],
      [["rollback", "nope", "prod"], /Image "nope" not found/],
      [["diff", "web", "1.0.0", "3.0.0"], /has no version "3\.0\.0"/],
      [["revoke", "web", "7.0.0", "--reason", "x"], /has no version "7\.0\.0"/],
    ];
    const results = await Promise.all(refused.map(([args]) => plugin(...args)));
    refused.forEach(([args, message], i) => {
      assert.equal(results[i]?.code, 3, `${args.join(" ")}: ${results[i]?.stderr}`);
      assert.match(results[i]?.stderr ?? "", message);
    });
    const bad = await plugin("revoke", "web", "1.0.0");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--reason/);

    const diff = await plugin("diff", "web", "1.0.0", "1.2.0");
    assert.equal(diff.code, 0, diff.stderr);
    assert.match(diff.stdout, /web 1\.0\.0 → 1\.2\.0: packages \+2 -1/);
    assert.match(diff.stdout, /\+ package jq /);
    assert.match(diff.stdout, /\+ package nginx /);
    assert.match(diff.stdout, /- package curl /);
    const asJson = JSON.parse((await plugin("diff", "web", "1.0.0", "1.2.0", "-o", "json")).stdout);
    assert.deepEqual(
      asJson.packagesAdded.map((p: { name: string }) => p.name),
      ["jq", "nginx"],
    );

    const table = await plugin("versions", "web");
    assert.equal(table.code, 0, table.stderr);
    const rows = table.stdout.trim().split("\n");
    assert.match(rows[0] ?? "", /^VERSION\s+CHANNELS\s+STATUS\s+BASE REVISION\s+PUBLISHED\s+CHANGES\s+AGE$/);
    assert.match(rows[1] ?? "", /^1\.2\.0\s+dev,prod\s+ok\s+ubuntu-r1\s+-\s+packages \+1 -1/);
    assert.match(rows[2] ?? "", /^1\.1\.0\s+-\s+ok/);
    const yaml = await plugin("versions", "web", "-o", "yaml");
    assert.match(yaml.stdout, /kind: List/);
  });

  it("revoking the version prod holds moves prod back and marks a layered child, which is rebuilt", async () => {
    // A layered child built on web 1.2.0: its build records the parent it started from, as the
    // catalog's admission of a layered Image (spec.base.image) does.
    await golden.images.create(image(ns.name, "app", { customizations: { packages: ["postgresql"] } }));
    const parentBuild = versionsBuilt[2]?.spec.build ?? "";
    const childBuild = await finishBuild(
      "app",
      { baseRevision: "ubuntu-r1", parentImage: "web", parentBuild },
      1,
    );
    const child = await version("app", "1.0.0");
    assert.equal(child.spec.inputs.parentImage, "web");
    assert.equal(child.spec.inputs.parentVersion, "1.2.0");
    assert.ok(
      child.spec.manifest.packages?.some((p) => p.name === "jq"),
      "the parent's content",
    );
    assert.ok(child.spec.manifest.packages?.some((p) => p.name === "postgresql"));
    await eventually("the child build to record its parent version", async () => {
      const b = await golden.imageBuilds.get(ns.name, childBuild.metadata?.name ?? "");
      return b?.status?.inputs?.parentVersion === "1.2.0";
    });

    const r = await plugin("revoke", "web", "1.2.0", "--reason", "CVE-2026-0001 in openssl");
    assert.equal(r.code, 0, r.stderr);
    const prod = await channelAt("web", "prod", "1.1.0");
    assert.equal(prod.history?.at(-1)?.action, "Revoked");
    assert.match(prod.message ?? "", /1\.2\.0 revoked \(CVE-2026-0001 in openssl\); back to 1\.1\.0/);
    await channelAt("web", "dev", "1.1.0");
    await eventually("web 1.2.0 Revoked", async () => {
      const v = await golden.imageVersions.get(ns.name, "web-1.2.0");
      return v?.status?.conditions?.find((c) => c.type === "Revoked")?.status === "True";
    });
    await eventually("the child marked ParentRevoked", async () => {
      const v = await golden.imageVersions.get(ns.name, "app-1.0.0");
      const c = v?.status?.conditions?.find((x) => x.type === "ParentRevoked");
      return c?.status === "True" && /web 1\.2\.0, revoked: CVE-2026-0001/.test(c.message);
    });
    await eventually("the child rebuilt (onParentRevoked: Rebuild, the default)", async () => {
      const builds = await buildsOf(ns.name, "app");
      return builds.length === 2 && builds[1]?.spec.trigger === "Rebuild";
    });
    await eventually("VersionRevoked and ChannelRevoked Events", async () => {
      const got = await reasons("web");
      return got.includes("VersionRevoked") && got.includes("ChannelRevoked");
    });

    const again = await plugin("promote", "web", "prod", "1.2.0");
    assert.equal(again.code, 1);
    assert.match(again.stderr, /cannot promote 1\.2\.0: it is revoked/);
    assert.equal((await plugin("revoke", "web", "1.2.0", "--reason", "twice")).code, 1);
    await assert.rejects(
      golden.imageVersions.patch(ns.name, "web-1.2.0", { revocation: null } as never),
      /a revocation cannot be withdrawn/,
    );
  });

  it("promotes prod on its own once a version soaked in dev", async () => {
    await golden.images.create(
      image(ns.name, "soak", {
        channels: [
          { name: "dev", promotion: "Auto" },
          { name: "prod", promotion: "Manual", soak: { channel: "dev", seconds: 2 } },
        ],
      }),
    );
    await finishBuild("soak", { baseRevision: "fedora-r1" }, 1);
    await channelAt("soak", "dev", "1.0.0");
    const prod = await channelAt("soak", "prod", "1.0.0");
    assert.equal(prod.history?.at(-1)?.action, "Soaked");
    const rebuilt = await plugin("rebuild", "soak");
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    await finishBuild("soak", { baseRevision: "fedora-r2" }, 2);
    const v2 = await version("soak", "1.0.1");
    assert.equal(v2.spec.bump, "Patch");
    assert.deepEqual(v2.spec.changelog?.baseRevision, { from: "fedora-r1", to: "fedora-r2" });
    await channelAt("soak", "prod", "1.0.1");
    // --no-wait has no verdict to print: -o json prints the Image as annotated with the request.
    const noWait = await plugin("promote", "soak", "prod", "1.0.1", "--no-wait", "-o", "json");
    assert.equal(noWait.code, 0, noWait.stderr);
    const annotated = JSON.parse(noWait.stdout) as Image;
    assert.equal(annotated.kind, "Image");
    assert.ok(
      Object.values(annotated.metadata?.annotations ?? {}).some((v) => v.startsWith("promote")),
      JSON.stringify(annotated.metadata?.annotations),
    );
  });

  it("rebuilds a layered Image on its parent's newest usable version, never a revoked one", async () => {
    // Finishes the newest build with the inputs golden resolved for it, as the worker records them.
    const finishAsResolved = async (name: string, count: number) => {
      const b = await eventually(
        `build ${count} of ${name}`,
        async () => (await buildsOf(ns.name, name))[count - 1],
      );
      return finishBuild(name, b.spec.inputs ?? {}, count);
    };
    await golden.images.create(image(ns.name, "lay"));
    const first = await finishAsResolved("lay", 1);
    await version("lay", "1.0.0");
    assert.equal((await plugin("rebuild", "lay")).code, 0);
    const second = await finishAsResolved("lay", 2);
    await version("lay", "1.0.1");

    await golden.images.create(image(ns.name, "lay-app", { base: { image: "lay" } }));
    const onNewest = await finishAsResolved("lay-app", 1);
    assert.equal(onNewest.spec.inputs?.parentBuild, second.metadata?.name);
    assert.equal((await version("lay-app", "1.0.0")).spec.inputs.parentVersion, "1.0.1");

    const r = await plugin("revoke", "lay", "1.0.1", "--reason", "CVE-2026-0002");
    assert.equal(r.code, 0, r.stderr);
    await eventually("lay-app 1.0.0 shown as built on a revoked parent", async () => {
      const rows = (await plugin("versions", "lay-app")).stdout.trim().split("\n");
      return /^1\.0\.0\s+-\s+parent revoked\s/.test(rows.at(-1) ?? "");
    });
    // onParentRevoked: Rebuild (the default) asks for a build; it resolves to lay 1.0.0.
    const rebuilt = await finishAsResolved("lay-app", 2);
    assert.equal(rebuilt.spec.trigger, "Rebuild");
    assert.equal(rebuilt.spec.inputs?.parentBuild, first.metadata?.name);
    const v = await version("lay-app", "1.0.1");
    assert.equal(v.spec.inputs.parentVersion, "1.0.0");
    // OS, RELEASE and ARCH are the spec's, blank for a layered Image; -o wide's BASE is what it
    // resolved to: its root's catalog entry.
    const wide = await eventually("lay-app's BASE column", async () => {
      const out = await kubectl("get", "image", "lay-app", "-n", ns.name, "-o", "wide");
      return /\bfedora-42-amd64\b/.test(out) ? out : undefined;
    });
    assert.match(wide.split("\n")[0] ?? "", /\sBASE\s+BASE REVISION\s/);
  });

  it("refuses channels and distribution targets that cannot work, naming the field", async () => {
    const refused: [Partial<Image["spec"]>, RegExp][] = [
      [
        { channels: [{ name: "prod", soak: { channel: "dev", seconds: 5 } }] },
        /spec\.channels: .*soak\.channel must name another channel/,
      ],
      [
        {
          channels: [{ name: "dev", promotion: "Auto", soak: { channel: "qa", seconds: 5 } }, { name: "qa" }],
        },
        /spec\.channels\[0\]\.soak: .*soak applies to Manual channels only/,
      ],
      [
        { distribution: { targets: [{ name: "r", provider: "oci" }] } },
        /spec\.distribution\.targets\[0\]: .*repository is required for provider oci/,
      ],
      [
        { distribution: { targets: [{ name: "eu", provider: "aws" }] } },
        /region is required for provider aws/,
      ],
    ];
    for (const [spec, message] of refused)
      await assert.rejects(golden.images.create(image(ns.name, "bad", spec), { dryRun: "All" }), message);
  });

  it("publishes to each distribution target on its own, retrying a failed one alone", async () => {
    await golden.images.create(
      image(ns.name, "dist", {
        distribution: {
          targets: [
            { name: "aws-eu", provider: "aws", region: "eu-west-1", account: "111122223333" },
            { name: "aws-us", provider: "aws", region: "us-east-1", simulate: { failAttempts: 1 } },
          ],
        },
      }),
    );
    await finishBuild("dist", { baseRevision: "fedora-r1" }, 1);
    const published = await eventually("every target published", async () => {
      const v = await golden.imageVersions.get(ns.name, "dist-1.0.0");
      return v?.status?.conditions?.find((c) => c.type === "Distributed")?.status === "True" ? v : undefined;
    });
    const state = Object.fromEntries((published.status?.distribution ?? []).map((t) => [t.name, t]));
    assert.equal(state["aws-eu"]?.attempts, 1, "the good region was published once and never retried");
    assert.equal(state["aws-us"]?.attempts, 2);
    assert.match(state["aws-eu"]?.location ?? "", /^aws:\/\/111122223333\/eu-west-1\/ami-/);
    await eventually("a TargetRetrying Event for aws-us", async () =>
      (await eventsApi.listNamespacedEvent({ namespace: ns.name })).items.some(
        (e) =>
          e.regarding?.name === "dist-1.0.0" &&
          e.reason === "TargetRetrying" &&
          e.note?.startsWith("aws-us:"),
      ),
    );
  });
});
