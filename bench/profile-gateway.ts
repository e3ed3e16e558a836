/**
 * Profiles the gateway under load, one path at a time: the upstream and the
 * gateway start as in the benchmark, a warm-up run is left out, and the
 * gateway's CPU profile covers one load run alone. Prints where each
 * request's time went (see support/cpu-profile.ts), scaled to the process's
 * CPU time per request, and keeps the profile, which Chrome DevTools or
 * speedscope open.
 *
 *   npm run bench:gateway:profile -- [stream|miss|hit|raw|hpm|undici|lru|fastify ...]   (BENCH_SECONDS=5 BENCH_CONNECTIONS=50)
 */
import { kill } from "node:process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatSummary, placeOf, summarise, type CallFrame, type CpuProfile } from "./support/cpu-profile";
import { load, startServer } from "./support/gateway-load";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const TOP = Number(process.env.PROFILE_TOP ?? 45);

/** What can be profiled: the gateway's three paths, and the proxies it is compared with (see support/gateway-servers.ts). */
/** Socket writes: their time is the kernel's (on loopback, the receiver's side of TCP too). */
const SOCKET_WRITES = new Set(["writev", "writeBuffer", "writeUtf8String", "writeLatin1String", "writeAsciiString"]);

/**
 * The part of the gateway a sample belongs to: the stage whose code is on its
 * stack (the backend call's continuations run in invoke.ts and backends/, the
 * cache's in response-cache.ts), else the machinery around the stages.
 */
function partOf(stack: readonly CallFrame[]): string {
  const leaf = stack[0];
  if (leaf.url === "" && SOCKET_WRITES.has(leaf.functionName)) return "kernel: socket writes";
  if (leaf.functionName === "(garbage collector)") return "garbage collection";
  for (const frame of stack) {
    const stage = /gateway\/stages\/([\w-]+)\.[jt]s$/.exec(frame.url)?.[1];
    if (stage) return `stage: ${stage}`;
    if (/gateway\/(invoke|backends\/)/.test(frame.url)) return "stage: call-backend";
    if (/gateway\/response-cache/.test(frame.url)) return "stage: cache";
    if (/gateway\/gateway\.[jt]s$/.test(frame.url)) return "the stage loop (gateway.ts)";
  }
  const place = placeOf(leaf.url, leaf.functionName);
  if (/^(undici|http-proxy|http-proxy-middleware|eventemitter3|node:_http_client|node:_http_agent|wasm:)/.test(place))
    return "upstream client, off a stage's stack";
  if (place.startsWith("node:") || place === "(native)") return "Node: HTTP server, streams, event loop";
  if (place === "(program)") return "V8 and native code outside JS";
  return `other: ${place}`;
}

const PATHS: Record<string, { server: string; path: string; unique: boolean }> = {
  stream: { server: "gateway", path: "/v1/classify", unique: false },
  miss: { server: "gateway", path: "/v1/cached", unique: true },
  hit: { server: "gateway", path: "/v1/cached", unique: false },
  raw: { server: "raw", path: "/v1/classify", unique: false },
  hpm: { server: "hpm", path: "/v1/classify", unique: false },
  undici: { server: "undici", path: "/v1/classify", unique: false },
  lru: { server: "lru", path: "/v1/cached", unique: false },
  fastify: { server: "fastify", path: "/v1/classify", unique: false },
};

async function profile(name: string): Promise<void> {
  const { server, path, unique } = PATHS[name];
  const file = join(mkdtempSync(join(tmpdir(), "cloudloom-profile-")), `${name}.cpuprofile`);
  const upstream = await startServer("upstream", 1);
  const gateway = await startServer(server, 0, upstream.url, { CPU_PROFILE: file });
  const url = `${gateway.url}${path}`;
  await load(name, url, { connections: CONNECTIONS, seconds: 2, unique }); // warm-up, not profiled
  kill(gateway.pid, "SIGUSR2");
  await new Promise((resolve) => setTimeout(resolve, 200));
  const row = await load(name, url, { connections: CONNECTIONS, seconds: SECONDS, unique, watchPid: gateway.pid });
  await gateway.stop();
  await upstream.stop();
  const profiled = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const summary = summarise(profiled, row.requests, row.cpuUsPerRequest, server === "gateway" ? partOf : undefined);
  console.log(
    `\n## ${name}: ${url}, ${row.rps.toFixed(0)} req/s, ${row.requests} requests profiled, ${row.cpuUsPerRequest?.toFixed(1) ?? "n/a"} µs CPU per request${row.errors ? `, errors ${row.errors}` : ""}`,
  );
  console.log(`profile: ${file}`);
  console.log(formatSummary(summary, TOP));
}

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  for (const name of names.length > 0 ? names : Object.keys(PATHS)) {
    if (!PATHS[name]) throw new Error(`unknown path "${name}": one of ${Object.keys(PATHS).join(", ")}`);
    await profile(name);
  }
}

void main();
