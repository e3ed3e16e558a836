/**
 * Bounded load on loopback for the load tests: many keep-alive clients on
 * undici pools, one record per request, and a gateway in a child process
 * (so its memory is its own) that answers `process.memoryUsage()` over IPC.
 *
 * Run as a child (see startChildGateway), this file composes a gateway over
 * the parent's stub upstreams, as test/support/gateway-app.ts does, and
 * prints nothing: it reports its port and memory on the IPC channel.
 */
import { fork, type ChildProcess } from "node:child_process";
import { Pool } from "undici";
import { gatewaySpec, startGateway } from "./gateway-app";
import type { StubUpstream } from "./upstream";

/** One request's outcome, as a client saw it. */
export interface Outcome {
  client: number;
  path: string;
  started: number;
  ended: number;
  /** 0 when the request itself failed (the connection broke). */
  status: number;
  code?: string;
  region?: string;
  cache?: string;
  error?: string;
}

/** A keep-alive pool of `connections` clients of `base`. */
export function clientPool(base: string, connections: number): Pool {
  return new Pool(base, { connections, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 60_000, bodyTimeout: 60_000 });
}

/** POSTs `body` as JSON on `pool` and records what came back; never throws. */
export async function send(
  pool: Pool,
  client: number,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Outcome> {
  const started = performance.now();
  try {
    const response = await pool.request({
      path,
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    const text = await response.body.text();
    let code: string | undefined;
    if (response.statusCode >= 400)
      try {
        code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
      } catch {
        code = undefined;
      }
    const header = (name: string) => {
      const value = response.headers[name];
      return Array.isArray(value) ? value.join(",") : value;
    };
    return {
      client,
      path,
      started,
      ended: performance.now(),
      status: response.statusCode,
      code,
      region: header("x-cloudloom-region"),
      cache: header("x-cache"),
    };
  } catch (error) {
    return { client, path, started, ended: performance.now(), status: 0, error: (error as Error).message };
  }
}

/** Opens `connections` sockets on `pool` by sending that many requests at once (to a route that does not count them). */
export async function warm(pool: Pool, connections: number, path: string, headers: Record<string, string> = {}): Promise<void> {
  const outcomes = await Promise.all(Array.from({ length: connections }, (_, i) => send(pool, -1, path, { warm: i }, headers)));
  const bad = outcomes.filter((o) => o.status !== 200);
  if (bad.length > 0) throw new Error(`warming ${path}: ${bad.length} of ${connections} failed, e.g. ${JSON.stringify(bad[0])}`);
}

/**
 * Runs `clients` clients, each sending one request at a time (its next once
 * its last is answered) until `stop()` is called or it has sent `maxPerClient`.
 */
export function runClients(clients: number, maxPerClient: number, next: (client: number, n: number) => Promise<Outcome>) {
  const outcomes: Outcome[] = [];
  let stopped = false;
  const workers = Array.from({ length: clients }, async (_, client) => {
    for (let n = 0; n < maxPerClient && !stopped; n++) outcomes.push(await next(client, n));
  });
  const done = Promise.all(workers).then(() => undefined);
  return {
    outcomes,
    done,
    /** Stops every client after its current request; resolves once all are answered. */
    async stop(): Promise<void> {
      stopped = true;
      await done;
    },
  };
}

/** `process.memoryUsage()` of the child gateway, in bytes. */
export type Memory = NodeJS.MemoryUsage;

/** A gateway in a child process. */
export interface ChildGateway {
  base: string;
  pid: number;
  /** The child's memory now; after a full GC (the child runs with --expose-gc) when `gc` is set. */
  memory(gc?: boolean): Promise<Memory>;
  /** Closes the gateway and waits for the child to exit (SIGKILL by pid after 10 s). */
  close(): Promise<void>;
}

type ToChild = { type: "memory"; id: number; gc: boolean } | { type: "close" };
type FromChild = { type: "ready"; port: number } | { type: "memory"; id: number; usage: Memory } | { type: "failed"; message: string };

/** Forks this file as a gateway over `central` and `edge` with `settings`; resolves once it listens. */
export async function startChildGateway(central: string, edge: string, settings: Record<string, unknown>): Promise<ChildGateway> {
  const child: ChildProcess = fork(__filename, [], {
    execArgv: ["--import", "tsx", "--expose-gc"],
    env: { ...process.env, CLOUDLOOM_LOAD_CHILD: JSON.stringify({ central, edge, settings }) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const waiting = new Map<number, (usage: Memory) => void>();
  let ids = 0;
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code, signal) => reject(new Error(`the child gateway exited (${code ?? signal}) before listening`)));
    child.on("message", (message: FromChild) => {
      if (message.type === "ready") resolve(message.port);
      else if (message.type === "failed") reject(new Error(`the child gateway failed: ${message.message}`));
      else waiting.get(message.id)?.(message.usage);
    });
  });
  const tell = (message: ToChild) => child.send(message);
  return {
    base: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    memory(gc = false) {
      const id = ids++;
      return new Promise<Memory>((resolve) => {
        waiting.set(id, (usage) => {
          waiting.delete(id);
          resolve(usage);
        });
        tell({ type: "memory", id, gc });
      });
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      tell({ type: "close" });
      const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The child's side: a gateway over the parent's stubs, answering memory requests until told to close. */
async function serveChild(config: { central: string; edge: string; settings: Record<string, unknown> }): Promise<void> {
  const stub = (url: string) => ({ url }) as unknown as StubUpstream;
  const send = (message: FromChild) => process.send!(message);
  try {
    const { base, close } = await startGateway(gatewaySpec(), stub(config.central), stub(config.edge), config.settings);
    process.on("message", (message: ToChild) => {
      if (message.type === "memory") {
        if (message.gc) {
          const gc = (globalThis as { gc?: () => void }).gc!;
          gc();
          gc();
        }
        send({ type: "memory", id: message.id, usage: process.memoryUsage() });
      } else
        void close().finally(() => {
          process.disconnect();
          process.exit(0);
        });
    });
    // The parent going away ends the child too.
    process.once("disconnect", () => process.exit(0));
    send({ type: "ready", port: Number(new URL(base).port) });
  } catch (error) {
    send({ type: "failed", message: (error as Error).stack ?? String(error) });
    process.exit(1);
  }
}

if (process.env.CLOUDLOOM_LOAD_CHILD && process.send && require.main === module)
  void serveChild(JSON.parse(process.env.CLOUDLOOM_LOAD_CHILD) as { central: string; edge: string; settings: Record<string, unknown> });
