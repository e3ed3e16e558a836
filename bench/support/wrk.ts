/**
 * Load from wrk (apt-get install wrk) when it is installed: closed-loop
 * clients in C, which leave the server most of a 2-core machine where the
 * Node load generator (load.ts) takes a quarter of it. Without wrk, `load`
 * falls back to load.ts.
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { runLoad, type LoadResult } from "./load";

/** Whether wrk is on the PATH. */
export const hasWrk = spawnSync("wrk", ["--version"]).error === undefined;

/** A wrk script posting `body` as JSON (a Lua long string: JSON never holds "]]" but inside a string). */
function postScript(body: string): string {
  if (body.includes("]]")) throw new Error('the body holds "]]", which ends a Lua long string');
  const file = join(mkdtempSync(join(tmpdir(), "cloudloom-wrk-")), "post.lua");
  writeFileSync(file, `wrk.method = "POST"\nwrk.headers["content-type"] = "application/json"\nwrk.body = [[${body}]]\n`);
  return file;
}

/** Milliseconds in one of wrk's latency figures ("812.00us", "3.10ms", "1.02s"). */
function ms(value: string, unit: string): number {
  return Number(value) * (unit === "us" ? 0.001 : unit === "s" ? 1000 : 1);
}

/** Parses wrk's --latency report. */
export function parseWrk(output: string): LoadResult {
  const percent = (p: number) => {
    const match = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(output);
    if (!match) throw new Error(`wrk printed no ${p}% latency:\n${output}`);
    return ms(match[1], match[2]);
  };
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(output);
  if (!total) throw new Error(`wrk printed no request count:\n${output}`);
  const elapsedMs = total[3] === "m" ? Number(total[2]) * 60_000 : ms(total[2], total[3]);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const errors =
    Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0) + (socketErrors?.slice(1).reduce((sum, n) => sum + Number(n), 0) ?? 0);
  const requests = Number(total[1]);
  return { requests, errors, rps: (requests / elapsedMs) * 1000, p50: percent(50), p99: percent(99), elapsedMs };
}

const scripts = new Map<string, string>();

/** `connections` closed-loop clients posting `body` to `origin` + `path` for `seconds` (whole seconds), with wrk or else load.ts. */
export async function load(origin: string, path: string, body: string, connections: number, seconds: number): Promise<LoadResult> {
  if (!hasWrk) return runLoad(origin, path, body, connections, seconds * 1000);
  if (!scripts.has(body)) scripts.set(body, postScript(body));
  const args = [
    "-t1",
    `-c${connections}`,
    `-d${Math.max(1, Math.round(seconds))}s`,
    "--latency",
    "-s",
    scripts.get(body)!,
    `${origin}${path}`,
  ];
  const { stdout } = await promisify(execFile)("wrk", args);
  return parseWrk(stdout);
}
