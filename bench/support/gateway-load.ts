/**
 * What the gateway benchmark and its profiler share: starting the compared
 * servers (gateway-servers.ts) one per process, pinned to a core when
 * `taskset` works, loading one of them with wrk (apt-get install wrk) or,
 * without it, autocannon, sampling a server's resident memory while it is
 * loaded, and nginx with limit_req and proxy_cache when it is installed.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { BENCH_KEY } from "./bench-key";

/** True when servers can be pinned to cores (the server under test on core 0, upstream and load on core 1). */
export const pinned = spawnSync("taskset", ["-c", "0", "true"]).status === 0;

/** True when wrk is installed; otherwise autocannon loads. */
export const hasWrk = spawnSync("wrk", ["--version"]).error === undefined;

const children: ChildProcess[] = [];
process.on("exit", () => children.forEach((child) => child.kill()));

function onCore(core: number, command: string, args: string[]): [string, string[]] {
  return pinned ? ["taskset", ["-c", String(core), command, ...args]] : [command, args];
}

/** A server under test, in its own process. */
export interface Server {
  url: string;
  pid: number;
  /** Ends the process (SIGINT); resolves once it exited, its CPU profile written if it took one. */
  stop(): Promise<void>;
}

/** Starts gateway-servers.ts's `kind` on `core`, with `env` added to the environment (e.g. CPU_PROFILE). */
export async function startServer(kind: string, core: number, upstream = "", env: NodeJS.ProcessEnv = {}): Promise<Server> {
  const [command, args] = onCore(core, process.execPath, ["--import", "tsx", join(__dirname, "gateway-servers.ts"), kind, upstream]);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } });
  children.push(child);
  const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
  return {
    url: `http://127.0.0.1:${line.trim()}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGINT");
      await exited;
    },
  };
}

/** One load run's outcome. */
export interface Row {
  name: string;
  rps: number;
  requests: number;
  p50: number;
  p99: number;
  errors: number;
  /** Highest resident memory of the watched process during the run, MB. */
  peakRssMb?: number;
  /** CPU time (all threads, user and system) the watched process spent per request served, µs. */
  cpuUsPerRequest?: number;
}

/** A wrk script posting `body`; with `unique`, each request's message differs (cache misses). */
function wrkScript(body: string, unique: boolean): string {
  const file = join(mkdtempSync(join(tmpdir(), "cloudloom-wrk-")), "post.lua");
  const request = unique
    ? `counter = 0\nrequest = function()\n  counter = counter + 1\n  return wrk.format(nil, nil, nil, '{"message":"m' .. counter .. '-' .. math.random(1e9) .. '"}')\nend\n`
    : `wrk.body = '${body}'\n`;
  writeFileSync(
    file,
    `wrk.method = "POST"\nwrk.headers["content-type"] = "application/json"\nwrk.headers["authorization"] = "Bearer ${BENCH_KEY}"\n${request}`,
  );
  return file;
}

/** Parses wrk's --latency summary. */
function parseWrk(name: string, output: string): Row {
  const ms = (label: string) => {
    const match = new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`).exec(output);
    if (!match) return NaN;
    return Number(match[1]) * (match[2] === "us" ? 0.001 : match[2] === "s" ? 1000 : 1);
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(output)?.[1]);
  const errors =
    Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0) +
    Number(
      /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
        .exec(output)
        ?.slice(1)
        .reduce((a, b) => a + Number(b), 0) ?? 0,
    );
  return { name, rps, requests, p50: ms("50"), p99: ms("99"), errors };
}

function parseAutocannon(name: string, output: string): Row {
  const report = JSON.parse(output) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    errors: number;
    non2xx: number;
  };
  return {
    name,
    rps: report.requests.average,
    requests: report.requests.total,
    p50: report.latency.p50,
    p99: report.latency.p99,
    errors: report.errors + report.non2xx,
  };
}

/** Resident memory of process `pid`, MB (undefined where /proc cannot say). */
export function rssMb(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

const TICKS_PER_SECOND = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** CPU time process `pid` has used so far (user + system, all threads), µs; undefined where /proc cannot say. */
export function cpuUs(pid: number): number | undefined {
  try {
    // The fields after the command name (which may hold spaces) start at the state, field 3; utime and stime are 14 and 15.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1e6;
  } catch {
    return undefined;
  }
}

/** Busy and total jiffies of `core` so far, from /proc/stat; undefined where it cannot say. */
function coreJiffies(core: number): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8")
      .split("\n")
      .find((row) => row.startsWith(`cpu${core} `));
    if (!line) return undefined;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, total: busy + idle + iowait };
  } catch {
    return undefined;
  }
}

const SETTLE_WINDOW_MS = 200;
const SETTLE_BUSY_SHARE = 0.1;
const SETTLE_MAX_MS = 5_000;

/**
 * Waits until the server core is quiet: a Node server whose load just ended
 * still burns 20–60 ms of CPU there within the next seconds (its collector,
 * its sockets closing), which would land in the next row and tax whichever
 * server follows it. Every row waits the same way: until one 200 ms window
 * of core 0 is at most 10 % busy, or 5 s. Returns the milliseconds waited.
 */
async function settleServerCore(): Promise<number> {
  if (!pinned) return 0;
  const started = Date.now();
  while (Date.now() - started < SETTLE_MAX_MS) {
    const before = coreJiffies(0);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_WINDOW_MS));
    const after = coreJiffies(0);
    if (!before || !after) return 0;
    const total = after.total - before.total;
    if (total > 0 && (after.busy - before.busy) / total <= SETTLE_BUSY_SHARE) break;
  }
  return Date.now() - started;
}

/** How one load run goes. */
export interface LoadOptions {
  connections: number;
  seconds: number;
  /** Each request's body differs (cache misses). */
  unique?: boolean;
  /** A process whose CPU time per request and peak resident memory are measured while the load runs. */
  watchPid?: number;
}

/** Once the server core is quiet, posts the bench's body to `url` with wrk (or autocannon) on core 1 for `seconds`. */
export async function load(name: string, url: string, options: LoadOptions): Promise<Row> {
  const { connections, seconds, unique = false } = options;
  await settleServerCore();
  const body = unique ? '{"message":"[<id>]"}' : '{"message":"I was charged twice"}';
  const [command, args] = hasWrk
    ? onCore(1, "wrk", ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", "-s", wrkScript(body, unique), url])
    : onCore(1, process.execPath, [
        join(__dirname, "../../node_modules/autocannon/autocannon.js"),
        ...["-c", String(connections), "-d", String(seconds), "-m", "POST", "-H", "content-type=application/json"],
        ...["-H", `authorization=Bearer ${BENCH_KEY}`, "-b", body, "--json", ...(unique ? ["--idReplacement"] : []), url],
      ]);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "ignore"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  let peak: number | undefined;
  const sample = () => {
    const now = options.watchPid === undefined ? undefined : rssMb(options.watchPid);
    if (now !== undefined) peak = Math.max(peak ?? 0, now);
  };
  const sampler = setInterval(sample, 250);
  const cpuBefore = options.watchPid === undefined ? undefined : cpuUs(options.watchPid);
  await once(child, "exit");
  const cpuAfter = options.watchPid === undefined ? undefined : cpuUs(options.watchPid);
  clearInterval(sampler);
  const row = hasWrk ? parseWrk(name, output) : parseAutocannon(name, output);
  if (peak !== undefined) row.peakRssMb = peak;
  if (cpuBefore !== undefined && cpuAfter !== undefined && row.requests > 0) row.cpuUsPerRequest = (cpuAfter - cpuBefore) / row.requests;
  return row;
}

/** The one child process of `pid` (nginx's worker), where /proc says. */
function workerOf(pid: number): number | undefined {
  try {
    const [first] = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/);
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

/** nginx with limit_req (/limit) and proxy_cache (/cached) in front of `upstream`, on core 0, when nginx is installed. */
export async function startNginx(upstream: string): Promise<Server | undefined> {
  if (spawnSync("nginx", ["-v"]).status !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "cloudloom-nginx-"));
  chmodSync(dir, 0o777); // nginx's workers run as an unprivileged user and write temp and cache files here
  const port = 18_000 + Math.floor(Math.random() * 1_000);
  const target = new URL(upstream);
  writeFileSync(
    join(dir, "nginx.conf"),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream up { server ${target.host}; keepalive 64; }
  limit_req_zone $binary_remote_addr zone=perip:10m rate=1000000r/s;
  proxy_cache_path ${dir}/cache keys_zone=cache:10m;
  server {
    listen 127.0.0.1:${port};
    location /limit { limit_req zone=perip burst=100000 nodelay; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://up/_cloudloom/functions/classify; }
    location /cached { proxy_cache cache; proxy_cache_methods POST; proxy_cache_key $request_body; proxy_cache_valid 200 10m; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://up/_cloudloom/functions/classify; }
  }
}
`,
  );
  const [command, args] = onCore(0, "nginx", ["-c", join(dir, "nginx.conf"), "-g", "daemon off;"]);
  const child = spawn(command, args, { stdio: "ignore" });
  children.push(child);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  return {
    url: `http://127.0.0.1:${port}`,
    // The worker serves (the master only manages it), so its CPU time is the one per request.
    pid: workerOf(child.pid!) ?? child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, "exit");
      child.kill();
      await exited;
    },
  };
}
