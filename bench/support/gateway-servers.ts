/**
 * The servers the gateway benchmark compares, one per process:
 *   upstream   keep-alive node:http answering like a function pod
 *   raw        node:http proxy with a keep-alive agent
 *   fastify    fastify + @fastify/http-proxy, nothing enabled
 *   gateway    cloudloom's gateway, full pipeline
 * Prints the port on stdout.
 */
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { composeGateway } from "../../cli/compose-gateway";
import { parseSettings } from "../../gateway/config";
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

const servers: Record<string, () => void | Promise<void>> = { upstream: upstreamServer, raw: rawProxy, fastify: fastifyProxy, gateway };
void servers[kind]();
process.on("SIGINT", () => process.exit(0));
