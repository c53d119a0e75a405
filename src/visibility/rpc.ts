// Calls between the operator's main thread and the visibility API's thread, over the worker's
// message port: each side serves named methods to the other and calls the other's. Arguments and
// results are structured-cloned; an error crosses as its message. Messages that are not calls or
// results go to the endpoint's `other` handler (cache batches, request metrics).

export interface MessagePortLike {
  postMessage(message: unknown): void;
  on(event: "message", listener: (message: unknown) => void): unknown;
}

// biome-ignore lint/suspicious/noExplicitAny: each method declares its own arguments.
export type Methods = Record<string, (...args: any[]) => unknown>;

interface CallMessage {
  rpc: "call";
  id: number;
  method: string;
  args: unknown[];
}

interface ResultMessage {
  rpc: "result";
  id: number;
  value?: unknown;
  error?: string;
}

const isRpc = (m: unknown): m is CallMessage | ResultMessage =>
  typeof m === "object" && m !== null && "rpc" in m;

export class RpcEndpoint {
  #nextId = 1;
  readonly #waiting = new Map<number, PromiseWithResolvers<unknown>>();

  constructor(
    private readonly port: MessagePortLike,
    private readonly methods: Methods,
    private readonly other: (message: unknown) => void = () => undefined,
  ) {
    port.on("message", (m) => this.#receive(m));
  }

  call<T>(method: string, ...args: unknown[]): Promise<T> {
    const id = this.#nextId++;
    const waiter = Promise.withResolvers<unknown>();
    this.#waiting.set(id, waiter);
    this.port.postMessage({ rpc: "call", id, method, args } satisfies CallMessage);
    return waiter.promise as Promise<T>;
  }

  /** Fails every call still waiting (the other side is gone). */
  rejectAll(err: Error): void {
    for (const waiter of this.#waiting.values()) waiter.reject(err);
    this.#waiting.clear();
  }

  #receive(m: unknown): void {
    if (!isRpc(m)) {
      this.other(m);
      return;
    }
    if (m.rpc === "result") {
      const waiter = this.#waiting.get(m.id);
      this.#waiting.delete(m.id);
      if (m.error !== undefined) waiter?.reject(new Error(m.error));
      else waiter?.resolve(m.value);
      return;
    }
    void this.#serve(m);
  }

  async #serve(m: CallMessage): Promise<void> {
    const reply = (r: Omit<ResultMessage, "rpc" | "id">) =>
      this.port.postMessage({ rpc: "result", id: m.id, ...r } satisfies ResultMessage);
    const method = this.methods[m.method];
    if (!method) return reply({ error: `no method ${m.method}` });
    try {
      reply({ value: await method(...m.args) });
    } catch (err) {
      reply({ error: err instanceof Error ? err.message : String(err) });
    }
  }
}
