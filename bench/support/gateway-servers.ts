/**
 * The servers the gateway benchmark compares, one per process:
 *   upstream   keep-alive node:http answering like a function pod
 *   raw        node:http proxy with a keep-alive agent
 *   fastify    fastify + @fastify/http-proxy, nothing enabled
 *   hpm        http-proxy-middleware alone on node:http, used as cheaply as
 *              it can be (one proxy built once, a parsed target, no path
 *              parsing, a keep-alive agent, no plugins): the floor of any
 *              streaming path built on it
 *   undici     an undici Pool's stream() alone on node:http: the same floor
 *              for undici
 *   lru        node:http answering from an LRU keyed by the body, upstream
 *              on a miss: the floor of a cache hit in Node
 *   gateway    cloudloom's gateway, full pipeline
 * Prints the port on stdout. With CPU_PROFILE=<file>, SIGUSR2 starts a CPU
 * profile and SIGINT writes it there before exiting, so the profile holds
 * the load alone, not start-up or warm-up.
 */
import { writeFileSync } from "node:fs";
import { Agent, createServer, request, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import { Session } from "node:inspector";
import type { AddressInfo } from "node:net";
import { createProxyMiddleware } from "http-proxy-middleware";
import { LRUCache } from "lru-cache";
import pino from "pino";
import { Pool } from "undici";
import { composeGateway } from "../../cli/compose-gateway";
import { parseSettings } from "../../gateway/config";
import { keepHeapHeadroom } from "../../runtime";
import { App } from "../../sdk";
import { BENCH_KEY } from "./bench-key";

const [kind, upstream] = process.argv.slice(2);

function upstreamServer(): void {
  const body = Buffer.from(JSON.stringify({ intent: "billing", confidence: 0.98, queue: "finance" }));
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => console.log((server.address() as AddressInfo).port));
}

function rawProxy(): void {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const server = createServer((req, res) => {
    const proxied = request(
      { host: target.hostname, port: target.port, path: "/_cloudloom/functions/classify", method: req.method, headers: req.headers, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    proxied.on("error", () => res.writeHead(502).end());
    req.pipe(proxied);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => console.log((server.address() as AddressInfo).port));
}

function hpmProxy(): void {
  const target = new URL(upstream);
  const proxy = createProxyMiddleware({
    target: { protocol: target.protocol, host: target.hostname, hostname: target.hostname, port: target.port },
    toProxy: true,
    changeOrigin: true,
    agent: new Agent({ keepAlive: true, maxSockets: 256 }),
    pathRewrite: () => "/_cloudloom/functions/classify",
    ejectPlugins: true,
  });
  const server = createServer((req, res) => void proxy(req as never, res as never, () => res.writeHead(502).end()));
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => console.log((server.address() as AddressInfo).port));
}

function undiciProxy(): void {
  const pool = new Pool(upstream, { connections: 128 });
  const toClient = ({ statusCode, headers, opaque }: { statusCode: number; headers: IncomingHttpHeaders; opaque: unknown }) => {
    const res = opaque as ServerResponse;
    res.writeHead(statusCode, headers);
    return res;
  };
  const server = createServer((req, res) => {
    pool
      .stream({ path: "/_cloudloom/functions/classify", method: "POST", headers: req.headers, body: req, opaque: res }, toClient)
      .catch(() => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => console.log((server.address() as AddressInfo).port));
}

function lruCache(): void {
  const pool = new Pool(upstream, { connections: 128 });
  const cache = new LRUCache<string, { headers: Record<string, string>; body: Buffer }>({ max: 10_000 });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const key = Buffer.concat(chunks).toString("latin1");
      const hit = cache.get(key);
      if (hit) return void res.writeHead(200, hit.headers).end(hit.body);
      void pool.request({ path: "/_cloudloom/functions/classify", method: "POST", headers: req.headers, body: key }).then(async (up) => {
        const body = Buffer.from(await up.body.arrayBuffer());
        const headers = { "content-type": String(up.headers["content-type"]), "content-length": String(body.length) };
        cache.set(key, { headers, body });
        res.writeHead(up.statusCode, headers).end(body);
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => console.log((server.address() as AddressInfo).port));
}

async function fastifyProxy(): Promise<void> {
  const fastify = (await import("fastify")).default({ logger: false });
  await fastify.register((await import("@fastify/http-proxy")).default, {
    upstream,
    prefix: "/v1/classify",
    rewritePrefix: "/_cloudloom/functions/classify",
  });
  await fastify.listen({ port: 0, host: "127.0.0.1" });
  console.log((fastify.server.address() as AddressInfo).port);
}

async function gateway(): Promise<void> {
  keepHeapHeadroom(); // as `cloudloom serve` does
  const app = new App("bench");
  const central = app.region("central", { kind: "central", placement: {} });
  const classify = app.function("classify", { handler: "classify.ts", regions: [central] });
  const rateLimit = { requests: 10_000_000, per: "1 minute" as const, key: "api-key" as const };
  app.route("POST /v1/classify", { target: classify, rateLimit });
  app.route("POST /v1/cached", { target: classify, rateLimit, cache: { ttl: "10 minutes" } });
  const spec = app.toSpec({ root: undefined });
  const endpoints = { functions: { classify: { central: upstream } }, models: {} };
  const settings = parseSettings({
    apiKeys: [BENCH_KEY],
    logSampleRate: 0.001,
    limits: { perKeyConcurrency: 1024 },
    health: { probeIntervalMs: 60_000 },
  });
  const { gateway: server } = composeGateway({ spec, settings, source: { kind: "remote", endpoints }, logger: pino({ level: "warn" }) });
  console.log((await server.listen(0)).port);
}

const servers: Record<string, () => void | Promise<void>> = {
  upstream: upstreamServer,
  raw: rawProxy,
  hpm: hpmProxy,
  undici: undiciProxy,
  lru: lruCache,
  fastify: fastifyProxy,
  gateway,
};
/** Profiles on SIGUSR2, until SIGINT writes the profile to `file`. */
function profileOnSignal(file: string): void {
  const session = new Session();
  session.connect();
  let profiling = false;
  process.on("SIGUSR2", () => {
    session.post("Profiler.enable", () =>
      session.post("Profiler.setSamplingInterval", { interval: 100 }, () => session.post("Profiler.start", () => (profiling = true))),
    );
  });
  process.on("SIGINT", () => {
    if (!profiling) process.exit(0);
    session.post("Profiler.stop", (error, result) => {
      if (!error) writeFileSync(file, JSON.stringify(result.profile));
      process.exit(0);
    });
  });
}

void servers[kind]();
if (process.env.CPU_PROFILE) profileOnSignal(process.env.CPU_PROFILE);
else process.on("SIGINT", () => process.exit(0));
