/** `cloudloom serve` as a child process, in an environment free of the machine's keys and credentials. */
import { spawn, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";

/** The repository's root, where serve runs. */
export const ROOT = resolve(__dirname, "../..");
const BIN = join(ROOT, "cli/bin.js");

/** An environment without API keys or credentials of the machine running the tests. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_FORMAT: "json", ...extra };
  for (const name of [
    "CLOUDLOOM_API_KEYS",
    "CLOUDLOOM_JWT_PRIVATE_KEY",
    "CLOUDLOOM_JWT_JWKS",
    "CLOUDLOOM_METRICS_TOKEN",
    "CLOUDLOOM_ADMIN_KEY",
    "PORT",
  ])
    if (!(name in extra)) delete env[name];
  return env;
}

/** A running `cloudloom serve` child and what it printed. */
export class Serve {
  readonly child: ChildProcess;
  out = "";
  err = "";
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: NodeJS.ProcessEnv = cleanEnv()) {
    this.child = spawn(process.execPath, [BIN, "serve", ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout!.on("data", (chunk: Buffer) => (this.out += chunk.toString()));
    this.child.stderr!.on("data", (chunk: Buffer) => (this.err += chunk.toString()));
    this.exited = new Promise((done) => this.child.on("exit", (code) => done(code)));
  }

  /** Resolves with the base URL once serve says where it listens; rejects if it exits first. */
  async started(): Promise<string> {
    for (;;) {
      const match = / on (http:\/\/[\d.]+:\d+)/.exec(this.out);
      if (match) return match[1];
      if (this.child.exitCode !== null) throw new Error(`serve exited ${this.child.exitCode}:\n${this.out}\n${this.err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Resolves once stdout matches `pattern`. */
  async printed(pattern: RegExp): Promise<void> {
    while (!pattern.test(this.out)) {
      if (this.child.exitCode !== null)
        throw new Error(`serve exited ${this.child.exitCode} before printing ${pattern}:\n${this.out}\n${this.err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops it with SIGTERM and returns its exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
    return this.exited;
  }
}
