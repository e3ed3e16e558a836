/**
 * A real redis-server on a free loopback port, for tests of Redis-backed
 * features. Without redis-server installed the suite skips, except under
 * CI=true, where a missing service is a failure.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import type { Context } from "mocha";

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server the test controls. */
export class RedisServer {
  private child?: ChildProcess;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it and waits until it answers PING. */
  async start(): Promise<void> {
    this.child = spawn("redis-server", ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    for (let i = 0; i < 100; i++) {
      if (spawnSync("redis-cli", ["-p", String(this.port), "ping"], { encoding: "utf8" }).stdout?.trim() === "PONG") return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /**
   * Freezes it with SIGSTOP, as a stalled host would: connections stay open but
   * nothing is answered. Resolves once the kernel reports the process stopped.
   */
  async freeze(): Promise<void> {
    await this.signal("SIGSTOP", (state) => state === "T");
  }

  /** Resumes a frozen server with SIGCONT; resolves once it runs again. */
  async thaw(): Promise<void> {
    await this.signal("SIGCONT", (state) => state !== "T");
  }

  /** Sends `signal` and waits until the process state in /proc satisfies `reached`. */
  private async signal(signal: NodeJS.Signals, reached: (state: string) => boolean): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error("redis-server is not running");
    process.kill(pid, signal);
    const stateOf = () => /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, "utf8"))?.[1] ?? "";
    while (!reached(stateOf())) await new Promise((r) => setTimeout(r, 5));
  }

  /** Stops it (as an outage would). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }
}

/** True when redis-server is on PATH. */
export function hasRedis(): boolean {
  return spawnSync("redis-server", ["--version"]).status === 0;
}

/** Starts a redis-server for a suite, or skips it locally (never under CI=true). */
export async function redisForSuite(context: Context): Promise<RedisServer | undefined> {
  if (!hasRedis()) {
    if (process.env.CI === "true")
      throw new Error("redis-server is not installed, and CI=true makes that a failure: install it (apt-get install redis-server)");
    context.skip();
    return undefined;
  }
  const server = new RedisServer(await freePort());
  await server.start();
  return server;
}
