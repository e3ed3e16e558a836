/** A spec and helpers for gateway tests: routes of every kind over stub upstreams. */
import pino from "pino";
import { composeGateway } from "../../cli/compose-gateway";
import type { Gateway } from "../../gateway/gateway";
import { parseSettings } from "../../gateway/config";
import { App, type SpecV1 } from "../../sdk";
import { redisForSuite, type RedisServer } from "./redis";
import { METRICS_TOKEN } from "./metrics-token";
import { StubUpstream } from "./upstream";

/** API keys of two tenants. */
export const KEY_A = "key-a-0123456789abcdef";
export const KEY_B = "key-b-0123456789abcdef";

/** The gateway test app's spec. */
export function gatewaySpec(weights: { v1: number; v2: number } = { v1: 90, v2: 10 }): SpecV1 {
  const app = new App("gw");
  const central = app.region("central", { kind: "central", placement: {} });
  const edge = app.region("edge", { kind: "edge", localities: ["de"], placement: {} });
  const signature = {
    inputs: { x: { type: "float32" as const, shape: [-1, 1] } },
    outputs: { y: { type: "float32" as const, shape: [-1, 1] } },
  };
  const artifact = { path: "m.onnx", sha256: "a".repeat(64) };
  const v1 = app.model("m", { version: "1", artifact, signature, regions: [central] });
  const v2 = app.model("m", { version: "2", artifact, signature, regions: [central] });
  const fn = (name: string) => app.function(name, { handler: `${name}.ts`, regions: [central, edge] });
  app.route("POST /echo", { target: fn("echo"), cache: { ttl: "30 seconds", varyHeaders: ["accept-language"] } });
  app.route("POST /open", { target: fn("open"), auth: "none" });
  app.route("POST /limited", {
    target: fn("limited"),
    rateLimit: { requests: 10, per: "1 minute", key: "api-key", onStoreFailure: "local" },
  });
  app.route("POST /by-ip", { target: fn("byip"), auth: "none", rateLimit: { requests: 2, per: "1 minute", key: "ip" } });
  app.route("POST /fail-open", {
    target: fn("failopen"),
    auth: "none",
    rateLimit: { requests: 2, per: "1 minute", key: "route", onStoreFailure: "open" },
  });
  app.route("POST /fail-closed", {
    target: fn("failclosed"),
    auth: "none",
    rateLimit: { requests: 2, per: "1 minute", key: "route", onStoreFailure: "closed" },
  });
  app.route("POST /fail-local", {
    target: fn("faillocal"),
    auth: "none",
    rateLimit: { requests: 2, per: "1 minute", key: "route", onStoreFailure: "local" },
  });
  app.route("POST /model", {
    target: {
      strategy: "canary",
      versions: [
        { model: v1, weight: weights.v1 },
        { model: v2, weight: weights.v2 },
      ],
    },
    auth: "none",
  });
  return app.toSpec({ root: undefined });
}

/** Endpoints of every function and model version: central and edge stubs. */
export function endpointsFor(spec: SpecV1, central: StubUpstream, edge: StubUpstream) {
  const functions = Object.fromEntries(Object.keys(spec.functions).map((name) => [name, { central: central.url, edge: edge.url }]));
  const models = Object.fromEntries(Object.keys(spec.models).map((key) => [key, { central: central.url }]));
  return { functions, models };
}

/** Starts a gateway over the stubs, connected to its Redis when it has one; returns it, its base URL, and what closes it and its Redis client. */
export async function startGateway(
  spec: SpecV1,
  central: StubUpstream,
  edge: StubUpstream,
  settings: Record<string, unknown> = {},
): Promise<{ gateway: Gateway; base: string; close: () => Promise<void> }> {
  const { gateway, connected, close } = composeGateway({
    spec,
    settings: parseSettings({ apiKeys: [KEY_A, KEY_B], health: { probeIntervalMs: 60_000 }, metricsToken: METRICS_TOKEN, ...settings }),
    source: { kind: "remote", endpoints: endpointsFor(spec, central, edge) },
    logger: pino({ level: "silent" }),
  });
  await connected();
  const { port } = await gateway.listen(0);
  return { gateway, base: `http://127.0.0.1:${port}`, close };
}

/** POSTs JSON with optional API key and headers. */
export function post(
  base: string,
  path: string,
  body: unknown = {},
  key?: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: JSON.stringify(body),
  });
}

/** A started gateway instance. */
export interface StartedGateway {
  gateway: Gateway;
  base: string;
  close: () => Promise<void>;
}

/** What a suite's tests run against, made afresh for each test by `gatewayRig`. */
export interface GatewayRig {
  central: StubUpstream;
  edge: StubUpstream;
  /** The redis-server the instances share, when the rig has one. */
  redis?: RedisServer;
  /** Every instance, in start order. */
  gateways: StartedGateway[];
  /** The first instance. */
  gateway: Gateway;
  base: string;
}

/** What a rig runs: the spec, how many gateway instances, whether they share a real redis-server, and their settings. */
export interface GatewayRigOptions {
  spec?: () => SpecV1;
  instances?: number;
  redis?: boolean;
  settings?: Record<string, unknown>;
}

/**
 * Registers hooks that give each test of the suite fresh central and edge
 * stubs, a real redis-server when asked (skipped locally without one, a
 * failure under CI), and gateways over them; all are closed after the test.
 */
export function gatewayRig(options: GatewayRigOptions = {}): GatewayRig {
  const rig = { gateways: [] as StartedGateway[] } as GatewayRig;
  beforeEach(async function () {
    rig.redis = options.redis ? await redisForSuite(this) : undefined;
    rig.central = await new StubUpstream("central").start();
    rig.edge = await new StubUpstream("edge").start();
    const { redis, ...rest } = options.settings ?? {};
    const settings = rig.redis ? { ...rest, redis: { url: rig.redis.url, ...(redis as object) } } : rest;
    rig.gateways = [];
    for (let i = 0; i < (options.instances ?? 1); i++)
      rig.gateways.push(await startGateway((options.spec ?? gatewaySpec)(), rig.central, rig.edge, settings));
    ({ gateway: rig.gateway, base: rig.base } = rig.gateways[0]);
  });
  afterEach(async () => {
    await rig.redis?.thaw().catch(() => undefined);
    await Promise.all(rig.gateways.map(({ close }) => close()));
    await rig.central?.kill();
    await rig.edge?.kill();
    await rig.redis?.stop();
  });
  return rig;
}
