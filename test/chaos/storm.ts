// A 409 storm: several clients read-modify-write the same few Images at once, each write guarded
// by the resourceVersion it read (PUT), retrying on 409 Conflict. Each write bumps counters in
// annotations (one per client, and a shared total); some also change the spec (a new generation,
// which supersedes the running build). Afterwards the counters must equal the writes the clients
// saw succeed: no lost update, whoever else (the operator) wrote the Image meanwhile.
import { setTimeout as sleep } from "node:timers/promises";
import { GoldenClient } from "../../src/api/client.js";
import type { Image } from "../../src/api/v1alpha1/index.js";
import { apiErrorMessage, isConflict, isInvalid, isNotFound } from "../../src/runtime/api-errors.js";
import { golden, kubeConfig } from "../integration/cluster.js";
import type { Rng } from "./prng.js";
import { bumpSpec } from "./workload.js";

export const TOTAL = "chaos.golden.dev/writes";
const clientKey = (i: number) => `chaos.golden.dev/writes-client-${i}`;

export interface StormStats {
  storms: number;
  attempts: number;
  conflicts: number;
  writes: number;
  specChanges: number;
  ambiguous: number;
  errors: string[];
}

export class ConflictStorm {
  readonly stats: StormStats = {
    storms: 0,
    attempts: 0,
    conflicts: 0,
    writes: 0,
    specChanges: 0,
    ambiguous: 0,
    errors: [],
  };
  /** image key -> writes per client that the client saw succeed. */
  private readonly confirmed = new Map<string, number[]>();
  private readonly clients: GoldenClient[];

  constructor(
    readonly clientCount: number,
    private readonly maxSpecChangesPerImage: number,
  ) {
    this.clients = Array.from({ length: clientCount }, () => GoldenClient.fromKubeConfig(kubeConfig()));
  }

  private readonly specChanges = new Map<string, number>();

  /** All clients hammer `targets` (namespace/name) for `durationMs`. */
  async run(rng: Rng, targets: { namespace: string; name: string }[], durationMs: number): Promise<string> {
    this.stats.storms++;
    const before = { ...this.stats };
    const deadline = Date.now() + durationMs;
    await Promise.all(
      this.clients.map((client, i) => this.client(client, i, rng.fork(`client-${i}`), targets, deadline)),
    );
    return (
      `${this.clientCount} clients on ${targets.length} Images: ${this.stats.attempts - before.attempts} attempts, ` +
      `${this.stats.conflicts - before.conflicts} conflicts, ${this.stats.writes - before.writes} writes ` +
      `(${this.stats.specChanges - before.specChanges} spec changes)`
    );
  }

  private async client(
    client: GoldenClient,
    index: number,
    rng: Rng,
    targets: { namespace: string; name: string }[],
    deadline: number,
  ): Promise<void> {
    while (Date.now() < deadline) {
      const target = rng.pick(targets);
      const key = `${target.namespace}/${target.name}`;
      const counts = this.confirmed.get(key) ?? new Array<number>(this.clientCount).fill(0);
      this.confirmed.set(key, counts);
      let current: Image | undefined;
      try {
        current = await client.images.get(target.namespace, target.name);
      } catch {
        await sleep(200);
        continue;
      }
      if (!current) {
        this.stats.errors.push(`${key} vanished during the storm`);
        return;
      }
      const mine = (counts[index] ?? 0) + 1;
      const next: Image = structuredClone(current);
      const annotations = { ...next.metadata?.annotations };
      annotations[TOTAL] = String(Number(annotations[TOTAL] ?? 0) + 1);
      annotations[clientKey(index)] = String(mine);
      next.metadata = { ...next.metadata, annotations };
      const changes = this.specChanges.get(key) ?? 0;
      const changeSpec = changes < this.maxSpecChangesPerImage && rng.chance(0.25);
      if (changeSpec) bumpSpec(rng, next.spec);
      this.stats.attempts++;
      try {
        await client.images.replace(next);
        this.landed(key, counts, index, changeSpec);
      } catch (err) {
        if (isConflict(err)) this.stats.conflicts++;
        else if (isInvalid(err))
          this.stats.errors.push(`${key}: a valid update was refused: ${apiErrorMessage(err)}`);
        else if (!isNotFound(err)) {
          // The connection broke mid-write (control-plane fault): find out whether it landed.
          this.stats.ambiguous++;
          const after = await this.readPatiently(client, target);
          if (after?.metadata?.annotations?.[clientKey(index)] === String(mine))
            this.landed(key, counts, index, changeSpec);
        }
      }
      await sleep(rng.int(0, 60));
    }
  }

  private landed(key: string, counts: number[], index: number, changedSpec: boolean): void {
    counts[index] = (counts[index] ?? 0) + 1;
    this.stats.writes++;
    if (changedSpec) {
      this.stats.specChanges++;
      this.specChanges.set(key, (this.specChanges.get(key) ?? 0) + 1);
    }
  }

  private async readPatiently(
    client: GoldenClient,
    target: { namespace: string; name: string },
  ): Promise<Image | undefined> {
    for (let i = 0; i < 120; i++) {
      try {
        return await client.images.get(target.namespace, target.name);
      } catch {
        await sleep(500);
      }
    }
    return undefined;
  }

  /** Every Image's counters equal the writes its clients saw succeed. */
  async verify(): Promise<string[]> {
    const problems = [...this.stats.errors];
    for (const [key, counts] of this.confirmed) {
      const [namespace = "", name = ""] = key.split("/");
      const image = await golden.images.get(namespace, name);
      const a = image?.metadata?.annotations ?? {};
      const total = counts.reduce((x, y) => x + y, 0);
      if (Number(a[TOTAL] ?? 0) !== total)
        problems.push(
          `${key}: ${TOTAL}=${a[TOTAL] ?? 0}, but ${total} writes succeeded (lost or phantom update)`,
        );
      counts.forEach((n, i) => {
        if (Number(a[clientKey(i)] ?? 0) !== n)
          problems.push(`${key}: ${clientKey(i)}=${a[clientKey(i)] ?? 0}, but client ${i} wrote ${n} times`);
      });
    }
    return problems;
  }
}
