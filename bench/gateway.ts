/**
 * Gateway benchmark: direct upstream, a raw node proxy, fastify +
 * @fastify/http-proxy, and cloudloom's gateway (full pipeline on a cache
 * miss, without a cache, and on a cache hit), all in one run at fixed
 * connections and duration, with wrk (apt-get install wrk) or, without it,
 * autocannon. The server under test runs alone on core 0; the upstream and
 * the load generator share core 1.
 *
 *   npm run bench:gateway   (BENCH_SECONDS=10 BENCH_CONNECTIONS=50)
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { BENCH_KEY } from "./support/bench-key";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const pinned = spawnSync("taskset", ["-c", "0", "true"]).status === 0;
const children: ChildProcess[] = [];

function onCore(core: number, command: string, args: string[]): [string, string[]] {
  return pinned ? ["taskset", ["-c", String(core), command, ...args]] : [command, args];
}

async function start(kind: string, core: number, upstream = ""): Promise<string> {
  const [command, args] = onCore(core, process.execPath, [
    "--import",
    "tsx",
    join(__dirname, "support/gateway-servers.ts"),
    kind,
    upstream,
  ]);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
  return `http://127.0.0.1:${line.trim()}`;
}

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

const hasWrk = spawnSync("wrk", ["--version"]).error === undefined;

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
  const errors =
    Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0) +
    Number(
      /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
        .exec(output)
        ?.slice(1)
        .reduce((a, b) => a + Number(b), 0) ?? 0,
    );
  return { name, rps, p50: ms("50"), p99: ms("99"), errors };
}

function load(name: string, url: string, body: string, unique = false): Row {
  if (hasWrk) {
    const [command, args] = onCore(1, "wrk", ["-t1", `-c${CONNECTIONS}`, `-d${SECONDS}s`, "--latency", "-s", wrkScript(body, unique), url]);
    return parseWrk(name, spawnSync(command, args, { encoding: "utf8" }).stdout);
  }
  const args = [
    "-c",
    String(CONNECTIONS),
    "-d",
    String(SECONDS),
    "-m",
    "POST",
    "-H",
    "content-type=application/json",
    "-H",
    `authorization=Bearer ${BENCH_KEY}`,
    "-b",
    body,
    "--json",
    ...(unique ? ["--idReplacement"] : []),
    url,
  ];
  const [command, full] = onCore(1, process.execPath, [join(__dirname, "../node_modules/autocannon/autocannon.js"), ...args]);
  const result = spawnSync(command, full, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const report = JSON.parse(result.stdout) as {
    requests: { average: number };
    latency: { p50: number; p99: number };
    errors: number;
    non2xx: number;
  };
  return { name, rps: report.requests.average, p50: report.latency.p50, p99: report.latency.p99, errors: report.errors + report.non2xx };
}

/** nginx with limit_req and proxy_cache in front of the upstream, when nginx is installed. */
function startNginx(upstream: string): { url: string; stop: () => void } | undefined {
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
  spawnSync("sleep", ["1"]);
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

async function main(): Promise<void> {
  const upstream = await start("upstream", 1);
  const [raw, fastify, gateway] = [
    await start("raw", 0, upstream),
    await start("fastify", 0, upstream),
    await start("gateway", 0, upstream),
  ];
  const body = '{"message":"I was charged twice"}';
  const rows: Row[] = [];
  const run = (name: string, url: string, unique = false) => {
    load(name, url, unique ? '{"message":"[<id>]"}' : body, unique); // warm-up, discarded
    rows.push(load(name, url, unique ? '{"message":"[<id>]"}' : body, unique));
  };
  run("direct upstream", `${upstream}/_cloudloom/functions/classify`);
  run("raw node proxy (keep-alive)", `${raw}/v1/classify`);
  run("fastify + @fastify/http-proxy", `${fastify}/v1/classify`);
  run("cloudloom: auth+limit+routing+proxy+metrics", `${gateway}/v1/classify`);
  run("cloudloom: full pipeline, cache miss", `${gateway}/v1/cached`, true);
  run("cloudloom: cache hit", `${gateway}/v1/cached`);
  const nginx = startNginx(upstream);
  if (nginx) {
    run("nginx proxy + limit_req", `${nginx.url}/limit`);
    run("nginx proxy_cache hit", `${nginx.url}/cached`);
    nginx.stop();
  }
  for (const child of children) child.kill();
  const raw_ = rows[1];
  const fastify_ = rows[2];
  console.log(
    `\n${hasWrk ? "wrk" : "autocannon"}, ${CONNECTIONS} connections, ${SECONDS} s each${pinned ? "; server on core 0, upstream and load on core 1" : ""}\n`,
  );
  console.log("| path | req/s | p50 ms | p99 ms | × raw | × fastify | p99 × raw |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const row of rows) {
    console.log(
      `| ${row.name} | ${row.rps.toFixed(0)} | ${row.p50.toFixed(2)} | ${row.p99.toFixed(2)} | ${(row.rps / raw_.rps).toFixed(2)} | ${(row.rps / fastify_.rps).toFixed(2)} | ${(row.p99 / raw_.p99).toFixed(2)} |${row.errors ? ` errors: ${row.errors}` : ""}`,
    );
  }
  if (!nginx) console.log("\nnginx is not installed; its rows are skipped (apt-get install nginx).");
}

process.on("exit", () => children.forEach((child) => child.kill()));
void main();
