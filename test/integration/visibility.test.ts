// visibility.golden.dev through the real kube-aggregator. The operator runs on
// this host and listens on the node bridge's address; a selector-less Service with an
// EndpointSlice points there, and the APIService starts without a caBundle: the operator injects
// its managed CA. kubectl then reads the queue like any resource.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { request } from "node:https";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import type { ImageBuild } from "../../src/api/v1alpha1/index.js";
import { freePort } from "../support/free-port.js";
import {
  hostVisibilityFlags,
  hostVisibilityManifests,
  nodeIp,
  VISIBILITY_APISERVICE,
} from "../support/visibility.js";
import { buildsOf, image } from "./build-helpers.js";
import {
  eventually,
  golden,
  kubeconfigPath,
  kubectl,
  kubectlFails,
  repo,
  scratchNamespace,
} from "./cluster.js";
import { type OperatorProcess, startOperator } from "./operator.js";
import { kubectlGolden } from "./plugin.js";

const run = promisify(execFile);
const NODE_IP = nodeIp();
const APISERVICE = VISIBILITY_APISERVICE;

type Ns = { name: string; remove: () => Promise<void> };

/** kubectl with its stderr too (for -v=6 request logs). */
async function kubectlVerbose(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run("kubectl", ["--kubeconfig", kubeconfigPath, ...args], { maxBuffer: 16 << 20 });
}

async function apply(manifest: unknown): Promise<void> {
  const child = execFile("kubectl", ["--kubeconfig", kubeconfigPath, "apply", "--server-side", "-f", "-"]);
  const done = new Promise<void>((resolve, reject) =>
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`kubectl apply exited ${code}`)))),
  );
  child.stdin?.end(JSON.stringify(manifest));
  await done;
}

/** NAMESPACE NAME POSITION … rows of `kubectl get pendingbuilds -A` (header dropped). */
function rows(table: string): { namespace: string; name: string; position: number; nsPosition: number }[] {
  return table
    .trim()
    .split("\n")
    .slice(1)
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const [namespace = "", name = "", position = "", nsPosition = ""] = l.trim().split(/\s+/);
      return { namespace, name, position: Number(position), nsPosition: Number(nsPosition) };
    });
}

/** The waiting builds of these namespaces. */
async function queued(namespaces: string[]): Promise<ImageBuild[]> {
  const all = (await golden.imageBuilds.list()).items.filter((b) =>
    namespaces.includes(b.metadata?.namespace ?? ""),
  );
  return all.filter((b) => b.status?.phase === "Queued");
}

describe("visibility.golden.dev through kube-aggregator", () => {
  const namespaces: Ns[] = [];
  let system: Ns;
  let operator: OperatorProcess;
  let port = 0;
  const names = () => namespaces.map((n) => n.name);

  before(async () => {
    system = await scratchNamespace("golden-vis");
    for (const prefix of ["team-a", "team-b"]) namespaces.push(await scratchNamespace(prefix));
    port = await freePort();
    const routed = { namespace: system.name, nodeIp: NODE_IP, port };
    for (const manifest of hostVisibilityManifests(routed)) await apply(manifest);
    // Who may read the queue: the same aggregated ClusterRole config/visibility ships.
    await kubectl("apply", "--server-side", "-f", `${repo}config/visibility/user_roles.yaml`);
    // Its own namespaces only (--namespace takes a list), so other test files' builds neither
    // take its one slot nor show in its queue.
    operator = await startOperator(
      names().join(","),
      ["--max-concurrent-builds", "1", ...hostVisibilityFlags(routed)],
      { name: "visibility" },
    );
    await eventually(
      "the APIService to be Available",
      async () =>
        (await kubectl(
          "get",
          "apiservice",
          APISERVICE,
          "-o",
          'jsonpath={.status.conditions[?(@.type=="Available")].status}',
        )) === "True",
      90_000,
      500,
    );
  });

  after(async () => {
    await kubectl("delete", "apiservice", APISERVICE, "--ignore-not-found").catch(() => undefined);
    for (const ns of namespaces) await ns.remove();
    await operator?.stop();
    await system?.remove();
  });

  it("lists a queued burst in admission order, pages it, and drops a build once admitted", async (t) => {
    const [a = "", b = ""] = names();
    // One long build holds the only slot; the rest queue behind it.
    await golden.images.create(image(a, "blocker", {}, 60));
    await eventually(
      "the blocker to be admitted",
      async () => (await buildsOf(a, "blocker"))[0]?.status?.phase === "Building",
    );
    for (const [ns, name, priority] of [
      [a, "a1", 0],
      [a, "a2", 0],
      [b, "b1", 0],
      [a, "a3", 0],
      [b, "b2", 5],
    ] as const)
      await golden.images.create(image(ns, name, {}, 1, priority));

    await eventually("five builds queued", async () => (await queued(names())).length === 5);
    // The policy's order, worked by hand: b2 first (priority 5); then team-a, which ties with
    // team-b on builds in flight or ordered (1 each) and was served longer ago (the blocker);
    // then the namespaces alternate, oldest first within each.
    const build = (ns: string, img: string) => `${ns}/${img}-g1-`;
    const admissionOrder = [build(b, "b2"), build(a, "a1"), build(b, "b1"), build(a, "a2"), build(a, "a3")];

    const table = await kubectl("get", "pendingbuilds", "-A");
    t.diagnostic(`kubectl get pendingbuilds -A\n${table}`);
    const header = table.split("\n")[0] ?? "";
    for (const column of [
      "NAMESPACE",
      "NAME",
      "POSITION",
      "NS POSITION",
      "IMAGE",
      "PRIORITY",
      "WAITING",
      "REASON",
      "ETA",
    ])
      assert.ok(header.includes(column), `column ${column} in ${header}`);
    const listed = rows(table).filter((r) => names().includes(r.namespace));
    assert.deepEqual(
      listed.map((r) => `${r.namespace}/${r.name}`.replace(/[0-9a-f]{6}$/, "")),
      admissionOrder,
      `kubectl get pendingbuilds -A:\n${table}`,
    );
    assert.deepEqual(
      listed.map((r) => r.position),
      [1, 2, 3, 4, 5],
    );
    for (const ns of [a, b]) {
      const mine = listed.filter((r) => r.namespace === ns).map((r) => r.nsPosition);
      assert.deepEqual(
        mine,
        mine.map((_, i) => i + 1),
        `namespace positions in ${ns}`,
      );
    }
    assert.match(table, /cluster limit 1 reached; 0 builds ahead/);

    // Pages of two, followed through continue tokens, read the same list.
    const chunked = await kubectlVerbose("get", "pendingbuilds", "-A", "--chunk-size=2", "-v=6");
    assert.deepEqual(rows(chunked.stdout), rows(table), `chunked:\n${chunked.stdout}`);
    assert.match(
      chunked.stderr,
      /pendingbuilds\?continue=[\w-]+&limit=2 200/,
      "kubectl followed a continue token",
    );

    // One namespace, and one object.
    // Without -A there is no NAMESPACE column: the name comes first.
    const teamB = (await kubectl("get", "pendingbuilds", "-n", b))
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.trim().split(/\s+/)[0]);
    assert.deepEqual(
      teamB,
      listed.filter((r) => r.namespace === b).map((r) => r.name),
    );
    const first = listed[0];
    const one = JSON.parse(
      await kubectl("get", "pendingbuild", first?.name ?? "", "-n", first?.namespace ?? "", "-o", "json"),
    );
    assert.equal(one.kind, "PendingBuild");
    assert.equal(one.clusterPosition, 1);

    // The kubectl plugin reads the same queue: `kubectl golden queue`.
    const plugin = await kubectlGolden("queue", "-A");
    assert.equal(plugin.code, 0, plugin.stderr);
    const pluginRows = rows(plugin.stdout).filter((r) => names().includes(r.namespace));
    assert.deepEqual(
      pluginRows.map((r) => `${r.namespace}/${r.name}#${r.position}`),
      listed.map((r) => `${r.namespace}/${r.name}#${r.position}`),
      `kubectl golden queue -A:\n${plugin.stdout}`,
    );
    const pluginB = JSON.parse((await kubectlGolden("queue", "-n", b, "-o", "json")).stdout);
    assert.deepEqual(
      pluginB.items.map((p: { metadata: { name: string } }) => p.metadata.name),
      listed.filter((r) => r.namespace === b).map((r) => r.name),
    );

    // Releasing the slot admits the first in line, which leaves the list.
    const blocker = (await golden.imageBuilds.list(a)).items.find((x) => x.spec.imageName === "blocker");
    await kubectl("annotate", "-n", a, `imagebuild/${blocker?.metadata?.name}`, "golden.dev/cancel=true");
    await eventually("the first in line to leave the list", async () => {
      const now = rows(await kubectl("get", "pendingbuilds", "-A")).filter((r) =>
        names().includes(r.namespace),
      );
      return !now.some((r) => r.name === first?.name) && now.length === 4 ? now : undefined;
    });
    const admitted = await golden.imageBuilds.get(first?.namespace ?? "", first?.name ?? "");
    assert.ok(admitted?.status?.startTime, "the build that left the list was admitted");
  });

  it("explains pendingbuilds from the served OpenAPI", async () => {
    const explained = await eventually("kubectl explain pendingbuilds", async () =>
      kubectl("explain", "pendingbuilds").catch(() => undefined),
    );
    assert.match(explained, /KIND:\s+PendingBuild/);
    assert.match(explained, /clusterPosition/);
    assert.match(await kubectl("explain", "pendingbuilds.reason"), /plain words/);
    // Every field says what it is, one whose type is a named schema (blockedBy) included.
    assert.doesNotMatch(explained, /<no description>/);
    assert.match(await kubectl("explain", "pendingbuilds.blockedBy"), /holds the build back/);
  });

  it("is forbidden to a user without view, and allowed where they have it", async () => {
    const [a = "", b = ""] = names();
    const denied = await kubectlFails("get", "pendingbuilds", "-n", a, "--as=someone");
    assert.match(
      denied,
      new RegExp(
        `Error from server \\(Forbidden\\): pendingbuilds.visibility.golden.dev is forbidden: User "someone" cannot list resource "pendingbuilds" in API group "visibility.golden.dev" in the namespace "${a}"`,
      ),
    );
    await kubectl("create", "rolebinding", "someone-view", "-n", b, "--clusterrole=view", "--user=someone");
    await eventually("someone to read team-b's queue", async () =>
      kubectl("get", "pendingbuilds", "-n", b, "--as=someone").catch(() => undefined),
    );
  });

  it("answers a malformed continue and an unknown field selector with 400 and a message", async () => {
    const badContinue = await kubectlFails(
      "get",
      "--raw",
      "/apis/visibility.golden.dev/v1alpha1/pendingbuilds?limit=1&continue=not-a-token",
    );
    assert.match(badContinue, /BadRequest|400/);
    assert.match(badContinue, /continue key is not valid/);
    const badField = await kubectlFails(
      "get",
      "pendingbuilds",
      "-A",
      "--field-selector",
      "spec.imageName=a1",
    );
    assert.match(badField, /Error from server \(BadRequest\): .*field label not supported: spec\.imageName/);
    const byName = await kubectl(
      "get",
      "pendingbuilds",
      "-A",
      "--field-selector",
      "metadata.name=nothing-like-it",
    );
    assert.match(byName, /^$|No resources found/);
  });

  it("answers 401 to a direct request without the front proxy's certificate", async () => {
    const reply = await new Promise<{ code: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: NODE_IP,
          port,
          path: "/apis/visibility.golden.dev/v1alpha1/pendingbuilds",
          rejectUnauthorized: false,
          headers: { "X-Remote-User": "system:admin", "X-Remote-Group": "system:masters" },
        },
        (res) => {
          let body = "";
          res.on("data", (c: Buffer) => {
            body += c.toString();
          });
          res.on("end", () => resolve({ code: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      req.end();
    });
    assert.equal(reply.code, 401);
    assert.equal(JSON.parse(reply.body).reason, "Unauthorized");
  });
});
